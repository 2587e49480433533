/**
 * The rehearsal's scenario 8, as `npm start` plays it: auto scaling and a release together. Real sample-app
 * processes, the local load balancer, the local scaler (target tracking on requests per task), the synthesized
 * state machine with the real steps. Every assertion counts events in the fleet's own log (each change of a color's
 * count or bounds, in order, stamped with the router's weight change in force) and the requests the router and
 * the users saw: nothing here depends on how fast the machine is.
 */
import type { Color } from '../../lambda/shared/release-record';
import type { FleetEvent } from '../../rehearsal/fleet';
import { rehearse, type ScenarioResult } from '../../rehearsal/rehearse';
import { SCENARIOS } from '../../rehearsal/scenarios';

const other = (color: Color): Color => (color === 'blue' ? 'green' : 'blue');
const configured = SCENARIOS.find((s) => s.id === 8)!.scaling!;

let s: ScenarioResult;

beforeAll(async () => {
  const result = await rehearse({ scenarios: [8], bakeSeconds: 1, concurrency: 4, log: () => undefined });
  s = result.scenarios[0];
}, 300_000);

/** What a failure prints: the fleet's log, one line per event. */
const logOf = (events: readonly FleetEvent[]) =>
  events.map(
    (e) =>
      `${e.seq} ${e.color} ${e.what} ${e.before}→${e.desired}` +
      `${e.bounds ? ` [${e.bounds.min}..${e.bounds.max}${e.bounds.scaleInSuspended ? ' held' : ''}]` : ''} w${e.weightChange}`,
  );

describe('local rehearsal: a release with auto scaling (scenario 8)', () => {
  test('the load rises before the release: the live color scales out from its minimum, within its bounds', () => {
    expect(s.scaledOut).toBeDefined();
    const live = s.scaledOut!.color;
    const deploy = s.fleetEvents.findIndex((e) => e.color === other(live) && e.what === 'deploy');
    expect(deploy).toBeGreaterThan(0);
    // Before the release: the stack's bounds (auto: the live color within min..max), then only the scaler moved it.
    const before = s.fleetEvents.slice(0, deploy).filter((e) => e.color === live);
    expect(before[0]).toMatchObject({
      what: 'stack',
      desired: configured.minCount,
      bounds: { min: configured.minCount, max: configured.maxCount, scaleInSuspended: false },
    });
    const scaled = before.filter((e) => e.what === 'scale');
    expect(scaled[0]).toMatchObject({ before: configured.minCount });
    expect(scaled[0].desired).toBeGreaterThan(configured.minCount);
    expect(scaled.every((e) => e.desired <= configured.maxCount)).toBe(true);
  });

  test("the new color starts at the live color's current count, and the old one keeps it until Finish", () => {
    expect({ outcome: s.outcome, cause: s.execution.cause }).toEqual({
      outcome: 'Released',
      cause: undefined,
    });
    const events = s.fleetEvents;
    const old = s.scaledOut!.color;
    const fresh = other(old);
    const log = logOf(events);
    const deploy = events.findIndex((e) => e.color === fresh && e.what === 'deploy');
    // The live color's count when the new color was deployed (its last change before), above the configured min.
    const n = events
      .slice(0, deploy)
      .filter((e) => e.color === old)
      .pop()!.desired;
    expect(n).toBeGreaterThan(configured.minCount);
    expect({ deployedAt: events[deploy].desired, log }).toEqual({ deployedAt: n, log });

    // All at once: one weight change, all to the new color.
    expect(s.weightChanges.map((c) => c.weights)).toEqual([{ [fresh]: 100, [old]: 0 }]);
    const switched = s.weightChanges[0].index;

    // The old color: never below n from the deploy on, until a workflow step (not the scaler) scales it down,
    // after the switch; it ends at 0.
    const oldAfter = events.slice(deploy).filter((e) => e.color === old);
    const down = oldAfter.findIndex((e) => e.desired < n);
    expect({ down: down >= 0, log }).toEqual({ down: true, log });
    expect({ scaledDownBy: oldAfter[down].what, log }).toEqual({
      scaledDownBy: expect.stringMatching(/^(bounds|restore)$/),
      log,
    });
    expect(oldAfter[down].weightChange).toBeGreaterThanOrEqual(switched);
    expect(oldAfter[oldAfter.length - 1].desired).toBe(0);
    // Nothing scaled the old color in during the release: the scaler never acted on it below its count.
    expect(oldAfter.filter((e) => e.what === 'scale' && e.desired < e.before)).toEqual([]);

    // The new color: never below n between its deploy and the old color's scale-down (Finish).
    const freshDuring = events
      .slice(deploy, oldAfter[down].seq - events[0].seq)
      .filter((e) => e.color === fresh);
    expect({ below: freshDuring.filter((e) => e.desired < n), log }).toEqual({ below: [], log });
    // The new live color ends with the configured bounds, scale-in free (auto), at n or more.
    const last = events.filter((e) => e.color === fresh).pop()!;
    expect(last.bounds).toEqual({
      min: configured.minCount,
      max: configured.maxCount,
      scaleInSuspended: false,
    });
    expect(last.desired).toBeGreaterThanOrEqual(n);
  });

  test('the switch fails no request', () => {
    expect(s.load.failed).toBe(0);
    expect(s.samples.filter((x) => x.status === 0 || x.status >= 500)).toEqual([]);
    expect(s.routed.filter((r) => r.status >= 500)).toEqual([]);
    // Users really reached both colors: the old one before the switch, the new one after it.
    const colors = new Set(s.routed.filter((r) => r.status === 200).map((r) => r.color));
    expect(colors).toEqual(new Set(['blue', 'green']));
  });
});
