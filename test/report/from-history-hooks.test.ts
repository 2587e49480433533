/**
 * The report of a release with all three lifecycle hooks, from a history recorded by running the synthesized state
 * machine (test/report/fixtures/record.ts, "hooks-rolled-back"): the admission hook answered IN_PROGRESS then
 * SUCCEEDED; the production hook, beside the bake in the Parallel state "Bake and production hook", IN_PROGRESS then
 * FAILED, so the release rolled back; the rollback hook answered SUCCEEDED.
 */
import { reportFromHistory } from '../../report/from-history';
import { recordedRelease } from './fixtures/load';

const recorded = recordedRelease('hooks-rolled-back');
const report = reportFromHistory('shop', recorded.describe, recorded.events);
const time = (text: string | undefined) => Date.parse(text ?? '');

test('the recorded history has the Parallel state in the shape AWS writes it', () => {
  const types = recorded.events.map((e) => e.type);
  const entered = types.indexOf('ParallelStateEntered');
  expect(types.slice(entered, entered + 2)).toEqual(['ParallelStateEntered', 'ParallelStateStarted']);
  const failed = types.indexOf('ParallelStateFailed');
  expect(types[failed - 1]).toBe('TaskStateAborted');
  expect(types[failed + 1]).toBe('ParallelStateExited');
  expect(types).not.toContain('ParallelStateSucceeded');
});

test('every hook answer is a verdict, in order, with its attempt, status and summary', () => {
  const hooks = report.verdicts.filter((v) => v.kind === 'hook');
  expect(hooks.map((v) => [v.name, v.value, v.passed, v.state])).toEqual([
    ['beforeDeploy hook (call 1)', 'IN_PROGRESS: image scan queued', true, 'Admission hook'],
    ['beforeDeploy hook (call 2)', 'SUCCEEDED: no critical CVEs in v5', true, 'Admission hook'],
    ['afterShift hook (call 1)', 'IN_PROGRESS: checkout suite running', true, 'Production hook'],
    ['afterShift hook (call 2)', 'FAILED: checkout returns 500 for EUR carts', false, 'Production hook'],
    ['onRollback hook (call 1)', 'SUCCEEDED: incident INC-42 opened', true, 'Rollback hook'],
  ]);
  const ats = hooks.map((v) => time(v.at));
  expect([...ats].sort((a, b) => a - b)).toEqual(ats);
});

test("both branches' states are in the report with their times, each one ended", () => {
  const named = (name: string) => report.states.filter((s) => s.name === name);
  const [parallel] = named('Bake and production hook');
  expect(parallel).toBeDefined();
  const from = time(parallel.enteredAt);
  const to = time(parallel.exitedAt);
  expect(to).toBeGreaterThan(from);
  for (const name of [
    'Bake: wait',
    'Check new live color',
    'Start production hook',
    'Production hook',
    'Wait for production hook',
    'Production hook failed',
  ]) {
    expect(named(name).length).toBeGreaterThan(0);
    for (const s of named(name)) {
      // Inside the Parallel state's time, ended (the aborted bake check and the Fail state too).
      expect(time(s.enteredAt)).toBeGreaterThanOrEqual(from);
      expect(s.exitedAt).toBeDefined();
      expect(time(s.exitedAt)).toBeLessThanOrEqual(to);
    }
  }
  expect(named('Production hook')).toHaveLength(2);
  expect(report.states.filter((s) => s.exitedAt === undefined)).toEqual([]);
});

test('rolled back for ProductionHookFailed, traffic back on the old color, detect and restore measured', () => {
  expect(report.status).toBe('FAILED');
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.cause).toMatch(
    /^ProductionHookFailed: .*answered FAILED after 2 calls: checkout returns 500/,
  );
  expect(report.verdicts).toContainEqual(
    expect.objectContaining({ passed: false, value: expect.stringContaining('ProductionHookFailed') }),
  );
  expect(report.colors).toEqual({ from: 'blue', to: 'green' });
  expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
    [100, 0],
    [0, 100],
    [100, 0],
  ]);
  const rolledBack = report.states.find((s) => s.name === 'Roll back')!;
  expect(report.weights[2].at).toBe(rolledBack.exitedAt);
  expect(report.timeToDetectMs).toBeGreaterThanOrEqual(0);
  expect(report.timeToRestoreMs).toBeGreaterThanOrEqual(0);
  // Detected no later than the Parallel state failed, restored no later than the release ended.
  const switched = time(report.weights[1].at);
  const parallel = report.states.find((s) => s.name === 'Bake and production hook')!;
  expect(switched + report.timeToDetectMs!).toBeLessThanOrEqual(time(parallel.exitedAt));
  expect(switched + report.timeToDetectMs! + report.timeToRestoreMs!).toBe(time(rolledBack.exitedAt));
  expect(report.gaps ?? []).toEqual([]);
});
