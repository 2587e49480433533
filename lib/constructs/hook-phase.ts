/**
 * The lifecycle hooks' states (config `release.hooks`), each hook a loop of the one hook step
 * (lambda/hook.ts → lambda/workflow/hooks.ts):
 *
 *   Start … hook (Pass: names the hook) → … hook (Task: one call) → … hook done? ── IN_PROGRESS → Wait for … hook ─┐
 *                                              ▲                          │ SUCCEEDED / the rest            │
 *                                              └──────────────────────────┼─────────────────────────────────┘
 *
 * - admission (beforeDeploy), after Prepare took the lock and before anything is registered or deployed: a
 *   refusal (FAILED, ERROR, TIMED_OUT) ends in "Admission refused" → Refuse (lock free, REFUSED published).
 * - production (afterShift), once all production traffic is on the new color: a Parallel state runs the bake's
 *   watch loop and the hook loop side by side, so the new color stays watched while the hook tests production. A
 *   failure in either branch stops the other and rolls back; the release goes on only once both passed.
 * - the hook step itself failing after its retries (not the hook: its FAILED, ERROR and TIMED_OUT are answers) is
 *   named HookStepFailed, with a cause that says which hook, the step's error and message, what became of the
 *   release and where to look ("... hook step failed" → "Name ... hook step failure").
 * - a failed branch of the Parallel carries what it knew (the hook's answers, the bake's progress) in its cause:
 *   Step Functions gives the Parallel's Catch nothing else (carryFailure, lambda/shared/carried-state.ts).
 * - rollback (onRollback), after the Roll back step moved traffic back (not after Abort: production never served
 *   the new version): informational. "Report rollback" then adds its answer (or why there is none) to the outcome,
 *   lets scaling act, releases the lock and publishes; if that step fails, the Stopped step does it.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { carriedMarker, type CarriedPart } from '../../lambda/shared/carried-state';
import { ReleaseErrors } from '../../lambda/shared/errors';
import type { HookName } from '../../lambda/shared/release';
import { STATES } from '../../lambda/shared/state-names';
import type { StateHelpers, StepFunctions } from './workflow-states';

type Helpers = Pick<StateHelpers, 'invoke' | 'retryGlitches' | 'failWith'>;

interface LoopNames {
  readonly start: string;
  readonly call: string;
  readonly done: string;
  readonly wait: string;
}

/** A hook's loop: its first state, its Task (to catch on) and its Choice (to route its final answers). */
interface HookLoop {
  readonly start: sfn.Pass;
  readonly call: tasks.LambdaInvoke;
  readonly done: sfn.Choice;
}

export interface HookPhase {
  /** The admission hook before `next`; a refusal (or a failure of the step itself) goes to `refuse`. */
  readonly admission?: (next: sfn.IChainable, targets: { readonly refuse: sfn.IChainable }) => sfn.IChainable;
  /** The production hook beside the bake that starts at `bake`; then `next`, or on any failure `rollback`. */
  readonly alongsideBake?: (
    bake: sfn.IChainable,
    targets: { readonly rollback: sfn.IChainable; readonly next: sfn.IChainable },
  ) => sfn.IChainable;
  /** The rollback hook after the Roll back step, then its report, then `rolledBack`. */
  readonly afterRollback?: (rolledBack: sfn.IChainable) => sfn.IChainable;
}

/** The states of the configured hooks (none configured: no states, the template unchanged). */
export function hookPhase(
  scope: Construct,
  fns: Pick<StepFunctions, 'hook' | 'rollback'>,
  helpers: Helpers,
  configured: ReadonlySet<HookName>,
): HookPhase {
  const fn = fns.hook;
  if (!fn || configured.size === 0) {
    return {};
  }
  const { invoke, retryGlitches, failWith } = helpers;
  const loop = (hook: HookName, names: LoopNames, comment: string): HookLoop => {
    const start = new sfn.Pass(scope, names.start, {
      comment: `The ${hook} hook: its first call.`,
      result: sfn.Result.fromObject({ name: hook, attempt: 0 }),
      resultPath: '$.hook',
    });
    const call = invoke(names.call, fn, comment);
    // The step records the hook's failures as answers; only its own glitches throw, and are tried twice more.
    retryGlitches(call);
    const wait = new sfn.Wait(scope, names.wait, {
      comment: 'The hook answered IN_PROGRESS: called again after its delay, with the details it returned.',
      time: sfn.WaitTime.secondsPath('$.hook.waitSeconds'),
    });
    const done = new sfn.Choice(scope, names.done, {
      comment:
        'IN_PROGRESS: wait and call again; SUCCEEDED: go on; FAILED, ERROR or TIMED_OUT: see the hook.',
    }).when(sfn.Condition.stringEquals('$.hook.status', 'IN_PROGRESS'), wait);
    start.next(call);
    call.next(done);
    wait.next(call);
    return { start, call, done };
  };
  // The hook step failed after its retries (caught to $.hook.stepFailure): HookStepFailed in $.hook.failure, its
  // cause a sentence with the step's error and message (a Lambda error's message, not its JSON), then `next`.
  const logGroup = fn.logGroup.logGroupName;
  const nameStepFailure = (
    hook: HookName,
    names: {
      readonly failed: string;
      readonly lambdaError: string;
      readonly error: string;
      readonly name: string;
    },
    template: string,
    next: sfn.IChainable,
  ): sfn.Choice => {
    const name = new sfn.Pass(scope, names.name, {
      comment: `The ${hook} hook's step failed: HookStepFailed, with its error and message.`,
      parameters: {
        Error: ReleaseErrors.HookStepFailed,
        Cause: sfn.JsonPath.format(
          template,
          sfn.JsonPath.stringAt('$.hook.stepFailure.Error'),
          sfn.JsonPath.stringAt('$.hook.stepError.message.errorMessage'),
        ),
      },
      resultPath: '$.hook.failure',
    }).next(next);
    const lambdaError = new sfn.Pass(scope, names.lambdaError, {
      comment: "A Lambda error: its cause is the error's JSON, whose errorMessage goes into the cause.",
      parameters: { 'message.$': 'States.StringToJson($.hook.stepFailure.Cause)' },
      resultPath: '$.hook.stepError',
    }).next(name);
    const other = new sfn.Pass(scope, names.error, {
      comment: 'Another error (Step Functions, the Lambda service): its cause as it is.',
      parameters: { message: { 'errorMessage.$': '$.hook.stepFailure.Cause' } },
      resultPath: '$.hook.stepError',
    }).next(name);
    return new sfn.Choice(scope, names.failed, {
      comment:
        "The hook step failed after its retries, so the hook gave no answer: a Lambda error's message, else the cause.",
    })
      .when(
        sfn.Condition.and(
          sfn.Condition.isString('$.hook.stepFailure.Cause'),
          sfn.Condition.stringMatches('$.hook.stepFailure.Cause', '{*"errorMessage":*}'),
        ),
        lambdaError,
      )
      .otherwise(other);
  };
  const succeeded = sfn.Condition.stringEquals('$.hook.status', 'SUCCEEDED');
  const phase: {
    -readonly [K in keyof HookPhase]: HookPhase[K];
  } = {};

  if (configured.has('beforeDeploy')) {
    phase.admission = (next, { refuse }) => {
      const { start, call, done } = loop(
        'beforeDeploy',
        {
          start: STATES.startAdmissionHook,
          call: STATES.admissionHook,
          done: STATES.admissionHookDone,
          wait: STATES.waitForAdmissionHook,
        },
        'Admission: may this image be released? Nothing is registered or deployed yet.',
      );
      // Refused: nothing was changed but the lock, so the release is refused (the release is left out, as when
      // Prepare refuses: Refuse then only frees the lock and publishes, with the hook's answer as the cause).
      const refused = new sfn.Pass(scope, STATES.admissionRefused, {
        comment: "The admission hook did not admit the image: refused with the hook's answer.",
        parameters: { 'execution.$': '$.execution', 'input.$': '$.input', 'failure.$': '$.hook.failure' },
      }).next(refuse);
      // The step itself failed (after its retries): nothing was deployed either, so the release is refused
      // (HookStepFailed).
      const stepFailed = nameStepFailure(
        'beforeDeploy',
        {
          failed: STATES.admissionStepFailed,
          lambdaError: STATES.admissionStepLambdaError,
          error: STATES.admissionStepError,
          name: STATES.nameAdmissionStepFailure,
        },
        "The admission hook's step failed after its retries ({}: {}), so the hook (release.hooks.beforeDeploy) " +
          'gave no answer. The release is refused: nothing was registered or deployed and traffic never moved. ' +
          `See the hook step's log group ${logGroup} and the hook function's logs, then release again.`,
        refused,
      );
      call.addCatch(stepFailed, { resultPath: '$.hook.stepFailure' });
      done.when(succeeded, next).otherwise(refused);
      return start;
    };
  }

  if (configured.has('afterShift')) {
    phase.alongsideBake = (bake, { rollback, next }) => {
      const { start, call, done } = loop(
        'afterShift',
        {
          start: STATES.startProductionHook,
          call: STATES.productionHook,
          done: STATES.productionHookDone,
          wait: STATES.waitForProductionHook,
        },
        'Tests against production while the new color takes all traffic (the bake watches it meanwhile).',
      );
      // A final answer other than SUCCEEDED, or the step's own failure: the branch fails with the hook's answers
      // carried in its cause, since the Parallel's Catch gets nothing else (Roll back merges them back).
      const failed = carryFailure(
        scope,
        failWith,
        {
          from: '$.hook.failure',
          part: 'hooks',
          carry: STATES.carryHookAnswers,
          fail: STATES.productionHookFailed,
        },
        'The production hook failed: the bake branch stops, and the release rolls back.',
      );
      const stepFailed = nameStepFailure(
        'afterShift',
        {
          failed: STATES.productionStepFailed,
          lambdaError: STATES.productionStepLambdaError,
          error: STATES.productionStepError,
          name: STATES.nameProductionStepFailure,
        },
        "The production hook's step failed after its retries ({}: {}), so the hook (release.hooks.afterShift) " +
          'gave no answer while the new color took all traffic. The release rolls back to the old color. See the ' +
          `hook step's log group ${logGroup} and the hook function's logs, then release again.`,
        // Its first call may have failed before any hook answered: then there is nothing to carry.
        new sfn.Choice(scope, STATES.productionHookAnswered, {
          comment: 'Any hook answers to carry to Roll back?',
        })
          .when(sfn.Condition.isPresent('$.release.hooks'), failed)
          .otherwise(
            failWith(
              STATES.productionHookFailedUnanswered,
              'The production hook step failed before any answer: the bake branch stops, and the release rolls back.',
              '$.hook.failure',
            ),
          ),
      );
      call.addCatch(stepFailed, { resultPath: '$.hook.stepFailure' });
      done
        .when(
          succeeded,
          new sfn.Pass(scope, STATES.productionHookPassed, {
            comment: "The hook's answers, merged into the bake's state once both branches passed.",
            parameters: { 'hooks.$': '$.release.hooks' },
          }),
        )
        .otherwise(failed);
      const both = new sfn.Parallel(scope, STATES.bakeAndProductionHook, {
        comment:
          "The bake's watch and the production hook side by side: a failure in either stops the other and rolls back.",
        resultSelector: {
          'state.$': '$[0]',
          patch: { 'release.$': 'States.JsonMerge($[0].release, $[1], false)' },
        },
      });
      both.branch(bake).branch(start);
      both.addCatch(rollback, { resultPath: '$.failure' });
      const merged = new sfn.Pass(scope, STATES.bakeAndHookPassed, {
        comment: "The bake's state, with the production hook's answers in release.hooks.",
        parameters: { 'merged.$': 'States.JsonMerge($.state, $.patch, false)' },
        outputPath: '$.merged',
      });
      return both.next(merged).next(next);
    };
  }

  if (configured.has('onRollback')) {
    phase.afterRollback = (rolledBack) => {
      const { start, call, done } = loop(
        'onRollback',
        {
          start: STATES.startRollbackHook,
          call: STATES.rollbackHook,
          done: STATES.rollbackHookDone,
          wait: STATES.waitForRollbackHook,
        },
        'Informational: traffic is back on the old color; the answer goes into the published outcome.',
      );
      const report = invoke(
        STATES.reportRollback,
        fns.rollback,
        "The rollback's outcome with the hook's answer: let scaling act, release the lock, publish.",
      );
      // Its housekeeping notes its failures; anything else is tried twice more, then the Stopped step reports.
      retryGlitches(report);
      report
        .addCatch(
          failWith(
            STATES.rolledBackReportFailed,
            'Rolled back; reporting it failed: the Stopped step releases the lock and publishes.',
            '$.reportFailure',
          ),
          { resultPath: '$.reportFailure' },
        )
        .next(rolledBack);
      // Whatever the hook step does (an error, a hang past its Lambda's timeout), the report runs.
      call.addCatch(report, { resultPath: '$.hookFailure' });
      done.otherwise(report);
      return start;
    };
  }
  return phase;
}

/**
 * A failing branch of the "Bake and production hook" Parallel: a Pass state that writes the branch's error (from
 * `from`: {Error, Cause}) with `release.<part>` carried after its cause (lambda/shared/carried-state.ts), then a
 * Fail state with them. The Parallel's Catch gets only a branch's error and cause; Roll back merges the part back.
 */
export function carryFailure(
  scope: Construct,
  failWith: StateHelpers['failWith'],
  names: { readonly from: string; readonly part: CarriedPart; readonly carry: string; readonly fail: string },
  comment: string,
): sfn.IChainable {
  const { from, part } = names;
  return new sfn.Pass(scope, names.carry, {
    comment: `The failure, with release.${part} after its cause for Roll back (the Parallel's Catch gets nothing else).`,
    parameters: {
      'Error.$': `${from}.Error`,
      Cause: sfn.JsonPath.format(
        `{}${carriedMarker(part)}{}`,
        sfn.JsonPath.stringAt(`${from}.Cause`),
        sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt(`$.release.${part}`)),
      ),
    },
  }).next(failWith(names.fail, comment, '$'));
}
