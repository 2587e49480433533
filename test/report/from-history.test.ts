/**
 * A real release's report from its Step Functions history: against histories recorded by running the synthesized
 * state machine (test/report/fixtures/record.ts: a canary with a manual approval, and a release that rolled back
 * after the switch), and against small hand-made histories for what those two do not show (retries, hooks,
 * migrations, promote, many bake checks, a release still running or refused before Prepare).
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ReleaseState, StepVerdict } from '../../lambda/shared/release';
import { reportFromHistory } from '../../report/from-history';
import { BAKE_CHECKS_LISTED } from '../../report/verdicts';
import { recordedRelease } from './fixtures/load';

const canary = recordedRelease('canary-approved');
const rolledBack = recordedRelease('rolled-back');

/** The state data an event carries (entered: input, exited: output). */
function dataOf(e: HistoryEvent): ReleaseState | undefined {
  const text = e.stateEnteredEventDetails?.input ?? e.stateExitedEventDetails?.output;
  return text ? (JSON.parse(text) as ReleaseState) : undefined;
}

/** When the nth (from 0; -1 the last) event of this type for this state happened. */
function eventTime(events: readonly HistoryEvent[], type: string, name: string, nth = 0): string {
  const found = events.filter(
    (e) => e.type === type && (e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name) === name,
  );
  return found.at(nth)!.timestamp!.toISOString();
}

describe('a canary release with a manual approval (recorded from the synthesized state machine)', () => {
  const report = reportFromHistory('shop', canary.describe, canary.events);
  const finalState = JSON.parse(canary.describe.output!) as ReleaseState;

  test('the fixture is a whole history in three pages, ids in order', () => {
    expect(canary.pages).toHaveLength(3);
    expect(canary.pages.slice(0, 2).every((p) => typeof p.nextToken === 'string')).toBe(true);
    expect(canary.pages[2].nextToken).toBeUndefined();
    expect(canary.events.map((e) => e.id)).toEqual(canary.events.map((_, i) => i + 1));
    expect(canary.events[0].type).toBe('ExecutionStarted');
    expect(canary.events[canary.events.length - 1].type).toBe('ExecutionSucceeded');
  });

  test('identity, outcome, who started it, and the colors', () => {
    expect(report).toMatchObject({
      app: 'shop',
      release: canary.describe.name,
      status: 'SUCCEEDED',
      outcome: 'SUCCEEDED',
      image: finalState.release!.image,
      version: 'v2',
      startedAt: canary.describe.startDate!.toISOString(),
      endedAt: canary.events[canary.events.length - 1].timestamp!.toISOString(),
      startedBy: (JSON.parse(canary.describe.input!) as { startedBy: string }).startedBy,
      strategy: 'canary 10% for 2 min, then 100%',
      colors: { from: 'blue', to: 'green' },
    });
    expect(report.gaps).toBeUndefined();
    expect(report.timeToDetectMs).toBeUndefined();
  });

  test('every state entered, in order, with its entry and exit times', () => {
    const entered = canary.events.filter((e) => e.stateEnteredEventDetails);
    expect(report.states.map((s) => s.name)).toEqual(entered.map((e) => e.stateEnteredEventDetails!.name));
    const gate = report.states.find((s) => s.name === 'Wait for approval')!;
    expect(gate.enteredAt).toBe(eventTime(canary.events, 'TaskStateEntered', 'Wait for approval'));
    expect(gate.exitedAt).toBe(eventTime(canary.events, 'TaskStateExited', 'Wait for approval'));
    // The release manager took six minutes.
    expect(Date.parse(gate.exitedAt!) - Date.parse(gate.enteredAt)).toBeGreaterThanOrEqual(6 * 60_000);
    const warm = report.states.find((s) => s.name === 'Keep old color warm')!;
    expect(Date.parse(warm.exitedAt!) - Date.parse(warm.enteredAt)).toBe(
      finalState.release!.timings.finishDelaySeconds * 1000,
    );
    // The Succeed state ends with the execution.
    expect(report.states[report.states.length - 1]).toMatchObject({
      name: 'Released',
      exitedAt: report.endedAt,
    });
    expect(report.states.every((s) => s.error === undefined)).toBe(true);
  });

  test('the approval: who, when, and their comment', () => {
    expect(report.approvals).toEqual([
      {
        by: finalState.approval!.approvedBy,
        at: finalState.approval!.at,
        what: `approved the switch at the manual gate: "${finalState.approval!.comment}"`,
      },
    ]);
    expect(report.approvals[0].by).toMatch(/release-manager\/bob$/);
  });

  test("Validate's checks, each value beside its threshold", () => {
    const checks = finalState.release!.validation!.checks;
    const smoke = report.verdicts.filter((v) => v.state === 'Validate idle color');
    expect(smoke.map((v) => [v.kind, v.name, v.value, v.threshold, v.passed])).toEqual(
      checks.map((c) => [
        c.name === 'target health' ? 'health' : 'smoke',
        c.name,
        c.value,
        c.threshold,
        c.passed,
      ]),
    );
    expect(smoke.map((v) => v.name)).toEqual(['GET /health', 'GET /version', 'target health']);
  });

  test("the canary step's analysis: each metric's values, statistic and threshold, and the alarms", () => {
    const [step] = finalState.release!.shift!.verdicts as StepVerdict[];
    const [errors, latency] = step.metrics;
    const analysis = report.verdicts.filter((v) => v.kind === 'analysis');
    expect(analysis).toHaveLength(2);
    expect(analysis[0]).toMatchObject({
      name: 'step 1 (10% to green) errors',
      value: `new ${errors.new}, old ${errors.old}: p = ${errors.value!.toPrecision(2)}`,
      threshold: `p not below ${errors.threshold}: ${errors.test}`,
      passed: true,
    });
    expect(analysis[1]).toMatchObject({
      name: 'step 1 (10% to green) latency',
      value: `new ${latency.new}, old ${latency.old}: ratio ${latency.value!.toFixed(2)}`,
      threshold: `ratio new/old at most ${latency.threshold} (differences under 20 ms never fail)`,
      passed: true,
    });
    // Both carry figures: the fake world's traffic gave both colors enough requests.
    expect(errors.value).toBeGreaterThan(0.005);
    expect(analysis[0].value).toMatch(/^new \d+ of 1200 failed .*, old \d+ of 10800 failed/);
    expect(report.verdicts.find((v) => v.kind === 'alarm')).toMatchObject({
      name: 'step 1 (10% to green) alarms',
      value: 'none in ALARM',
      passed: true,
    });
    // Judged when the analysis returned it.
    const judged = canary.events.find(
      (e) => e.type === 'TaskStateExited' && (dataOf(e)?.release?.shift?.verdicts.length ?? 0) > 0,
    )!;
    expect(analysis[0].at).toBe(judged.timestamp!.toISOString());
  });

  test('one bake verdict per check of the new live color, all passed', () => {
    const checks = canary.events.filter(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Check new live color',
    );
    const bake = report.verdicts.filter((v) => v.kind === 'bake');
    expect(bake.map((v) => v.name)).toEqual(checks.map((_, i) => `bake check ${i + 1}`));
    expect(bake.every((v) => v.passed && v.threshold === 'fewer than 3 consecutive failed checks')).toBe(
      true,
    );
    expect(bake.map((v) => v.at)).toEqual(checks.map((e) => e.timestamp!.toISOString()));
  });

  test('weights over time: all blue, 10% green from the shift step, all green from the switch', () => {
    const release = finalState.release!;
    expect(report.weights).toEqual([
      { at: report.startedAt, blue: 100, green: 0 },
      { at: release.shift!.since ?? expect.any(String), blue: 90, green: 10 },
      { at: release.switchedAt, blue: 0, green: 100 },
    ]);
    // The step's weights were set while "Shift traffic" ran, the switch's while "Switch traffic" ran.
    const shift = report.states.find((s) => s.name === 'Shift traffic')!;
    expect(report.weights[1].at >= shift.enteredAt && report.weights[1].at <= shift.exitedAt!).toBe(true);
    const sw = report.states.find((s) => s.name === 'Switch traffic')!;
    expect(report.weights[2].at >= sw.enteredAt && report.weights[2].at <= sw.exitedAt!).toBe(true);
    // Verdicts come out in time order.
    const times = report.verdicts.map((v) => v.at);
    expect([...times].sort()).toEqual(times);
  });
});

describe('a release that rolled back after the switch (recorded from the synthesized state machine)', () => {
  const report = reportFromHistory('shop', rolledBack.describe, rolledBack.events);

  test('outcome, error and cause, and the failed states with theirs', () => {
    expect(report).toMatchObject({ status: 'FAILED', outcome: 'ROLLED_BACK', error: 'RolledBack' });
    expect(report.cause).toMatch(
      /^UnhealthyAfterSwitch: green .* failed during the bake, check 3: .* Rolled back/,
    );
    const watch = report.states.filter((s) => s.name === 'Check new live color');
    expect(watch.map((s) => s.error)).toEqual([undefined, undefined, 'UnhealthyAfterSwitch']);
    expect(watch[2].cause).toMatch(/^green \(.*:v3\) failed during the bake, check 3: 3 consecutive failed/);
    const end = report.states[report.states.length - 1];
    expect(end).toMatchObject({ name: 'Rolled back', error: 'RolledBack', exitedAt: report.endedAt });
    expect(report.approvals).toEqual([]);
  });

  test('the bake checks: two failing ones, then the one that rolled it back', () => {
    const bake = report.verdicts.filter((v) => v.kind === 'bake');
    expect(bake.map((v) => [v.name, v.passed])).toEqual([
      ['bake check 1', false],
      ['bake check 2', false],
      ['bake check 3', false],
    ]);
    expect(bake[0].value).toMatch(/^failed \(1 in a row\)/);
    expect(bake[2].value).toMatch(/^UnhealthyAfterSwitch: .*status 503 \(through production\)\.$/);
  });

  test('weights: to green at the switch, back to blue when "Roll back" ended; time to detect and restore', () => {
    const switched = eventTime(rolledBack.events, 'TaskStateExited', 'Switch traffic');
    const rolled = eventTime(rolledBack.events, 'TaskStateExited', 'Roll back');
    const thirdCheck = eventTime(rolledBack.events, 'TaskStateExited', 'Check new live color', 2);
    expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
      [100, 0],
      [0, 100],
      [100, 0],
    ]);
    expect(report.weights[2].at).toBe(rolled);
    expect(report.weights[1].at <= switched).toBe(true);
    // Detected by the bake check that sent it to "Roll back" (the third); restored when the rollback ended.
    expect(report.timeToDetectMs).toBe(Date.parse(thirdCheck) - Date.parse(report.weights[1].at));
    expect(report.timeToRestoreMs).toBe(Date.parse(rolled) - Date.parse(thirdCheck));
    expect(report.timeToDetectMs).toBeGreaterThan(0);
  });
});

describe('a canary that failed its analysis and rolled back (recorded from the synthesized state machine)', () => {
  const recorded = recordedRelease('canary-rolled-back');
  const report = reportFromHistory('shop', recorded.describe, recorded.events);
  const failedAt = eventTime(recorded.events, 'TaskStateExited', 'Analyse step', -1);

  test("the failed step's metrics, read back from the Analyse step's error: values beside thresholds", () => {
    expect(report).toMatchObject({ outcome: 'ROLLED_BACK', error: 'RolledBack' });
    const analyse = report.states.filter((s) => s.name === 'Analyse step');
    expect(analyse[analyse.length - 1].error).toBe('AnalysisFailed');
    const cause = analyse[analyse.length - 1].cause!;
    expect(report.verdicts.filter((v) => v.kind === 'analysis')).toEqual([
      {
        at: failedAt,
        kind: 'analysis',
        name: 'step 1 (10% to green) errors',
        value:
          /errors: fail, (new .* failed \(.*%\) against old .* failed \(.*%\): p = [\d.e-]+) \(below/.exec(
            cause,
          )![1],
        threshold: 'p not below 0.005',
        passed: false,
        state: 'Analyse step',
      },
      {
        at: failedAt,
        kind: 'analysis',
        name: 'step 1 (10% to green) latency',
        value: /latency: pass, (new .* ms against old .* ms: ratio [\d.]+) \(limit/.exec(cause)![1],
        threshold: 'ratio new/old at most 1.25',
        passed: true,
        state: 'Analyse step',
      },
    ]);
    expect(report.verdicts[3].value).toMatch(/^new \d+ of \d+ failed \(2\.0%\) against old/);
  });

  test('weights 10% to green, then all back to blue; detected by the analysis, restored by the rollback', () => {
    const rolled = eventTime(recorded.events, 'TaskStateExited', 'Roll back');
    expect(report.weights.map((w) => [w.blue, w.green])).toEqual([
      [100, 0],
      [90, 10],
      [100, 0],
    ]);
    expect(report.weights[2].at).toBe(rolled);
    // The step's window (2 min) and the metrics' settling (1 min) before the verdict.
    expect(report.timeToDetectMs).toBe(Date.parse(failedAt) - Date.parse(report.weights[1].at));
    expect(report.timeToDetectMs).toBeGreaterThanOrEqual(180_000);
    expect(report.timeToRestoreMs).toBe(Date.parse(rolled) - Date.parse(failedAt));
  });
});

/** Hand-made history events (oldest first, 10 s apart), for what the recorded releases do not show. */
function historyOf(...steps: [string, string, object?][]): HistoryEvent[] {
  let t = Date.parse('2026-11-26T10:00:00Z');
  let id = 0;
  const event = (type: string, details: Partial<HistoryEvent>): HistoryEvent => ({
    id: ++id,
    previousEventId: id - 1,
    timestamp: new Date((t += 10_000)),
    type: type as HistoryEvent['type'],
    ...details,
  });
  const out: HistoryEvent[] = [event('ExecutionStarted', { executionStartedEventDetails: { input: '{}' } })];
  for (const [kind, name, data] of steps) {
    if (kind === 'enter') {
      out.push(
        event('TaskStateEntered', { stateEnteredEventDetails: { name, input: JSON.stringify(data ?? {}) } }),
      );
    } else if (kind === 'exit') {
      out.push(
        event('TaskStateExited', { stateExitedEventDetails: { name, output: JSON.stringify(data ?? {}) } }),
      );
    } else if (kind === 'fail') {
      out.push(
        event('LambdaFunctionFailed', {
          lambdaFunctionFailedEventDetails: {
            error: name,
            cause: JSON.stringify({
              errorType: name,
              errorMessage: String((data as { message?: string }).message),
            }),
          },
        }),
      );
    } else if (kind === 'ok') {
      out.push(event('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: '{}' } }));
    }
  }
  return out;
}

const RELEASE = JSON.parse(canary.describe.output!) as ReleaseState;

describe('what the recorded releases do not show', () => {
  test('a failed attempt that a retry mended leaves no error on its state', () => {
    const events = historyOf(
      ['enter', 'Switch traffic', RELEASE],
      ['fail', 'Lambda.ServiceException', { message: 'Rate exceeded' }],
      ['ok', ''],
      ['exit', 'Switch traffic', RELEASE],
    );
    const report = reportFromHistory('shop', { name: 'r', status: 'RUNNING', input: '{}' }, events);
    expect(report.states).toEqual([
      { name: 'Switch traffic', enteredAt: '2026-11-26T10:00:20.000Z', exitedAt: '2026-11-26T10:00:50.000Z' },
    ]);
  });

  test('hook answers, migration exit codes, a promotion, and a failed migration with its phase', () => {
    const release = RELEASE.release!;
    const hooks = [
      {
        hook: 'afterShift',
        functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-e2e',
        status: 'IN_PROGRESS',
        summary: 'running 12 tests',
        attempt: 1,
        at: '2026-11-26T10:00:25.000Z',
      },
      {
        hook: 'afterShift',
        functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-e2e',
        status: 'FAILED',
        summary: '2 of 12 tests failed',
        attempt: 2,
        at: '2026-11-26T10:00:35.000Z',
      },
    ];
    const events = historyOf(
      ['enter', 'Expand database', { release }],
      ['exit', 'Expand database', { release, migrations: { expand: { task: 't1', exitCode: 0 } } }],
      [
        'exit',
        'Analyse step',
        {
          release: {
            ...release,
            hooks,
            shift: {
              ...release.shift,
              promotedBy: { by: 'arn:aws:sts::1:assumed-role/o/carol', at: '2026-11-26T10:00:40.000Z' },
            },
          },
        },
      ],
      [
        'exit',
        'Backfill database',
        { release, failure: { Error: 'States.TaskFailed', Cause: 'exit 3', phase: 'backfill' } },
      ],
    );
    const report = reportFromHistory('shop', { name: 'r', status: 'FAILED', input: '{}' }, events);
    expect(report.verdicts.filter((v) => v.kind === 'hook')).toMatchObject([
      { name: 'afterShift hook (call 1)', value: 'IN_PROGRESS: running 12 tests', passed: true },
      { name: 'afterShift hook (call 2)', value: 'FAILED: 2 of 12 tests failed', passed: false },
    ]);
    expect(report.verdicts.filter((v) => v.kind === 'migration')).toMatchObject([
      { name: 'expand migration', value: 'exit code 0', threshold: 'exit code 0', passed: true },
      { name: 'backfill migration', value: 'States.TaskFailed: exit 3', passed: false },
    ]);
    expect(report.approvals).toContainEqual({
      by: 'arn:aws:sts::1:assumed-role/o/carol',
      at: '2026-11-26T10:00:40.000Z',
      what: 'promoted the gradual shift to 100% (bluegreen promote)',
    });
    expect(report.gaps).toContain(
      'No ending step completed (the execution is FAILED): the published outcome is not in the history.',
    );
  });

  test(`more than ${BAKE_CHECKS_LISTED} bake checks: failing ones each, passing runs summed`, () => {
    const release = RELEASE.release!;
    const check = (checks: number, consecutiveFailures: number) =>
      [
        'exit',
        'Check new live color',
        { release: { ...release, watch: { until: '', checks, consecutiveFailures } } },
      ] as [string, string, Record<string, unknown>];
    const failing = new Set([7, 8]);
    const events = historyOf(
      ...Array.from({ length: 20 }, (_, i) => check(i + 1, failing.has(i + 1) ? i - 5 : 0)),
    );
    const report = reportFromHistory('shop', { name: 'r', status: 'RUNNING', input: '{}' }, events);
    expect(report.verdicts.filter((v) => v.kind === 'bake').map((v) => [v.name, v.value, v.passed])).toEqual([
      ['bake checks 1-6', '6 checks passed', true],
      ['bake check 7', 'failed (1 in a row)', false],
      ['bake check 8', 'failed (2 in a row)', false],
      ['bake checks 9-20', '12 checks passed', true],
    ]);
  });

  test("a failure caught in a state is a verdict of that state's kind, once, however far it travels", () => {
    const release = RELEASE.release!;
    const failure = {
      Error: 'DeployFailed',
      Cause: JSON.stringify({ errorType: 'DeployFailed', errorMessage: 'green: 3 tasks failed to start' }),
    };
    const events = historyOf(
      ['enter', 'Deploy to idle color', { release }],
      ['fail', 'DeployFailed', { message: 'green: 3 tasks failed to start' }],
      ['exit', 'Deploy to idle color', { release, failure }],
      ['enter', 'Abort', { release, failure }],
      ['exit', 'Abort', { release, failure, outcome: { error: 'DeployFailed', cause: 'x' } }],
    );
    const report = reportFromHistory('shop', { name: 'r', status: 'FAILED', input: '{}' }, events);
    expect(report.verdicts.filter((v) => !v.passed)).toEqual([
      {
        at: '2026-11-26T10:00:40.000Z', // when the Catch sent it on
        kind: 'health',
        name: 'Deploy to idle color',
        value: 'DeployFailed: green: 3 tasks failed to start',
        threshold: 'no error',
        passed: false,
        state: 'Deploy to idle color',
      },
    ]);
    expect(report.states[0]).toMatchObject({
      error: 'DeployFailed',
      cause: 'green: 3 tasks failed to start',
    });
    expect(report.outcome).toBe('ABORTED');
    // Traffic never moved: nothing to detect or restore.
    expect(report.timeToDetectMs).toBeUndefined();
  });

  test('gaps, said plainly: still running, nobody named, refused before Prepare', () => {
    const running = reportFromHistory(
      'shop',
      { name: 'r', status: 'RUNNING', input: '{"image":"x:v9"}' },
      historyOf(),
    );
    expect(running.gaps).toEqual([
      'No state carried the release (it ended before Prepare read the release record), so which color was live and how traffic moved are unknown.',
      'The release is still running: this report shows it as far as it went.',
      'Who started the release is not recorded (its input has no startedBy: it was not started by the bluegreen CLI).',
    ]);
    expect(running.image).toBe('x:v9');
    expect(running.outcome).toBeUndefined();
    const refused = reportFromHistory(
      'shop',
      {
        name: 'r',
        status: 'FAILED',
        input: '{"startedBy":"ci"}',
        error: 'InvalidInput',
        cause: 'image: is required',
      },
      historyOf(
        ['enter', 'Refuse', {}],
        ['exit', 'Refuse', { outcome: { error: 'InvalidInput', cause: 'x' } }],
      ),
    );
    expect(refused).toMatchObject({ outcome: 'REFUSED', startedBy: 'ci', error: 'InvalidInput' });
    const stopped = reportFromHistory('shop', { name: 'r', status: 'ABORTED', input: '{}' }, historyOf());
    expect(stopped.gaps).toContain(
      "The execution was stopped before an ending step ran: the Stopped step published its outcome on the releases topic, which the execution's history does not hold.",
    );
  });
});
