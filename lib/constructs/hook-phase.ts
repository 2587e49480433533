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
 * - rollback (onRollback), after the Roll back step moved traffic back (not after Abort: production never served
 *   the new version): informational. "Report rollback" then adds its answer (or why there is none) to the outcome,
 *   lets scaling act, releases the lock and publishes; if that step fails, the Stopped step does it.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
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
      // The step itself failed (after its retries): nothing was deployed either, so the release is refused with
      // that error.
      call.addCatch(refused, { resultPath: '$.hook.failure' });
      done.when(succeeded, next).otherwise(refused);
      return start;
    };
  }

  if (configured.has('afterShift')) {
    phase.alongsideBake = (bake, { rollback, next }) => {
      const { start, done } = loop(
        'afterShift',
        {
          start: STATES.startProductionHook,
          call: STATES.productionHook,
          done: STATES.productionHookDone,
          wait: STATES.waitForProductionHook,
        },
        'Tests against production while the new color takes all traffic (the bake watches it meanwhile).',
      );
      done
        .when(
          succeeded,
          new sfn.Pass(scope, STATES.productionHookPassed, {
            comment: "The hook's answers, merged into the bake's state once both branches passed.",
            parameters: { 'hooks.$': '$.release.hooks' },
          }),
        )
        .otherwise(
          failWith(
            STATES.productionHookFailed,
            'The production hook failed: the bake branch stops, and the release rolls back.',
            '$.hook.failure',
          ),
        );
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
