/**
 * A short local rehearsal, as `npm start` plays it: real sample-app processes, the local load balancer, steady
 * load, and the synthesized state machine with the real step handlers. Outcomes only; speed lives in the bench.
 */
import { rehearse, type RehearsalResult } from '../../rehearsal/rehearse';
import { redisInstalled } from '../../rehearsal/redis';
import type { Sample } from '../../rehearsal/load';

/** The failed requests themselves (status, color, latency, when), so a failure says what went wrong. */
const failures = (samples: readonly Sample[]) => samples.filter((x) => x.status === 0 || x.status >= 500);

let result: RehearsalResult;
const lines: string[] = [];

beforeAll(async () => {
  // The all-at-once scenarios; the gradual shifts (4-7) have their own test (shift-scenarios.test.ts).
  result = await rehearse({
    scenarios: [1, 2, 3],
    bakeSeconds: 3,
    concurrency: 4,
    log: (line) => lines.push(line),
  });
}, 300_000);

describe('local rehearsal', () => {
  test('scenario 1: v2 is released with zero failed requests', () => {
    const s = result.scenarios[0];
    expect(s).toMatchObject({ outcome: 'Released', passed: true, liveAfter: 'green v2' });
    expect(failures(s.samples)).toEqual([]);
    expect(Object.keys(s.load.byColor).sort()).toEqual(['blue', 'green']); // traffic really moved
    // Traffic flowed across the switch (counted by the load balancer under each weights, not per second: a busy
    // machine sends fewer requests, never none), and every request before and after it was answered.
    const [switched] = s.weightChanges;
    const before = s.routed.filter((r) => r.change < switched.index && r.status > 0);
    const after = s.routed.filter((r) => r.change === switched.index && r.status > 0);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect([...before, ...after].filter((r) => r.status >= 500)).toEqual([]);
  });

  test('scenario 2: v3 fails real users after the switch; the alarms catch it and v2 is restored', () => {
    const s = result.scenarios[1];
    expect(s).toMatchObject({ outcome: 'RolledBack', passed: true, liveAfter: 'green v2' });
    expect(s.load.failed).toBeGreaterThan(0);
    expect(s.load.restoreMs).toBeDefined();
    // Failed requests only inside the detection window, by facts ordered by causality, not by two clocks read by
    // different tasks (a busy machine sends a request long after its client read the time): the load balancer
    // logs each weight change as it takes effect and, per request, the weights it routed it under.
    const [switched, restored] = s.weightChanges;
    expect(s.weightChanges).toHaveLength(2);
    const v3Color = switched.weights.blue === 100 ? 'blue' : 'green';
    expect(switched.weights[v3Color]).toBe(100);
    expect(restored.weights[v3Color]).toBe(0);
    const failedRouted = s.routed.filter((r) => r.status >= 500);
    expect(failedRouted.length).toBeGreaterThan(0);
    expect(failedRouted.filter((r) => r.change !== switched.index || r.color !== v3Color)).toEqual([]);
    // As the clients saw it: every failed answer that names its color came from v3's.
    const failed = failures(s.samples);
    expect(failed.filter((x) => x.color !== undefined && x.color !== v3Color)).toEqual([]);
    // The alarm says since when (computed from the router's own traffic: after the weight change that sent users to
    // v3, on the same clock) and with what datapoint.
    const alarm = /alarm rehearsal-blue-5xx in ALARM since (\S+Z) \((\d+) 5xx in 3s\)/.exec(
      s.execution.cause ?? '',
    );
    expect(alarm).not.toBeNull();
    expect(Date.parse(alarm![1])).toBeGreaterThanOrEqual(switched.at - 1);
    expect(Number(alarm![2])).toBeGreaterThanOrEqual(5);
  });

  test('scenario 3: v4 fails validation; traffic never moves and no request fails', () => {
    const s = result.scenarios[2];
    expect(s).toMatchObject({ outcome: 'ValidationFailed', passed: true, liveAfter: 'green v2' });
    expect(failures(s.samples)).toEqual([]);
    expect(s.execution.cause).toContain('GET /version: version "v4" not in the response');
    expect(s.load.byColor).toEqual({ green: s.load.requests });
  });

  test('progress reads like the console: each state entered and left, each polling loop once', () => {
    expect(lines).toEqual(
      expect.arrayContaining(['  ▶ Prepare', '  ▶ Switch traffic', '  ▶ Roll back', '  ▶ Abort']),
    );
    expect(lines.some((l) => /^ {2}✓ Switch traffic \(\d+ ms\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {2}✓ Wait for idle color \(\d+ rounds?, \d+ ms\)$/.test(l))).toBe(true);
    // Scenario 3's validation fails once, caught: no ✓ for it after its ✗.
    const validation = lines.filter((l) => l.includes('Validate idle color'));
    expect(validation.slice(-2)).toEqual([
      '  ▶ Validate idle color',
      expect.stringMatching(/^ {2}✗ Validate idle color \(\d+ ms\) failed; caught, the workflow handles it$/),
    ]);
  });

  test('with Redis, a session created before the releases is still valid after them', () => {
    if (!redisInstalled()) {
      expect(result.session?.checked).toBe(false);
      return;
    }
    expect(result.session).toMatchObject({ checked: true, survived: true });
  });
});

describe('local rehearsal with the manual gate (--approve-after)', () => {
  test('the release waits at the gate with production on the old color, then is approved and switches', async () => {
    const gateLines: string[] = [];
    const gated = await rehearse({
      scenarios: [1],
      bakeSeconds: 1,
      concurrency: 2,
      approveAfterSeconds: 1,
      log: (line) => gateLines.push(line),
    });
    const s = gated.scenarios[0];
    expect(s).toMatchObject({ outcome: 'Released', passed: true, liveAfter: 'green v2' });
    expect(failures(s.samples)).toEqual([]);
    const states = s.execution.states;
    expect(states.slice(states.indexOf('Validate idle color'), states.indexOf('Switch traffic') + 1)).toEqual(
      ['Validate idle color', 'Wait for approval', 'Gradual shift?', 'Switch traffic'],
    );
    expect(s.execution.output?.approval?.approvedBy).toBe('npm start --approve-after');
    // While it waited (about a second), every request was still answered by blue.
    const waited = s.execution.events.filter((e) => e.state === 'Wait for approval').map((e) => e.at);
    const [from, to] = [waited[0], waited[waited.length - 1]];
    expect(to - from).toBeGreaterThanOrEqual(900);
    const during = s.samples.filter((x) => x.startedAt >= from && x.at <= to);
    expect(during.length).toBeGreaterThan(10);
    expect(new Set(during.map((x) => x.color))).toEqual(new Set(['blue']));
    expect(
      gateLines.some((l) => l.includes('gate: bluegreen/sample-app:v2 passed validation on green')),
    ).toBe(true);
    // What happens here, locally: not an AWS command that would answer some other release.
    expect(gateLines).toContain(
      "    gate: the rehearsal approves it in 1 s (--approve-after 1), as an operator's `bluegreen approve` would in AWS",
    );
    expect(gateLines.filter((l) => l.includes('npx bluegreen'))).toEqual([]);
  }, 300_000);
});

describe('local rehearsal with database migrations (--migrations, a real PostgreSQL)', () => {
  test("expand, backfill and contract run in order around the release; v1's data survives the rename", async () => {
    const lines: string[] = [];
    const run = await rehearse({
      scenarios: [1, 2],
      bakeSeconds: 1,
      concurrency: 2,
      migrations: true,
      log: (line) => lines.push(line),
    });
    const [released, rolledBack] = run.scenarios;
    expect(released).toMatchObject({ outcome: 'Released', passed: true, liveAfter: 'green v2' });
    expect(failures(released.samples)).toEqual([]);
    const states = released.execution.states;
    const order = ['Expand database', 'Deploy to idle color', 'Validate idle color', 'Backfill database'];
    expect(order.map((s) => states.indexOf(s))).toEqual(
      [...order.map((s) => states.indexOf(s))].sort((a, b) => a - b),
    );
    expect(states.indexOf('Backfill database')).toBeLessThan(states.indexOf('Switch traffic'));
    expect(states.indexOf('Scale old color down')).toBeLessThan(states.indexOf('Contract database'));
    // The real runner ran: v1's table first, then v2's rename; v3's release found nothing new, and rolled back
    // without a contract.
    expect(run.migrations?.runs.map((r) => `${r.phase} ${r.image.split(':').pop()} ${r.exitCode}`)).toEqual([
      'expand v1 0',
      'expand v2 0',
      'backfill v2 0',
      'contract v2 0',
      'expand v3 0',
      'backfill v3 0',
    ]);
    expect(rolledBack).toMatchObject({ outcome: 'RolledBack', passed: true, liveAfter: 'green v2' });
    expect(lines).toContain('    migrate contract (v2): applied 001-drop-old-preference.sql');
    expect(lines.some((l) => l === '  ▶ Backfill database')).toBe(true);
    // Written by v1 into old_preference before the rename; read back through v2's code after the contract.
    expect(run.migrations?.preference).toEqual({ written: 'dark-mode', readBack: 'dark-mode' });
  }, 300_000);
});
