/**
 * Auto scaling through every path of a release, run through the synthesized state machine with the real step
 * handlers over the in-memory AWS (FakeWorld with scalable targets): scale-in is held on both colors from before
 * the deploy until every ending, the new color starts at the live color's count now, and every ending leaves the
 * live color within the configured bounds, the idle one at 0 (or pinned warm), and the record saying so.
 */
import { stopped } from '../lambda/workflow/conclude';
import type { ColorBounds, RecordedCapacity } from '../lambda/shared/scaling';
import type { Color } from '../lambda/shared/release-record';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import {
  ANALYSIS,
  SETTINGS,
  endingOf,
  runRelease as runOnPlatform,
  type ExecutionResult,
} from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const SCALING = { minCount: 2, maxCount: 10 };
const AUTO_LIVE: ColorBounds = { min: 2, max: 10, scaleInSuspended: false };
const AT_ZERO: ColorBounds = { min: 0, max: 0, scaleInSuspended: false };

/** Blue live on v1, scaled out by its policy to `liveCount` (above the minimum of 2), green idle at 0. */
function world(behaviour: Behaviour, liveCount = 5): FakeWorld {
  const w = new FakeWorld(V1).enableScaling(SCALING);
  w.behaviours.set(V2, behaviour);
  w.autoscale('blue', liveCount);
  return w;
}

/** The fleet's bounds and the record agree: `auto` for the live color is the configured bounds, and so on. */
function expectRecordMatchesFleet(w: FakeWorld): void {
  const recorded = w.recordedCapacity!;
  for (const color of ['blue', 'green'] as const) {
    expect(w.scaling![color]).toEqual(meaning(recorded[color], color === w.record.liveColor));
  }
}

function meaning(recorded: RecordedCapacity, live: boolean): ColorBounds {
  if (recorded === 'auto') {
    return live ? AUTO_LIVE : AT_ZERO;
  }
  return { ...recorded, scaleInSuspended: true };
}

/** Every ending: scaling acts again on the live color, the idle one at rest, the lock free, one outcome. */
function expectScalingResumed(w: FakeWorld, live: Color): void {
  const idle: Color = live === 'blue' ? 'green' : 'blue';
  expect(w.record.liveColor).toBe(live);
  expect(w.scaling![live]).toEqual(AUTO_LIVE);
  expect(w.recordedCapacity![live]).toBe('auto');
  expect(w.scaling![idle].min).toBe(w.scaling![idle].max);
  expect(w.services[idle].desired).toBe(w.scaling![idle].max);
  expect(w.capacityHeld).toBe(false);
  expect(w.lock).toBeUndefined();
  expectRecordMatchesFleet(w);
}

/** Count changes each policy would make while the release runs, at the given calls: what the bounds let happen. */
function policiesAct(w: FakeWorld, when: (call: string) => boolean, act: (w: FakeWorld) => void): void {
  let done = false;
  w.onCall = (call) => {
    if (!done && when(call)) {
      done = true;
      act(w);
    }
  };
}

describe.each(['ecs', 'asg'] as const)('auto scaling through the release paths on %s', (platform) => {
  const run = (w: FakeWorld, input: unknown, options: Parameters<typeof runOnPlatform>[2] = {}) =>
    runOnPlatform(w, input, {
      ...options,
      platform,
      settings: { scaling: SCALING, ...options.settings },
    });

  test('success: the new color starts at the live color’s count now (5, not the configured 2); both held until Finish', async () => {
    const w = world('good', 5);
    const seen: { during: Record<Color, ColorBounds>; tried: Record<Color, number> }[] = [];
    // During the bake, both policies try to scale in to 1 and blue's also out to 7.
    policiesAct(
      w,
      (call) => call === 'router.targetHealth' && w.liveTarget() === 'green',
      (x) => {
        const during = structuredClone(x.scaling!);
        seen.push({ during, tried: { blue: x.autoscale('blue', 1), green: x.autoscale('green', 1) } });
        x.autoscale('blue', 7);
      },
    );
    const result = await run(w, { image: V2 });

    expect(result.status).toBe('SUCCEEDED');
    const deploys = w.calls.filter((c) => c === 'fleet.deploy');
    expect(deploys).toHaveLength(1);
    expect(w.services.green.desired).toBe(5);
    // In the bake: both held at their counts with scale-in suspended; the policies could not scale either in.
    expect(seen).toHaveLength(1);
    expect(seen[0].during.blue).toEqual({ min: 5, max: 10, scaleInSuspended: true });
    expect(seen[0].during.green).toEqual({ min: 5, max: 10, scaleInSuspended: true });
    expect(seen[0].tried).toEqual({ blue: 5, green: 5 });
    // After Finish: green live within 2..10 (its 5 tasks kept), blue at 0, the record `auto` for both.
    expect(w.services.green.desired).toBe(5);
    expect(w.services.blue.desired).toBe(0);
    expect(w.recordedCapacity).toEqual({ blue: 'auto', green: 'auto' });
    expectScalingResumed(w, 'green');
    // The old color's bounds went to 0 only at Finish, after the switch and the bake.
    const blueToZero = w.boundChanges.findIndex((b) => b.color === 'blue' && b.bounds.max === 0);
    expect(blueToZero).toBe(w.boundChanges.length - 2);
  });

  test('the new color gets its held bounds in the deploy itself (no tasks of the old revision); the record said so first', async () => {
    const w = world('good', 4);
    const result = await run(w, { image: V2 });
    expect(result.status).toBe('SUCCEEDED');
    // Green's first bounds are the deploy's: held at 4, scale-in suspended; never opened or raised on its own.
    const green = w.boundChanges.filter((b) => b.color === 'green').map((b) => b.bounds);
    expect(green[0]).toEqual({ min: 4, max: 10, scaleInSuspended: true });
    const order = w.calls.filter((c) => /record.writeCapacity|fleet.setCapacity|fleet.deploy/.test(c));
    // Blue held (its bounds and record together) and green's record, then the deploy with green's bounds.
    expect(order.slice(0, 4).sort()).toEqual(
      ['fleet.setCapacity', 'record.writeCapacity', 'record.writeCapacity', 'fleet.deploy'].sort(),
    );
    expect(order[3]).toBe('fleet.deploy');
  });

  test('the live color scales out during validation: the switch waits for the new color to catch up, then moves', async () => {
    const w = world('good', 3);
    policiesAct(
      w,
      (call) => call === 'probe.get',
      (x) => void x.autoscale('blue', 8),
    );
    // Its new tasks take two looks to start: the first switch attempt finds 3 of 8 running.
    let looks = 0;
    const onCall = w.onCall!;
    w.onCall = (call, n) => {
      onCall(call, n);
      if (call === 'fleet.describe' && w.scaling!.green.min === 8) {
        w.services.green = { ...w.services.green, running: looks++ < 2 ? 3 : 8 };
      }
    };
    const result = await run(w, { image: V2 });

    expect(result.status).toBe('SUCCEEDED');
    // Three attempts of the switch: raised (3 of 8), still 3 of 8, then all 8 (read by the catch-up and the re-check).
    expect(looks).toBe(4);
    expect(w.calls.filter((c) => c === 'router.setProductionWeights')).toHaveLength(1);
    expect(w.services.green.desired).toBe(8);
    expectScalingResumed(w, 'green');
  });

  test('the new color never catches up: CapacityCatchingUp aborts, traffic never moved, both colors back', async () => {
    const w = world('good', 3);
    policiesAct(
      w,
      (call) => call === 'probe.get',
      (x) => void x.autoscale('blue', 8),
    );
    const onCall = w.onCall!;
    w.onCall = (call, n) => {
      onCall(call, n);
      // No room for more tasks: green stays at 3 running.
      if (call === 'fleet.describe' && w.scaling!.green.min === 8) {
        w.services.green = { ...w.services.green, running: 3 };
      }
    };
    const result = await run(w, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'CapacityCatchingUp' });
    expect(result.cause).toContain(
      'green runs 3 of the 8 tasks it needs before it takes all production traffic (as many as blue runs now)',
    );
    expect(result.cause).toContain('the release aborts and traffic stays on blue');
    expect(w.published[0].status).toBe('ABORTED');
    expect(w.weights).toEqual({ blue: 100, green: 0 });
    expect(w.services.blue.desired).toBe(8);
    expect(w.services.green.desired).toBe(0);
    expectScalingResumed(w, 'blue');
  });

  test('abort (validation failed): blue scales within its bounds again, green back at 0 and auto', async () => {
    const w = world('fails-validation', 5);
    const result = await run(w, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(w.services.green.desired).toBe(0);
    expect(w.services.blue.desired).toBe(5);
    expect(w.recordedCapacity).toEqual({ blue: 'auto', green: 'auto' });
    expectScalingResumed(w, 'blue');
  });

  test('rollback after the switch: the old color kept every task it had, and gets its bounds back', async () => {
    const w = world('fails-after-switch', 6);
    // A policy tries to scale blue in while green serves: the hold refuses.
    policiesAct(
      w,
      (call) => call === 'probe.get' && w.liveTarget() === 'green',
      (x) => void x.autoscale('blue', 2),
    );
    const result = await run(w, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(w.weights).toEqual({ blue: 100, green: 0 });
    expect(w.services.blue.desired).toBe(6);
    expect(w.services.green.desired).toBe(0);
    expectScalingResumed(w, 'blue');
  });

  test('the new color scales out during the bake: the old color’s floor follows, so the rollback lands on as many tasks', async () => {
    const w = world('fails-after-switch', 4);
    // Under all production traffic, green's policy scales it out from 4 to 8 at the first bake check.
    policiesAct(
      w,
      (call) => call === 'probe.get' && w.liveTarget() === 'green',
      (x) => void x.autoscale('green', 8),
    );
    const result = await run(w, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(w.weights).toEqual({ blue: 100, green: 0 });
    // Blue, held at 4 since the deploy, was raised to 8 by that check, before the rollback put all traffic on it.
    const blue = w.boundChanges.filter((b) => b.color === 'blue').map((b) => b.bounds);
    expect(blue).toContainEqual({ min: 8, max: 10, scaleInSuspended: true });
    expect(w.services.blue.desired).toBe(8);
    expect(result.lastInput?.release?.watch?.oldColorRaised).toBe(
      "check 1: green scaled out to 8 under all production traffic; blue, the rollback's target, was at 4 " +
        '(bounds 4..10, scale-in suspended) and now runs at least 8',
    );
    expectScalingResumed(w, 'blue');
  });

  test('keepIdleWarm: the old color is pinned at the new live color’s count, and a release from there opens it again', async () => {
    const w = world('good', 5);
    const settings = { keepIdleWarm: true };
    const first = await run(w, { image: V2 }, { settings });
    expect(first.status).toBe('SUCCEEDED');
    expect(w.services.blue.desired).toBe(5);
    expect(w.scaling!.blue).toEqual({ min: 5, max: 5, scaleInSuspended: true });
    expect(w.recordedCapacity).toEqual({ blue: { min: 5, max: 5 }, green: 'auto' });
    expectScalingResumed(w, 'green');

    // The next release goes to blue, pinned at 5: it is opened, deployed at green's count, and at Finish green is
    // pinned in its turn.
    w.autoscale('green', 7);
    const second = await run(w, { image: `${REPO}:v3` }, { settings, execution: 'release-2' });
    expect(second.status).toBe('SUCCEEDED');
    expect(w.services.blue.desired).toBe(7);
    expect(w.recordedCapacity).toEqual({ blue: 'auto', green: { min: 7, max: 7 } });
    expectScalingResumed(w, 'blue');
  });

  test('a canary: both colors held through every step; promotion ends with the configured bounds', async () => {
    const w = world('good', 4);
    const during: Record<Color, ColorBounds>[] = [];
    w.onCall = (call) => {
      if (call === 'metrics.window' && during.length === 0) {
        during.push(structuredClone(w.scaling!));
        w.autoscale('blue', 2); // 90% of the traffic: its policy would scale in; held
        w.autoscale('green', 1); // 10%: likewise
      }
    };
    const result = await run(
      w,
      { image: V2, strategy: { type: 'canary', percent: 10, bakeSeconds: 120 } },
      { settings: { analysis: ANALYSIS } },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(during[0].blue).toEqual({ min: 4, max: 10, scaleInSuspended: true });
    expect(during[0].green).toEqual({ min: 4, max: 10, scaleInSuspended: true });
    expect(w.services.green.desired).toBe(4);
    expectScalingResumed(w, 'green');
  });

  test('the new color scaling out mid-canary (a task still starting) is no reason to roll back', async () => {
    const w = world('good', 4);
    let scaled = false;
    w.onCall = (call) => {
      // Its policy adds a fifth task as the promotion is re-checked: 4 of 5 running, one target not healthy yet.
      if (call === 'fleet.describe' && w.weights.green > 0 && !scaled) {
        scaled = true;
        w.services.green = { ...w.services.green, desired: 5, running: 4 };
      }
    };
    const result = await run(
      w,
      { image: V2, strategy: { type: 'canary', percent: 10, bakeSeconds: 120 } },
      { settings: { analysis: ANALYSIS } },
    );
    expect(scaled).toBe(true);
    expect(result.status).toBe('SUCCEEDED');
    expect(w.weights).toEqual({ blue: 0, green: 100 });
  });

  test.each(['TIMED_OUT', 'ABORTED'] as const)(
    'stopped (%s) in the bake: the Stopped step gives the live color its bounds back and pins the other',
    async (status) => {
      const w = world('good', 5);
      let baking = 0;
      const result = await run(
        w,
        { image: V2 },
        {
          stopWhen: () => (w.liveTarget() === 'green' && ++baking > 3 ? { status } : undefined),
        },
      );
      expect(result.status).toBe(status);
      // Nothing ran its ending: both colors are still held.
      expect(w.scaling!.blue.scaleInSuspended).toBe(true);
      expect(w.scaling!.green.scaleInSuspended).toBe(true);

      const { outcome } = await stopped(endingOf(result), w.deps(), { ...SETTINGS, scaling: SCALING });
      const live = w.record.liveColor;
      const other: Color = live === 'blue' ? 'green' : 'blue';
      expect(w.scaling![other]).toEqual({ min: 5, max: 5, scaleInSuspended: true });
      expect(w.services[other].desired).toBe(5);
      expect(outcome.cause).toContain(
        `${live} scales within 2..10 again; ${other} is pinned at the 5 task(s)`,
      );
      expectScalingResumed(w, live);
    },
  );

  test('with migrations: the old color goes to 0 (and auto) before the contract, after the switch', async () => {
    const w = world('good', 4);
    const result = await run(w, { image: V2 }, { migrations: {} });
    expect(result.status).toBe('SUCCEEDED');
    expect(w.migrationRuns.map((r) => r.phase)).toEqual(['expand', 'backfill', 'contract']);
    expect(w.services.blue.desired).toBe(0);
    expect(w.services.green.desired).toBe(4);
    expectScalingResumed(w, 'green');
  });

  test('a warm idle color whose record says auto (scaling added to a warm stack) is put back pinned, not at 0..0', async () => {
    const w = world('fails-validation', 3);
    w.services.green = { ...w.services.green, desired: 2, running: 2 };
    const result = await run(w, { image: V2 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(w.services.green.desired).toBe(2);
    expect(w.scaling!.green).toEqual({ min: 2, max: 2, scaleInSuspended: true });
    expect(w.recordedCapacity!.green).toEqual({ min: 2, max: 2 });
    expectScalingResumed(w, 'blue');
  });

  test('the Stopped step: a color the listener serves though the record does not name it keeps a floor, not a pin', async () => {
    const w = world('good', 4);
    w.autoscale('blue', 4);
    w.services.green = { ...w.services.green, desired: 3, running: 3 };
    w.scaling!.green = { min: 3, max: 10, scaleInSuspended: true };
    w.weights = { blue: 0, green: 100 }; // drift: the record still says blue
    const { outcome } = await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, w.deps(), {
      ...SETTINGS,
      scaling: SCALING,
    });
    expect(w.scaling!.green).toEqual({ min: 3, max: 10, scaleInSuspended: true });
    expect(w.recordedCapacity!.green).toEqual({ min: 3, max: 10 });
    expect(outcome.cause).toContain(
      'green, which takes production traffic though the record names blue, is held',
    );
  });

  test('the Stopped step leaves the bounds alone after an ending that reported itself (another release may hold them)', async () => {
    const w = world('fails-validation', 4);
    const result = await run(w, { image: V2 });
    expect(result.status).toBe('FAILED');
    // Another release took the lock and holds both colors by now.
    w.scaling!.blue = { min: 4, max: 10, scaleInSuspended: true };
    const before = w.calls.length;
    await stopped(endingOf(result), w.deps(), { ...SETTINGS, scaling: SCALING });
    expect(w.calls.slice(before)).not.toContain('fleet.setCapacity');
    expect(w.scaling!.blue).toEqual({ min: 4, max: 10, scaleInSuspended: true });
  });

  test('the Stopped step does not take the follower (follow-live) for another release', async () => {
    const w = world('good', 4);
    w.scaling!.blue = { min: 4, max: 10, scaleInSuspended: true };
    w.lock = {
      owner: 'bluegreen-follow-live-20261126T100000000Z',
      image: 'follow the live color',
      since: '2026-11-26T10:00:00Z',
      expiresAt: Date.parse('2026-11-27'),
    };
    const { outcome } = await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, w.deps(), {
      ...SETTINGS,
      scaling: SCALING,
    });
    expect(w.scaling!.blue).toEqual({ min: 2, max: 10, scaleInSuspended: false });
    expect(outcome.cause).toContain('scaling acts again');
  });

  test('a refused release (another holds the lock) leaves the other release’s hold alone', async () => {
    const w = world('good', 5);
    w.lock = {
      owner: 'release-0',
      image: V2,
      since: '2026-11-26T09:59:00Z',
      expiresAt: Date.parse('2026-11-27'),
    };
    w.scaling!.blue = { min: 5, max: 10, scaleInSuspended: true };
    const before = structuredClone(w.scaling);
    const result: ExecutionResult = await run(w, { image: V2 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReleaseInProgress' });
    expect(w.scaling).toEqual(before);
    expect(w.calls).not.toContain('fleet.setCapacity');
  });
});
