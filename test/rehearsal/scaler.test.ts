import { decide, type ScalingPolicy } from '../../rehearsal/scaler';
import type { Capacity } from '../../lambda/shared/scaling';

const policy: ScalingPolicy = {
  requestsPerTaskPerSecond: 10,
  windowSeconds: 2,
  scaleOutCooldownSeconds: 2,
  scaleInCooldownSeconds: 5,
};
const auto: Capacity = { min: 2, max: 6, scaleInSuspended: false, desired: 2 };

/** `rate` requests per second to the color, over the policy's window. */
const at = (rate: number) => rate * policy.windowSeconds;

describe("the local scaler's target tracking (requests per task per second)", () => {
  test('scales out to ceil(count × metric / target), within the max', () => {
    // 2 tasks at 25 requests/s each: 50/s wants 5 tasks of 10/s.
    expect(
      decide({ capacity: auto, healthy: 2, requests: at(50), policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'out', count: 5 });
    expect(
      decide({ capacity: auto, healthy: 2, requests: at(500), policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'out', count: 6 });
  });

  test("the metric is per healthy target (ALB's RequestCountPerTarget), applied to the color's whole count", () => {
    const scaled = { ...auto, desired: 4 };
    // 4 asked for, 2 healthy taking 40/s: 20 per task, so 4 × 20 / 10 = 8, within the max 6.
    expect(
      decide({ capacity: scaled, healthy: 2, requests: at(40), policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'out', count: 6 });
  });

  test('scales in to the min when the load is gone, unless scale-in is suspended', () => {
    const four = { ...auto, desired: 4 };
    expect(decide({ capacity: four, healthy: 4, requests: 0, policy, cooldowns: {}, now: 0 })).toMatchObject({
      action: 'in',
      count: 2,
    });
    const held = { min: 4, max: 6, scaleInSuspended: true, desired: 4 };
    expect(decide({ capacity: held, healthy: 4, requests: 0, policy, cooldowns: {}, now: 0 })).toMatchObject({
      action: 'none',
    });
    // Held, scale-out still acts.
    expect(
      decide({ capacity: held, healthy: 4, requests: at(55), policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'out', count: 6 });
  });

  test('a color with no healthy target has no data point: no action, whatever its bounds', () => {
    // An idle color at 0..0 with nothing running, and a color just deployed whose tasks are not healthy yet.
    const idle = { min: 0, max: 0, scaleInSuspended: false, desired: 0 };
    expect(decide({ capacity: idle, healthy: 0, requests: 0, policy, cooldowns: {}, now: 0 })).toMatchObject({
      action: 'none',
    });
    const deployed = { ...idle, desired: 3 };
    expect(
      decide({ capacity: deployed, healthy: 0, requests: 0, policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'none' });
    // Once it serves, the policy acts and the bounds win (a count set by a deploy is clamped when a policy acts).
    expect(
      decide({ capacity: deployed, healthy: 3, requests: 0, policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'in', count: 0 });
  });

  test('cooldowns: no scale-out during the scale-out cooldown, no scale-in during the scale-in cooldown', () => {
    const three = { ...auto, desired: 3 };
    const busy = { capacity: three, healthy: 3, requests: at(60), policy };
    expect(decide({ ...busy, cooldowns: { lastOut: 10_000 }, now: 11_999 })).toMatchObject({
      action: 'none',
    });
    expect(decide({ ...busy, cooldowns: { lastOut: 10_000 }, now: 12_000 })).toMatchObject({
      action: 'out',
      count: 6,
    });
    const quiet = { capacity: three, healthy: 3, requests: 0, policy };
    expect(decide({ ...quiet, cooldowns: { lastIn: 10_000 }, now: 14_999 })).toMatchObject({
      action: 'none',
    });
    expect(decide({ ...quiet, cooldowns: { lastIn: 10_000 }, now: 15_000 })).toMatchObject({
      action: 'in',
      count: 2,
    });
  });

  test('a scale-out during the scale-in cooldown acts at once and ends that cooldown', () => {
    const three = { ...auto, desired: 3 };
    expect(
      decide({
        capacity: three,
        healthy: 3,
        requests: at(60),
        policy,
        cooldowns: { lastIn: 10_000 },
        now: 11_000,
      }),
    ).toMatchObject({ action: 'out', count: 6 });
    // Scaled out after the scale-in: a scale-in may follow without waiting for the old cooldown.
    expect(
      decide({
        capacity: three,
        healthy: 3,
        requests: 0,
        policy,
        cooldowns: { lastIn: 10_000, lastOut: 11_000 },
        now: 13_500,
      }),
    ).toMatchObject({ action: 'in', count: 2 });
  });

  test('on target: no action', () => {
    const three = { ...auto, desired: 3 };
    expect(
      decide({ capacity: three, healthy: 3, requests: at(29), policy, cooldowns: {}, now: 0 }),
    ).toMatchObject({ action: 'none' });
  });
});
