/**
 * Time to detect and to restore, and a release rolled back by hand: against the recorded releases
 * (test/report/fixtures), changed where they do not show a case (a bake check that failed once and recovered, a
 * rollback that failed, an inconclusive analysis, a `bluegreen rollback` stop).
 */
import type { DescribeExecutionOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import type { ReleaseState } from '../../lambda/shared/release';
import { reportFromHistory } from '../../report/from-history';
import { recordedRelease } from './fixtures/load';

const canary = recordedRelease('canary-approved');
const rolledBack = recordedRelease('rolled-back');
const canaryRolledBack = recordedRelease('canary-rolled-back');

function nameOf(e: HistoryEvent): string | undefined {
  return e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name;
}

/** When the nth (from 0; -1 the last) event of this type for this state happened. */
function eventTime(events: readonly HistoryEvent[], type: string, name: string, nth = 0): string {
  return events
    .filter((e) => e.type === type && nameOf(e) === name)
    .at(nth)!
    .timestamp!.toISOString();
}

/** The events with the state data of the exits of `name` for which `which` holds changed by `change`. */
function withOutput(
  events: readonly HistoryEvent[],
  name: string,
  which: (data: ReleaseState, nth: number) => boolean,
  change: (data: ReleaseState) => ReleaseState,
): HistoryEvent[] {
  let nth = 0;
  return events.map((e) => {
    const exited = e.stateExitedEventDetails;
    if (exited?.name !== name || !exited.output) {
      return e;
    }
    const data = JSON.parse(exited.output) as ReleaseState;
    if (!which(data, nth++)) {
      return e;
    }
    return { ...e, stateExitedEventDetails: { ...exited, output: JSON.stringify(change(data)) } };
  });
}

describe('time to detect: the failure that sent the release to "Roll back", never a check that recovered', () => {
  test('a released canary whose second bake check failed once, then passed: nothing detected', () => {
    const events = withOutput(
      canary.events,
      'Check new live color',
      (d) => d.release?.watch?.checks === 2,
      (d) => ({ ...d, release: { ...d.release!, watch: { ...d.release!.watch!, consecutiveFailures: 1 } } }),
    );
    const report = reportFromHistory('shop', canary.describe, events);

    const bake = report.verdicts.filter((v) => v.kind === 'bake');
    expect(bake.find((v) => v.name === 'bake check 2')).toMatchObject({ passed: false });
    expect(report.outcome).toBe('SUCCEEDED');
    expect(report.timeToDetectMs).toBeUndefined();
    expect(report.timeToRestoreMs).toBeUndefined();
    expect(report.gaps).toBeUndefined();
  });

  test('rolled back at bake check 3 (checks 1 and 2 failed too): detected by check 3, restored at the end of "Roll back"', () => {
    const report = reportFromHistory('shop', rolledBack.describe, rolledBack.events);
    const switched = eventTime(rolledBack.events, 'TaskStateExited', 'Switch traffic');
    const third = eventTime(rolledBack.events, 'TaskStateExited', 'Check new live color', 2);
    const rolled = eventTime(rolledBack.events, 'TaskStateExited', 'Roll back');
    expect(eventTime(rolledBack.events, 'TaskStateExited', 'Check new live color', 0) < third).toBe(true);

    expect(report.weights[1]).toMatchObject({ at: switched, blue: 0, green: 100 });
    expect(report.timeToDetectMs).toBe(Date.parse(third) - Date.parse(switched));
    expect(report.timeToRestoreMs).toBe(Date.parse(rolled) - Date.parse(third));
    expect(report.gaps).toBeUndefined();
  });

  test('a rollback that failed: detected, never restored (no weights back), and the gap says why', () => {
    const rollbackFailure = { Error: 'ListenerUpdateFailed', Cause: 'AccessDenied on ModifyListener' };
    const exitAt = eventTime(rolledBack.events, 'TaskStateExited', 'Roll back');
    const upToRollback = withOutput(
      rolledBack.events.filter((e) => e.type !== 'FailStateEntered' && e.type !== 'ExecutionFailed'),
      'Roll back',
      () => true,
      (d) => ({ ...d, outcome: undefined, rollbackFailure }),
    );
    const last = upToRollback[upToRollback.length - 1];
    const t = (s: number) => new Date(Date.parse(exitAt) + s * 1000);
    const report = reportFromHistory(
      'shop',
      {
        ...rolledBack.describe,
        error: 'RollbackFailed',
        cause: 'Switching back failed: operators must act.',
      },
      [
        ...upToRollback,
        {
          id: last.id! + 1,
          timestamp: t(5),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Report failed rollback', input: '{}' },
        },
        {
          id: last.id! + 2,
          timestamp: t(10),
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'Report failed rollback', output: '{}' },
        },
        {
          id: last.id! + 3,
          timestamp: t(10),
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: 'RollbackFailed', cause: 'x' },
        },
      ],
    );

    expect(report.outcome).toBe('ROLLBACK_FAILED');
    expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
      [100, 0],
      [0, 100],
    ]);
    const third = eventTime(rolledBack.events, 'TaskStateExited', 'Check new live color', 2);
    expect(report.timeToDetectMs).toBe(Date.parse(third) - Date.parse(report.weights[1].at));
    expect(report.timeToRestoreMs).toBeUndefined();
    expect(report.gaps).toEqual([
      'The rollback failed: the history does not show traffic back on the old color, so time to restore is not given.',
    ]);
  });

  test('a canary rolled back because its analysis was inconclusive: nothing detected, and the gap says why', () => {
    const failedAt = eventTime(canaryRolledBack.events, 'TaskStateExited', 'Analyse step', -1);
    const events = withOutput(
      canaryRolledBack.events,
      'Analyse step',
      (d) => d.failure !== undefined,
      (d) => ({ ...d, failure: { ...d.failure!, Error: 'AnalysisInconclusive' } }),
    );
    const report = reportFromHistory('shop', canaryRolledBack.describe, events);

    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.verdicts.some((v) => v.at === failedAt && !v.passed)).toBe(true);
    expect(report.timeToDetectMs).toBeUndefined();
    expect(report.timeToRestoreMs).toBeUndefined();
    expect(report.gaps).toEqual([
      'The release rolled back because its analysis was inconclusive (too little traffic to judge), not because a ' +
        'check failed: time to detect and to restore are not given.',
    ]);
  });
});

describe('a release stopped by bluegreen rollback (execution ABORTED, error ManualRollback)', () => {
  const cause =
    'Rolled back by arn:aws:sts::123456789012:assumed-role/operator/alice with bluegreen rollback: errors.';

  /** The canary's history up to the nth entry into `state`, then stopped 20 s later by `bluegreen rollback`. */
  function stoppedIn(
    state: string,
    nth: number,
  ): { report: ReturnType<typeof reportFromHistory>; at: string } {
    const entries = canary.events.filter((e) => e.stateEnteredEventDetails?.name === state);
    const cut = canary.events.slice(0, canary.events.indexOf(entries.at(nth)!) + 1);
    const last = cut[cut.length - 1];
    const stop = new Date(last.timestamp!.getTime() + 20_000);
    const describe: DescribeExecutionOutput & { name: string } = {
      ...canary.describe,
      status: 'ABORTED',
      stopDate: stop,
      output: undefined,
      error: 'ManualRollback',
      cause,
    };
    const events: HistoryEvent[] = [
      ...cut,
      {
        id: last.id! + 1,
        previousEventId: last.id,
        timestamp: stop,
        type: 'ExecutionAborted',
        executionAbortedEventDetails: { error: 'ManualRollback', cause },
      },
    ];
    return { report: reportFromHistory('shop', describe, events), at: stop.toISOString() };
  }

  test('stopped during the bake: rolled back by an operator, traffic back on the old color at the stop (approximate)', () => {
    const { report, at } = stoppedIn('Bake: wait', 0);

    expect(report).toMatchObject({
      status: 'ABORTED',
      outcome: 'ROLLED_BACK',
      error: 'ManualRollback',
      cause,
      endedAt: at,
    });
    expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
      [100, 0],
      [90, 10],
      [0, 100],
      [100, 0],
    ]);
    expect(report.weights[3].at).toBe(at);
    expect(report.timeToDetectMs).toBeUndefined();
    expect(report.timeToRestoreMs).toBeUndefined();
    expect(report.gaps).toEqual([
      `bluegreen rollback stopped the release at ${at}, then moved all traffic back to blue: the history cannot ` +
        'tell exactly when the CLI moved it, so the weights show it at the stop (approximate).',
      'An operator rolled the release back by hand (bluegreen rollback; the cause says who and why): no check of ' +
        'the workflow detected a fault, and the CLI moved traffic outside the history, so time to detect and to ' +
        'restore are not given.',
    ]);
    expect(report.gaps!.join(' ')).not.toMatch(/Stopped step/);
  });

  test('stopped during a canary step: the 10% split goes back to all blue', () => {
    const { report, at } = stoppedIn('Analyse step', 1);

    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.weights.map((w) => [w.at === at, w.blue, w.green])).toEqual([
      [false, 100, 0],
      [false, 90, 10],
      [true, 100, 0],
    ]);
  });

  test('stopped where the CLI refuses to move traffic ("Switch traffic" may still run): no outcome, and why', () => {
    const { report } = stoppedIn('Switch traffic', 0);

    expect(report.outcome).toBeUndefined();
    // Where the canary step left it: nothing says it went back.
    expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
      [100, 0],
      [90, 10],
    ]);
    expect(report.gaps).toContain(
      'bluegreen rollback stopped the release in "Switch traffic", where it does not move traffic (that step may ' +
        'still have been running): the history does not say where traffic went; bluegreen status shows where it is.',
    );
    expect(report.timeToDetectMs).toBeUndefined();
  });
});
