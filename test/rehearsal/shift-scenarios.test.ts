/**
 * The rehearsal's gradual shifts (scenarios 4-7), as `npm start` plays them: real sample-app processes, the local
 * load balancer, steady load, the synthesized state machine with the real step handlers, and the comparison on the
 * router's own per-color counts. Every assertion counts events (requests routed under each weight change, in the
 * router's order; each user's answers, in that user's order): nothing here depends on how fast the machine is.
 */
import type { Color } from '../../lambda/shared/release-record';
import type { Sample } from '../../rehearsal/load';
import { rehearse, type RehearsalResult, type ScenarioResult } from '../../rehearsal/rehearse';

const failures = (samples: readonly Sample[]) => samples.filter((x) => x.status === 0 || x.status >= 500);

let result: RehearsalResult;

beforeAll(async () => {
  result = await rehearse({ scenarios: [4, 5, 6, 7], bakeSeconds: 1, concurrency: 4, log: () => undefined });
}, 300_000);

function scenario(id: number): ScenarioResult {
  const s = result.scenarios.find((x) => x.scenario.id === id);
  if (!s) {
    throw new Error(`scenario ${id} did not run`);
  }
  return s;
}

/** The color a split sends the smaller share to (the new color of a canary's first step). */
function newColorOf(weights: { readonly blue: number; readonly green: number }): Color {
  return weights.blue < weights.green ? 'blue' : 'green';
}

const other = (color: Color): Color => (color === 'blue' ? 'green' : 'blue');

/** Each change's share of production to `color`, in percent (weights out of 1000 while split, 100 when whole). */
const shares = (s: ScenarioResult, color: Color) =>
  s.weightChanges.map(({ weights: w }) => Math.round((100 * w[color]) / (w.blue + w.green)));

describe('local rehearsal: gradual shifts', () => {
  test('scenario 4: a 10% canary of a release that fails every user: only the canary share fails, then rollback', () => {
    const s = scenario(4);
    expect(s).toMatchObject({ outcome: 'RolledBack', passed: true });
    const [split, restored] = s.weightChanges;
    expect(s.weightChanges).toHaveLength(2);
    const v5 = newColorOf(split.weights);
    expect(split.weights).toEqual({ [v5]: 100, [other(v5)]: 900 });
    expect(restored.weights).toEqual({ [v5]: 0, [other(v5)]: 100 });
    expect(s.liveAfter.startsWith(`${other(v5)} `)).toBe(true);
    // Caught by v5's own alarm or by the comparison, whichever comes first: either way, rolled back.
    expect(s.execution.cause).toMatch(/^(UnhealthyDuringShift|AnalysisFailed): /);
    expect(s.execution.cause).toContain(`Rolled back: all traffic is on ${other(v5)} again`);
    // Every failed request was routed to v5 under the split: none before it, none on the old color, none after the
    // rollback's listener change (the router's own order, not two clocks).
    const failed = s.routed.filter((r) => r.status >= 500);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((r) => r.change !== split.index || r.color !== v5)).toEqual([]);
    // About 10% of what was routed under the split failed; 25% is a margin no busy machine reaches by chance (the
    // router draws each request's color with the weights, whatever the load).
    const underSplit = s.routed.filter((r) => r.change === split.index);
    expect(failed.length).toBeLessThanOrEqual(0.25 * underSplit.length);
    expect(
      underSplit.filter((r) => r.color === other(v5) && r.status > 0 && r.status < 500).length,
    ).toBeGreaterThan(0);
    // As the users saw it: every failed answer that names a color came from v5's.
    expect(failures(s.samples).filter((x) => x.color !== undefined && x.color !== v5)).toEqual([]);
  });

  test('scenario 5: 100 ms slower, under every alarm: the comparison fails it (AnalysisFailed) and it is rolled back', () => {
    const s = scenario(5);
    expect(s).toMatchObject({ outcome: 'RolledBack', passed: true });
    const [split, restored] = s.weightChanges;
    expect(s.weightChanges).toHaveLength(2);
    const v6 = newColorOf(split.weights);
    expect(split.weights[v6]).toBe(250);
    expect(restored.weights[v6]).toBe(0);
    // Slow, never failed: no request failed, and no alarm went off (the rollback's cause is the comparison).
    expect(failures(s.samples)).toEqual([]);
    expect(s.routed.filter((r) => r.status >= 500)).toEqual([]);
    expect(s.execution.cause).toMatch(
      /^AnalysisFailed: Step 1\/1 \(25% to (blue|green), window [^)]*\): FAIL: errors: pass, .*; latency: fail, new /,
    );
    expect(s.execution.cause).not.toMatch(/ALARM|alarmed/);
    // The deciding verdict: errors pass, latency fails, no alarm; any before it only asked for more traffic.
    const decided = s.verdicts[s.verdicts.length - 1];
    expect(decided).toMatchObject({ step: 1, percent: 25, result: 'fail', action: 'rollback', alarms: [] });
    expect(decided.metrics.map((m) => [m.metric, m.result])).toEqual([
      ['errors', 'pass'],
      ['latency', 'fail'],
    ]);
    expect(s.verdicts.slice(0, -1).map((v) => [v.result, v.action])).toEqual(
      s.verdicts.slice(0, -1).map(() => ['inconclusive', 'extend']),
    );
    expect(s.execution.cause).toContain(decided.summary);
  });

  test('scenario 6: a good release promoted through linear 25% steps, each judged pass, zero failed requests', () => {
    const s = scenario(6);
    // With the cause, so that a failure says which step's comparison failed and on what figures.
    expect({ outcome: s.outcome, cause: s.execution.cause }).toEqual({
      outcome: 'Released',
      cause: undefined,
    });
    const v7 = newColorOf(s.weightChanges[0].weights);
    expect(shares(s, v7)).toEqual([25, 50, 75, 100]);
    expect(s.liveAfter).toBe(`${v7} v7`);
    expect(failures(s.samples)).toEqual([]);
    expect(s.routed.filter((r) => r.status >= 500)).toEqual([]);
    // Each step's deciding verdict passed (an inconclusive one may only have baked the step again).
    expect(
      s.verdicts.filter((v) => v.action !== 'extend').map((v) => [v.step, v.percent, v.result, v.action]),
    ).toEqual([
      [1, 25, 'pass', 'next'],
      [2, 50, 'pass', 'next'],
      [3, 75, 'pass', 'promote'],
    ]);
    expect(s.verdicts.filter((v) => v.action === 'extend').every((v) => v.result === 'inconclusive')).toBe(
      true,
    );
    // Users really reached both colors under every split.
    for (const change of s.weightChanges.slice(0, 3)) {
      const colors = new Set(
        s.routed.filter((r) => r.change === change.index && r.status === 200).map((r) => r.color),
      );
      expect(colors).toEqual(new Set(['blue', 'green']));
    }
  });

  test("scenario 7: sticky users on a 50% canary: after the rollback's listener change, no user reaches the bad color", () => {
    const s = scenario(7);
    expect(s).toMatchObject({ outcome: 'RolledBack', passed: true });
    const [split, restored] = s.weightChanges;
    expect(s.weightChanges).toHaveLength(2);
    expect(split.weights.blue).toBe(500);
    expect(split.weights.green).toBe(500);
    // Stickiness on with the split; the rollback's change turns it off in the same listener change.
    expect(split.stickySeconds).toBe(300);
    expect(restored.stickySeconds).toBeUndefined();
    const old = s.liveAfter.split(' ')[0] as Color;
    const v8 = other(old);
    expect(restored.weights).toEqual({ [v8]: 0, [old]: 100 });
    const failed = s.routed.filter((r) => r.status >= 500);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((r) => r.change !== split.index || r.color !== v8)).toEqual([]);
    // The heart of it: users holding a v8 cookie kept sending it, and from the rollback's change on the router sent
    // every one of their requests to the old color.
    const after = s.routed.filter((r) => r.change >= restored.index);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((r) => r.color === v8)).toEqual([]);
    // Stickiness held while split: each user's answers (in its own order: a user sends one request at a time) came
    // from v8 in one run at most (old color, v8, old color again), never back and forth.
    const users = new Map<number, Color[]>();
    for (const x of s.samples) {
      if (x.user !== undefined && (x.color === 'blue' || x.color === 'green')) {
        const runs = users.get(x.user) ?? [];
        if (runs[runs.length - 1] !== x.color) {
          runs.push(x.color);
        }
        users.set(x.user, runs);
      }
    }
    expect(users.size).toBeGreaterThanOrEqual(16);
    for (const runs of users.values()) {
      expect(runs.filter((color) => color === v8).length).toBeLessThanOrEqual(1);
    }
    const stuckOnV8 = [...users.values()].filter((runs) => runs.includes(v8)).length;
    expect(stuckOnV8).toBeGreaterThan(0);
    expect(stuckOnV8).toBeLessThan(users.size);
  });
});
