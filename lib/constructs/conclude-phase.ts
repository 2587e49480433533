/**
 * The release state machine's endings: Refuse (Prepare said no), Abort (traffic never moved), Roll back (the old
 * color takes all traffic again) with its failure report, and Finish (the new color is live) after the old color
 * was kept warm. Each ends in a Fail or Succeed state whose error and cause the console shows.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ReleaseErrors } from '../../lambda/shared/errors';
import { STATES } from '../../lambda/shared/state-names';
import { FLEET_BUSY_RETRY } from './release-endings';
import type { StateHelpers, StepFunctions } from './workflow-states';

type Helpers = Pick<StateHelpers, 'invoke' | 'retryAllBut' | 'retryIdempotent' | 'failWith'>;

/** Refuse, Abort and Roll back: the ways out before the new color is live. */
export function wayOut(
  fns: Pick<StepFunctions, 'abort' | 'rollback' | 'rollback-failed'>,
  { invoke, retryIdempotent, failWith }: Helpers,
  options: {
    /** The rollback hook (release.hooks.onRollback) between the Roll back step and its Fail state. */
    readonly afterRollback?: (rolledBack: sfn.IChainable) => sfn.IChainable;
  } = {},
): { readonly refuse: sfn.IChainable; readonly abort: sfn.IChainable; readonly rollback: sfn.IChainable } {
  const refused = failWith(STATES.refused, 'Prepare refused the release; nothing was changed.');
  const refuse = invoke(
    STATES.refuse,
    fns.abort,
    'Release the lock if this release took it; publish the refusal.',
  )
    .addCatch(failWith(STATES.refusedCleanupFailed, 'Refused; releasing the lock failed.', '$.failure'), {
      resultPath: '$.cleanupFailure',
    })
    .next(refused);

  const aborted = failWith(STATES.aborted, 'Deploy or validation failed; traffic never moved.');
  const abort = invoke(
    STATES.abort,
    fns.abort,
    'Put the idle color back, retire the new revision, release the lock.',
  )
    .addRetry(FLEET_BUSY_RETRY)
    .addCatch(failWith(STATES.abortFailed, 'The abort itself failed; traffic never moved.', '$.failure'), {
      resultPath: '$.cleanupFailure',
    })
    .next(aborted);

  const rollbackFailed = failWith(STATES.rollbackFailed, 'Switching back failed: operators must act.');
  const reportRollbackFailure = invoke(
    STATES.reportRollbackFailure,
    fns['rollback-failed'],
    'Notify loudly that the rollback failed; release the lock.',
  )
    .addCatch(
      failWith(
        STATES.rollbackReportFailed,
        'The rollback failed, and so did its report: the Stopped step reports it.',
        '$.reportFailure',
      ),
      { resultPath: '$.reportFailure' },
    )
    .next(rollbackFailed);
  const rollback = invoke(
    STATES.rollback,
    fns.rollback,
    'Production listener and record back to the old color.',
  );
  rollback.addRetry(FLEET_BUSY_RETRY);
  retryIdempotent(rollback);
  rollback.addCatch(reportRollbackFailure, { resultPath: '$.rollbackFailure' });
  const rolledBack = failWith(
    STATES.rolledBack,
    'The new color failed after the switch; the old color serves again.',
  );
  rollback.next(options.afterRollback ? options.afterRollback(rolledBack) : rolledBack);
  return { refuse, abort, rollback };
}

/**
 * Finish (and the wait that keeps the old color warm before it): the new color is live. `rollbackOnMove`: while
 * the old color is still warm, a listener changed since the bake is a rollback to it (with migrations and no warm
 * old color the contract ran, and Finish puts traffic back on the new color instead).
 */
export function conclusion(
  scope: Construct,
  fns: Pick<StepFunctions, 'finish'>,
  { invoke, retryAllBut, failWith }: Helpers,
  { rollback, rollbackOnMove }: { readonly rollback: sfn.IChainable; readonly rollbackOnMove: boolean },
): { readonly finish: sfn.IChainable; readonly keepWarm: sfn.Wait } {
  const released = new sfn.Succeed(scope, STATES.released, { comment: 'The new color is live.' });
  const finishFailed = failWith(
    STATES.finishFailed,
    'The new color is live; the cleanup after it failed.',
    '$.finishFailure',
  );
  const finish = invoke(
    STATES.finish,
    fns.finish,
    'Listener still on the new color? Scale the old color down (unless kept warm), release the lock, publish.',
  );
  // Finish only throws before it changes anything (its housekeeping notes failures, and an outcome it could not
  // publish goes on to "Released (outcome unsent)"), or once it has ended the release because the listener was
  // changed under it: that one is a verdict, never retried.
  retryAllBut(finish, [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch']);
  if (rollbackOnMove) {
    finish.addCatch(rollback, {
      errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
      resultPath: '$.failure',
    });
  }
  const unsent = failWith(
    STATES.releasedUnsent,
    'The new color is live and the lock free, but publishing the outcome failed: the Stopped step publishes it.',
  );
  finish.addCatch(finishFailed, { resultPath: '$.finishFailure' }).next(
    new sfn.Choice(scope, STATES.outcomePublished, {
      comment: 'Did Finish publish the outcome? If not, the execution ends so that the Stopped step does.',
    })
      .when(sfn.Condition.isPresent('$.unsent'), unsent)
      .otherwise(released),
  );
  const keepWarm = new sfn.Wait(scope, STATES.waitBeforeScaleDown, {
    comment: 'The old color stays at full capacity a little longer, for a fast rollback by hand.',
    time: sfn.WaitTime.secondsPath('$.release.timings.finishDelaySeconds'),
  });
  return { finish, keepWarm };
}
