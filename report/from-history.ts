/**
 * A real release's report from what Step Functions recorded of it: the execution's description (DescribeExecution)
 * and its whole history (GetExecutionHistory, oldest first). Pure: no SDK call, no clock; whatever the history does
 * not say goes into `gaps` as a sentence, never guessed.
 *
 * Where each part comes from (the state data each step returns, lambda/shared/release.ts):
 * - states: the <Type>StateEntered / <Type>StateExited events; a state that failed gets the error and cause of its
 *   last LambdaFunctionFailed / TaskFailed / TaskTimedOut (a retry that then worked clears it) or ExecutionFailed.
 * - startedBy: the execution input's `startedBy` (the CLI sends the caller's identity).
 * - approvals: the manual gate's `approval` (approvedBy, at, comment), `release.shift.promotedBy` (bluegreen promote).
 * - verdicts: `release.validation.checks`, each shift step's `release.shift.verdicts[]` (metrics and alarms), each
 *   bake check (`release.watch` of every "Check new live color" output), `release.hooks[]`, the migration tasks'
 *   exit codes (`migrations`), and the failure a Catch recorded (`failure`).
 * - weights: `release.shift.weights` since `release.shift.since` per step, `release.switchedAt` (all to the new
 *   color), and the end of "Roll back" (all back to the old color), or the stop by `bluegreen rollback` (approximate).
 * - outcome: the ending step that completed (Finish, Abort, Refuse, Roll back, Report rollback failure, Report
 *   contract failure), which published that status (lambda/workflow/conclude.ts); ROLLED_BACK for an execution
 *   `bluegreen rollback` stopped (error ManualRollback) after its switch, since the CLI then moves traffic back.
 * - time to detect and to restore: report/detection.ts.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Release, ReleaseState, StepVerdict } from '../lambda/shared/release';
import { causeMessage } from '../lambda/shared/release';
import type { Color } from '../lambda/shared/release-record';
import { MANUAL_ROLLBACK } from '../lambda/shared/errors';
import { phaseOf, STATES } from '../lambda/shared/state-names';
import { describeStrategy } from '../lambda/shared/strategy';
import { jsonOrUndefined } from '../lib/json';
import type { TrafficWeights } from '../lambda/shared/traffic';
import { detection, type RollbackSeen } from './detection';
import type { ReleaseReport, ReportState, ReportVerdict } from './model';
import {
  bakeVerdicts,
  checkVerdicts,
  failedStepVerdicts,
  failureVerdict,
  hookVerdict,
  migrationVerdict,
  stepVerdicts,
  type BakeCheck,
} from './verdicts';

/** What DescribeExecution says of the execution (the SDK's output, as far as the report reads it). */
export interface ExecutionDescription {
  readonly name?: string;
  readonly status?: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
  readonly input?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** The status each ending step publishes once it completed (lambda/workflow/conclude.ts). */
const ENDINGS: Readonly<Record<string, string>> = {
  [STATES.finish]: 'SUCCEEDED',
  [STATES.refuse]: 'REFUSED',
  [STATES.abort]: 'ABORTED',
  [STATES.rollback]: 'ROLLED_BACK',
  [STATES.reportRollbackFailure]: 'ROLLBACK_FAILED',
  [STATES.reportContractFailure]: 'CONTRACT_FAILED',
};

export function reportFromHistory(
  app: string,
  execution: ExecutionDescription,
  oldestFirst: readonly HistoryEvent[],
): ReleaseReport {
  const gaps: string[] = [];
  const states: MutableState[] = [];
  const verdicts: ReportVerdict[] = [];
  const approvals: { by: string; at: string; what: string }[] = [];
  const seenApprovals = new Set<string>();
  const shiftVerdicts: { verdict: StepVerdict; at: string }[] = [];
  const hooks = new Set<string>();
  const migrations = new Set<string>();
  const bake: BakeCheck[] = [];
  const stepWeights: { at: string; weights: TrafficWeights }[] = [];
  let release: Release | undefined;
  let validationSeen = false;
  let truncated = false;
  let ending: { state: string; at: string } | undefined;
  let rollback: { -readonly [K in keyof RollbackSeen]: RollbackSeen[K] } | undefined;
  let lastExit: { at: string; caught?: string } | undefined;
  let stoppedIn: string | undefined;
  let lastFailure: { Error: string; Cause: string } | undefined;
  let executionEnd: { at: string; error?: string; cause?: string } | undefined;
  let startInput: string | undefined;

  /** The Parallel states entered (their branches' states follow them, interleaved). */
  const parallels = new Set<MutableState>();
  const open = () => [...states].reverse().find((s) => s.exitedAt === undefined);
  for (const event of oldestFirst) {
    const at = (event.timestamp ?? new Date(0)).toISOString();
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (event.type === 'ExecutionStarted') {
      startInput = event.executionStartedEventDetails?.input;
    }
    if (entered?.name) {
      if (entered.name === STATES.rollback && !rollback) {
        // What sent it here: the failure the Catch of the state just left caught.
        const caught =
          lastExit?.caught !== undefined ? { at: lastExit.at, error: lastExit.caught } : undefined;
        rollback = { enteredAt: at, failed: false, ...(caught ? { caught } : {}) };
      }
      states.push({ name: entered.name, enteredAt: at });
      if (event.type === 'ParallelStateEntered') {
        parallels.add(states[states.length - 1]);
      }
      truncated ||= entered.inputDetails?.truncated === true;
      const data = jsonOrUndefined<ReleaseState>(entered.input);
      release = data?.release ?? release;
      continue;
    }
    if (exited?.name) {
      const state = [...states].reverse().find((s) => s.name === exited.name && s.exitedAt === undefined);
      if (state) {
        state.exitedAt = at;
      }
      truncated ||= exited.outputDetails?.truncated === true;
      const data = jsonOrUndefined<ReleaseState>(exited.output);
      lastExit = { at };
      if (!data) {
        continue;
      }
      release = data.release ?? release;
      const r = data.release;
      if (r?.validation && !validationSeen) {
        validationSeen = true;
        verdicts.push(...checkVerdicts(r.validation, exited.name));
      }
      if (data.approval) {
        const key = `${data.approval.approvedBy} ${data.approval.at}`;
        if (!seenApprovals.has(key)) {
          seenApprovals.add(key);
          approvals.push({
            by: data.approval.approvedBy,
            at: validTime(data.approval.at) ?? at,
            what:
              'approved the switch at the manual gate' +
              (data.approval.comment ? `: "${data.approval.comment}"` : ''),
          });
        }
      }
      const promoted = r?.shift?.promotedBy;
      if (promoted && !seenApprovals.has(`promote ${promoted.by} ${promoted.at}`)) {
        seenApprovals.add(`promote ${promoted.by} ${promoted.at}`);
        approvals.push({
          by: promoted.by,
          at: promoted.at,
          what: 'promoted the gradual shift to 100% (bluegreen promote)',
        });
      }
      for (const [i, verdict] of (r?.shift?.verdicts ?? []).entries()) {
        if (i >= shiftVerdicts.length) {
          shiftVerdicts.push({ verdict, at });
        }
      }
      if (r?.shift?.weights && r.shift.since && !stepWeights.some((w) => w.at === r.shift!.since)) {
        stepWeights.push({ at: r.shift.since, weights: r.shift.weights });
      }
      if (exited.name === STATES.watch && r?.watch && !data.failure) {
        bake.push({
          at,
          checks: r.watch.checks,
          failures: r.watch.consecutiveFailures,
          checked: r.watch.checked,
          ignored: r.watch.ignoredAlarms ?? [],
        });
      }
      for (const answer of r?.hooks ?? []) {
        const key = `${answer.hook} ${answer.attempt} ${answer.at}`;
        if (!hooks.has(key)) {
          hooks.add(key);
          verdicts.push(hookVerdict(answer, exited.name));
        }
      }
      for (const [phase, task] of Object.entries(data.migrations ?? {})) {
        if (task && !migrations.has(phase)) {
          migrations.add(phase);
          verdicts.push(migrationVerdict(phase, task, at, exited.name));
        }
      }
      // A caught failure travels on in the state data: each one is a verdict once.
      const failure = data.failure && { ...data.failure, Cause: causeMessage(data.failure.Cause) };
      if (failure && (lastFailure?.Error !== failure.Error || lastFailure.Cause !== failure.Cause)) {
        lastFailure = failure;
        lastExit.caught = failure.Error;
        const failedStep =
          exited.name === STATES.analyse ? failedStepVerdicts(failure.Cause, at, exited.name) : undefined;
        verdicts.push(
          ...(failedStep ?? [failureVerdict(failure, exited.name, at, bake[bake.length - 1]?.checks ?? 0)]),
        );
      }
      if (exited.name === STATES.rollback && rollback) {
        // Its Catch goes on to "Report failed rollback" with `rollbackFailure`: traffic did not go back.
        rollback.failed = data.rollbackFailure !== undefined;
        rollback.doneAt = rollback.failed ? undefined : at;
      }
      if (ENDINGS[exited.name] && !(exited.name === STATES.rollback && data.rollbackFailure)) {
        ending = { state: exited.name, at };
      }
      continue;
    }
    if (event.type === 'ParallelStateFailed' || event.type?.endsWith('StateAborted')) {
      // A branch failed: the Parallel state's Fail state (no exit event) and the other branches' states still
      // running (aborted, no exit event either) end here.
      const parallel = [...states].reverse().find((s) => parallels.has(s) && s.exitedAt === undefined);
      for (const s of states.slice(parallel ? states.indexOf(parallel) + 1 : states.length)) {
        s.exitedAt ??= at;
      }
      continue;
    }
    const failure =
      event.lambdaFunctionFailedEventDetails ??
      event.taskFailedEventDetails ??
      event.lambdaFunctionTimedOutEventDetails ??
      event.taskTimedOutEventDetails ??
      event.lambdaFunctionScheduleFailedEventDetails ??
      event.lambdaFunctionStartFailedEventDetails ??
      event.taskStartFailedEventDetails ??
      event.taskSubmitFailedEventDetails;
    const state = open();
    if (failure && state) {
      state.error = failure.error ?? 'Error';
      state.cause = causeMessage(failure.cause);
    } else if (
      (event.type === 'LambdaFunctionSucceeded' || event.type === 'TaskSucceeded') &&
      state?.error !== undefined
    ) {
      delete state.error; // an attempt failed, a retry worked
      delete state.cause;
    }
    const end =
      event.executionFailedEventDetails ??
      event.executionAbortedEventDetails ??
      event.executionTimedOutEventDetails;
    if (end || event.type === 'ExecutionSucceeded') {
      executionEnd = { at, error: end?.error, cause: end?.cause };
      stoppedIn = (state ?? states[states.length - 1])?.name;
      if (state && end && event.type === 'ExecutionFailed') {
        // A Fail state (no exit event): it ends where the execution ends, with its error and cause.
        state.exitedAt = at;
        state.error = end.error;
        state.cause = causeMessage(end.cause);
      } else if (state && end) {
        state.exitedAt = at;
        state.error ??= end.error;
        state.cause ??= end.cause && causeMessage(end.cause);
      } else if (state?.exitedAt === undefined && state) {
        state.exitedAt = at;
      }
    }
  }

  // Bake checks: each Watch output is one check; many are summarized.
  verdicts.push(...bakeVerdicts(bake, release));
  for (const { verdict, at } of shiftVerdicts) {
    verdicts.push(...stepVerdicts(verdict, at, release?.idle));
  }
  verdicts.sort((a, b) => a.at.localeCompare(b.at));

  // A release stopped by `bluegreen rollback`, in a state after its switch: the CLI then moves all traffic back to
  // the old color and publishes the outcome itself, outside the history (cli/commands/rollback.ts); stopped
  // anywhere else, it refused to move traffic.
  const status = execution.status ?? (executionEnd ? 'UNKNOWN' : 'RUNNING');
  const manual =
    status === 'ABORTED' && (execution.error ?? executionEnd?.error) === MANUAL_ROLLBACK
      ? {
          at: executionEnd?.at ?? execution.stopDate?.toISOString(),
          movedBack: phaseOf(stoppedIn ?? '') === 'after-switch',
        }
      : undefined;

  // Weights over time.
  const startedAt = (execution.startDate ?? oldestFirst[0]?.timestamp ?? new Date(0)).toISOString();
  const weights: { at: string; blue: number; green: number }[] = [];
  if (release) {
    const all = (color: Color) => ({ blue: color === 'blue' ? 100 : 0, green: color === 'green' ? 100 : 0 });
    weights.push({ at: startedAt, ...all(release.live) });
    for (const step of stepWeights) {
      weights.push({ at: step.at, ...percents(step.weights) });
    }
    if (release.switchedAt) {
      weights.push({ at: release.switchedAt, ...all(release.idle) });
    }
    if (rollback?.doneAt) {
      weights.push({ at: rollback.doneAt, ...all(release.live) });
    }
    if (manual?.movedBack && manual.at) {
      weights.push({ at: manual.at, ...all(release.live) });
      gaps.push(
        `bluegreen rollback stopped the release at ${manual.at}, then moved all traffic back to ${release.live}: ` +
          'the history cannot tell exactly when the CLI moved it, so the weights show it at the stop (approximate).',
      );
    }
    weights.sort((a, b) => a.at.localeCompare(b.at));
  } else {
    gaps.push(
      'No state carried the release (it ended before Prepare read the release record), so which color was live ' +
        'and how traffic moved are unknown.',
    );
  }

  // Outcome.
  let outcome: string | undefined;
  if (ending) {
    outcome = ENDINGS[ending.state] === 'ABORTED' && !release ? 'REFUSED' : ENDINGS[ending.state];
  } else if (manual?.movedBack) {
    outcome = 'ROLLED_BACK'; // by an operator: the cause says who
  } else if (manual) {
    gaps.push(
      `bluegreen rollback stopped the release in "${stoppedIn ?? '?'}", where it does not move traffic (that step ` +
        'may still have been running): the history does not say where traffic went; bluegreen status shows where it is.',
    );
  } else if (status === 'RUNNING') {
    gaps.push('The release is still running: this report shows it as far as it went.');
  } else if (status === 'ABORTED' || status === 'TIMED_OUT') {
    gaps.push(
      `The execution was ${status === 'ABORTED' ? 'stopped' : 'timed out'} before an ending step ran: the ` +
        "Stopped step published its outcome on the releases topic, which the execution's history does not hold.",
    );
  } else {
    gaps.push(
      `No ending step completed (the execution is ${status}): the published outcome is not in the history.`,
    );
  }

  // Time to detect and to restore.
  const moved = release ? weights.find((w) => w[release.idle] > 0) : undefined;
  const { timeToDetectMs, timeToRestoreMs, ...detected } = detection(
    moved?.at,
    rollback,
    verdicts,
    manual?.movedBack === true,
  );
  gaps.push(...detected.gaps);

  const input = jsonOrUndefined<{ startedBy?: unknown; image?: unknown; version?: unknown }>(
    execution.input ?? startInput,
  );
  const startedBy = typeof input?.startedBy === 'string' ? input.startedBy : undefined;
  if (!startedBy) {
    gaps.push(
      'Who started the release is not recorded (its input has no startedBy: it was not started by the bluegreen CLI).',
    );
  }
  if (truncated) {
    gaps.push(
      'Some state data was cut short by Step Functions (over 256 KiB): verdicts from those states may be missing.',
    );
  }
  const image = release?.image ?? (typeof input?.image === 'string' ? input.image : undefined);
  const version = release?.version ?? (typeof input?.version === 'string' ? input.version : undefined);
  const name = execution.name ?? '?';
  const endedAt = executionEnd?.at ?? execution.stopDate?.toISOString();
  return {
    app,
    release: name,
    title: `${app} ${version ?? image ?? ''}`.trim() + ` (${name})`,
    ...(image ? { image } : {}),
    ...(version ? { version } : {}),
    status,
    ...(outcome ? { outcome } : {}),
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: causeMessage(execution.cause) } : {}),
    startedAt,
    ...(endedAt ? { endedAt } : {}),
    ...(startedBy ? { startedBy } : {}),
    approvals,
    ...(release?.strategy ? { strategy: describeStrategy(release.strategy) } : {}),
    colors: release ? { from: release.live, to: release.idle } : { from: 'blue', to: 'green' },
    states: states.map((s) => ({ ...s })),
    verdicts,
    weights,
    ...(timeToDetectMs !== undefined ? { timeToDetectMs } : {}),
    ...(timeToRestoreMs !== undefined ? { timeToRestoreMs } : {}),
    ...(gaps.length > 0 ? { gaps } : {}),
  };
}

type MutableState = { -readonly [K in keyof ReportState]: ReportState[K] };

function percents(w: TrafficWeights): { blue: number; green: number } {
  const total = w.blue + w.green;
  if (total === 0) {
    return { blue: 0, green: 0 };
  }
  const blue = Math.round((1000 * w.blue) / total) / 10;
  return { blue, green: Math.round((100 - blue) * 10) / 10 };
}

function validTime(text: string | undefined): string | undefined {
  return text && !Number.isNaN(Date.parse(text)) ? new Date(text).toISOString() : undefined;
}
