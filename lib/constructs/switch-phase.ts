/**
 * The switch and the bake: one listener change to the new color (after the idle color is re-checked, and after a
 * gradual shift the last step's split), then the bake's Wait → Check loop until it is done, then `next` (keeping
 * the old color warm). Any failure after the switch rolls back to the old color, still warm.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { CATCH_UP_SCHEDULE, ReleaseErrors, SHIFT_RECHECK_VERDICTS } from '../../lambda/shared/errors';
import { STATES } from '../../lambda/shared/state-names';
import { carryFailure } from './hook-phase';
import type { StateHelpers, StepFunctions } from './workflow-states';

export function switchAndBake(
  scope: Construct,
  fns: Pick<StepFunctions, 'switch' | 'watch'>,
  {
    invoke,
    retryAllBut,
    retryIdempotent,
    pollLoop,
    failWith,
  }: Pick<StateHelpers, 'invoke' | 'retryAllBut' | 'retryIdempotent' | 'pollLoop' | 'failWith'>,
  targets: {
    readonly abort: sfn.IChainable;
    readonly rollback: sfn.IChainable;
    readonly next: sfn.IChainable;
    /**
     * Runs beside the bake (the production hook, hook-phase.ts): given the bake loop's first state, the state the
     * switch goes to; it then owns the way to `next` and to `rollback`.
     */
    readonly alongsideBake?: (bake: sfn.IChainable) => sfn.IChainable;
  },
): sfn.IChainable {
  const alongside = targets.alongsideBake;
  const bakeWait = new sfn.Wait(scope, STATES.bakeWait, {
    time: sfn.WaitTime.secondsPath('$.release.timings.watchIntervalSeconds'),
  });
  const watch = invoke(
    STATES.watch,
    fns.watch,
    'Listener still all on the new color? Health and version through production; alarms since the switch.',
  );
  // A failed check is a verdict, not a glitch: never retried. Anything else (a throttled API) is, twice.
  retryAllBut(watch, ['UnhealthyAfterSwitch', ReleaseErrors.TrafficMovedDuringRelease]);
  // Beside the hook, the bake is a Parallel branch: a failed check fails the branch (with the bake's progress
  // carried in its cause, for Roll back), and the Parallel rolls back.
  watch.addCatch(
    alongside
      ? carryFailure(
          scope,
          failWith,
          { from: '$.failure', part: 'watch', carry: STATES.carryBakeProgress, fail: STATES.bakeFailed },
          'A bake check failed: the hook branch stops, and the release rolls back.',
        )
      : targets.rollback,
    { resultPath: '$.failure' },
  );
  const baked = alongside
    ? new sfn.Succeed(scope, STATES.bakePassed, {
        comment: 'The bake passed; the release waits for the hook.',
      })
    : targets.next;
  pollLoop(bakeWait, watch, STATES.baked, 'baked', baked);

  const switchTraffic = invoke(
    STATES.switch,
    fns.switch,
    'Production listener to the new color, then the record.',
  );
  // The idle color, re-checked just before the listener changes, is no longer ready: a verdict (not retried)
  // that aborts, since traffic never moved. Anything else is retried, then rolled back.
  // After a gradual shift, the new color lost or the listener moved under the last step are verdicts too: they
  // roll back (part of the traffic is on the new color already).
  switchTraffic.addRetry({ errors: [...SHIFT_RECHECK_VERDICTS], maxAttempts: 0 });
  // Auto scaling: the new color is still starting the tasks that match the live color's count now. Waited for,
  // then (if they never come) an abort, or after a gradual shift a rollback.
  switchTraffic.addRetry({
    errors: [ReleaseErrors.CapacityCatchingUp, ReleaseErrors.CapacityCatchingUpDuringShift],
    interval: Duration.seconds(CATCH_UP_SCHEDULE.intervalSeconds),
    backoffRate: CATCH_UP_SCHEDULE.backoffRate,
    maxAttempts: CATCH_UP_SCHEDULE.maxAttempts,
  });
  retryIdempotent(switchTraffic);
  switchTraffic.addCatch(targets.abort, {
    errors: [ReleaseErrors.IdleNotReady, ReleaseErrors.CapacityCatchingUp],
    resultPath: '$.failure',
  });
  switchTraffic.addCatch(targets.rollback, { resultPath: '$.failure' });
  switchTraffic.next(alongside ? alongside(bakeWait) : bakeWait);
  return switchTraffic;
}
