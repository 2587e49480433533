/**
 * The lifecycle hooks' step (config `release.hooks`): one call of the hook the state names (`state.hook`, set by
 * the "Start ... hook" Pass state), its answer appended to `release.hooks`, and what the state machine does next
 * in `state.hook`: IN_PROGRESS waits `waitSeconds` (a Wait state, never a sleep here) and calls again with the
 * details the hook returned, until the hook's timeout (TIMED_OUT); a final FAILED, ERROR or TIMED_OUT carries the
 * error and cause the release ends with (`hook.failure`; none for the rollback hook, which is informational).
 *
 * - beforeDeploy (admission): after Prepare took the lock, before anything is registered or deployed;
 *   AdmissionRefused refuses the release.
 * - afterShift (production): once all production traffic is on the new color, beside the bake's watch;
 *   ProductionHookFailed rolls back.
 * - onRollback: once the Roll back step moved traffic back; its answer goes into the published outcome.
 */
import {
  appendAnswer,
  describeAnswer,
  nextDelaySeconds,
  tidySummary,
  type HookTiming,
} from '../shared/hook-contract';
import { ReleaseErrors } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import {
  causeMessage,
  requireRelease,
  type HookAnswer,
  type HookRun,
  type Release,
  type ReleaseState,
  type WorkflowSettings,
} from '../shared/release';

export async function callHook(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'lifecycleHooks' | 'now'>,
  settings: Pick<WorkflowSettings, 'appName' | 'productionUrl' | 'testUrl' | 'hooks'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const run = state.hook;
  if (!run) {
    throw new Error('internal: the hook step runs after a "Start ... hook" state that names the hook');
  }
  const timing: HookTiming | undefined = settings.hooks?.[run.name];
  if (!timing || !deps.lifecycleHooks) {
    throw new Error(`internal: the ${run.name} hook runs, but this stack configures none (release.hooks)`);
  }
  const now = deps.now();
  const deadline = run.deadline ?? new Date(now.getTime() + timing.timeoutSeconds * 1000).toISOString();
  const previous = [...(release.hooks ?? [])].reverse().find((a) => a.hook === run.name);
  // The production hook runs beside the bake, the only time the new color's alarms are watched: once the bake is
  // over it is not called again (an IN_PROGRESS answer then fails the release rather than leave production unwatched).
  const bakeEnd = run.name === 'afterShift' && release.watch ? Date.parse(release.watch.until) : undefined;
  const bakeOver = run.attempt > 0 && bakeEnd !== undefined && now.getTime() >= bakeEnd;
  let answer: HookAnswer;
  let next: Pick<HookRun, 'details' | 'waitSeconds'> = {};
  if (now.getTime() >= Date.parse(deadline) || bakeOver) {
    // The wait after an IN_PROGRESS answer reached the deadline (or the bake's end): no more calls.
    answer = {
      hook: run.name,
      functionArn: previous?.functionArn ?? '(unknown)',
      status: 'TIMED_OUT',
      summary:
        (now.getTime() >= Date.parse(deadline)
          ? `no final answer within its timeout of ${timing.timeoutSeconds} s (release.hooks.${run.name}.timeoutSeconds)`
          : bakeOverSummary(release)) +
        (previous?.summary ? `; its last answer said: ${previous.summary}` : ''),
      attempt: run.attempt,
      at: now.toISOString(),
    };
  } else {
    const attempt = run.attempt + 1;
    // A production hook's call is abandoned at the bake's end too (when that comes before the hook's deadline):
    // after it nothing watches the new color, so a call still running then is TIMED_OUT, not waited for.
    const cutAtBakeEnd = bakeEnd !== undefined && bakeEnd > now.getTime() && bakeEnd < Date.parse(deadline);
    const callDeadline = cutAtBakeEnd ? bakeEnd : Date.parse(deadline);
    const reply = await deps.lifecycleHooks.invoke(
      {
        hook: run.name,
        app: settings.appName,
        release: state.execution,
        image: release.image,
        version: release.version,
        color: release.idle,
        liveColor: release.live,
        productionUrl: settings.productionUrl,
        testUrl: settings.testUrl,
        attempt,
        ...(run.details !== undefined ? { details: run.details } : {}),
      },
      new Date(callDeadline),
    );
    const at = deps.now();
    const cutByBake = cutAtBakeEnd && reply.status === 'TIMED_OUT';
    answer = {
      hook: run.name,
      functionArn: reply.functionArn,
      status: reply.status,
      summary: cutByBake
        ? `${bakeOverSummary(release)} (call ${attempt} was abandoned at the bake's end)`
        : tidySummary(reply.summary),
      attempt,
      at: at.toISOString(),
    };
    if (reply.status === 'IN_PROGRESS') {
      // The next call comes by the bake's end at the latest (then it is TIMED_OUT at once, without a call).
      const left = Math.ceil((callDeadline - at.getTime()) / 1000);
      next = {
        ...(reply.details !== undefined ? { details: reply.details } : {}),
        // Never past the deadline: the call after it would only say TIMED_OUT.
        waitSeconds: Math.max(1, Math.min(nextDelaySeconds(reply, timing), left)),
      };
    }
  }
  const failure = failureOf(answer, release, settings);
  return {
    ...state,
    release: { ...release, hooks: appendAnswer(release.hooks ?? [], answer) },
    hook: {
      name: run.name,
      attempt: answer.attempt,
      status: answer.status,
      deadline,
      ...next,
      ...(failure ? { failure } : {}),
    },
  };
}

/** Why a production hook without a final answer by the bake's end is TIMED_OUT (its answer's summary). */
function bakeOverSummary(release: Release): string {
  return (
    `no final answer by the end of the bake (${release.watch?.until ?? '?'}, bakeSeconds ` +
    `${release.timings.bakeSeconds}): after it nothing would watch the new color's alarms, so the hook must ` +
    'answer within the bake; give the release a longer bake (bakeSeconds) or make the hook answer sooner'
  );
}

/** The error and cause a final answer other than SUCCEEDED ends the release with (the rollback hook: none). */
function failureOf(
  answer: HookAnswer,
  release: Release,
  settings: Pick<WorkflowSettings, 'productionUrl'>,
): HookRun['failure'] {
  if (answer.status === 'SUCCEEDED' || answer.status === 'IN_PROGRESS') {
    return undefined;
  }
  const said = describeAnswer(answer);
  switch (answer.hook) {
    case 'beforeDeploy':
      return {
        Error: ReleaseErrors.AdmissionRefused,
        Cause:
          `The admission hook ${answer.functionArn} did not admit ${release.image}: ${said}. Nothing was ` +
          'registered or deployed and traffic never moved; fix what the hook reports, then release again.',
      };
    case 'afterShift':
      return {
        Error: ReleaseErrors.ProductionHookFailed,
        Cause:
          `The production hook ${answer.functionArn}, run against ${settings.productionUrl} while ${release.idle} ` +
          `(${release.image}) took all traffic, answered ${said}.`,
      };
    default:
      return undefined;
  }
}

/**
 * The rollback hook's answer, as a sentence for the rollback's outcome: its last answer, or why there is none
 * (its step failed: `state.hookFailure`).
 */
export function rollbackHookSaid(state: ReleaseState): string {
  const last = [...(state.release?.hooks ?? [])].reverse().find((a) => a.hook === 'onRollback');
  if (state.hookFailure) {
    return (
      `The rollback hook's step failed (${state.hookFailure.Error}: ` +
      `${causeMessage(state.hookFailure.Cause).slice(0, 300)}); the rollback stands.`
    );
  }
  if (!last) {
    return 'The rollback hook was not called.';
  }
  return `The rollback hook ${last.functionArn} answered ${describeAnswer(last)}.`;
}
