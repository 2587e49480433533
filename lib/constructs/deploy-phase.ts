/**
 * Deploy and validate: the new revision on the idle color with the live color's count, the Wait → Check loop
 * until it is stable and healthy (or failed, or late), then the smoke checks and the hook through the test
 * listener, then `next` (the gate, the backfill, the shift or the switch). Every failure here aborts: traffic
 * never moved.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { STATES } from '../../lambda/shared/state-names';
import { FLEET_BUSY_RETRY } from './release-endings';
import type { StateHelpers, StepFunctions } from './workflow-states';

export function deployAndValidate(
  scope: Construct,
  fns: Pick<StepFunctions, 'deploy' | 'check-deploy' | 'validate'>,
  { invoke, retryAllBut, pollLoop }: Pick<StateHelpers, 'invoke' | 'retryAllBut' | 'pollLoop'>,
  options: {
    readonly abort: sfn.IChainable;
    /** After validation: the gate, the backfill, the shift or the switch. */
    readonly next: sfn.IChainable;
    /** With migrations the deploy rolls out the revision the expand ran with. */
    readonly migrations: boolean;
  },
): sfn.IChainable {
  const { abort } = options;
  const validate = invoke(
    STATES.validate,
    fns.validate,
    'Smoke checks through the test listener, target health, hook.',
  );
  // A failed check is a verdict; anything else (a throttled API, a reset connection) gets two more tries.
  retryAllBut(validate, ['ValidationFailed']);
  validate.addCatch(abort, { resultPath: '$.failure' });
  validate.next(options.next);

  const waitForIdle = new sfn.Wait(scope, STATES.waitForIdle, {
    time: sfn.WaitTime.secondsPath('$.release.timings.deployPollSeconds'),
  });
  const checkIdle = invoke(
    STATES.checkIdle,
    fns['check-deploy'],
    'Stable, all tasks running, all targets healthy?',
  );
  retryAllBut(checkIdle, ['DeployFailed', 'DeployTimeout']);
  checkIdle.addCatch(abort, { resultPath: '$.failure' });
  pollLoop(waitForIdle, checkIdle, STATES.idleReady, 'ready', validate);

  const deploy = invoke(
    STATES.deploy,
    fns.deploy,
    options.migrations
      ? 'The registered revision (expanded for) on the idle color; live capacity.'
      : 'New task definition revision with the image; live capacity.',
  );
  deploy.addRetry(FLEET_BUSY_RETRY);
  deploy.addCatch(abort, { resultPath: '$.failure' });
  deploy.next(waitForIdle);
  return deploy;
}
