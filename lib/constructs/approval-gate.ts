import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { STATES } from '../../lambda/shared/state-names';
import { THROTTLE_RETRY } from './workflow-states';

/**
 * The manual gate: a callback task (task token) after validation. `bluegreen approve` (SendTaskSuccess) goes on
 * to the switch; `bluegreen reject` (SendTaskFailure, error Rejected) and a failed notification abort; the
 * timeout aborts, or approves when `approval.onTimeout` says so.
 */
export function approvalGate(
  scope: Construct,
  gate: { timeoutMinutes: number; onTimeout: 'abort' | 'approve' },
  fn: lambda.IFunction,
  onApproved: sfn.IChainable,
  abort: sfn.IChainable,
): sfn.IChainable {
  const wait = new tasks.LambdaInvoke(scope, STATES.approval, {
    lambdaFunction: fn,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      execution: sfn.JsonPath.stringAt('$.execution'),
      release: sfn.JsonPath.objectAt('$.release'),
      taskToken: sfn.JsonPath.taskToken,
    }),
    resultPath: '$.approval',
    taskTimeout: sfn.Timeout.duration(Duration.minutes(gate.timeoutMinutes)),
    retryOnServiceExceptions: true,
    comment:
      `Validated; waiting for \`bluegreen approve\` or \`bluegreen reject\` (up to ${gate.timeoutMinutes} min, ` +
      `then ${gate.onTimeout}). Traffic has not moved.`,
  });
  const timedOut =
    gate.onTimeout === 'abort'
      ? new sfn.Pass(scope, STATES.approvalTimedOut, {
          comment: 'No answer in time: abort (approval.onTimeout).',
          result: sfn.Result.fromObject({
            Error: 'ApprovalTimedOut',
            Cause:
              `No approve or reject within ${gate.timeoutMinutes} minutes (approval.timeoutMinutes); the release ` +
              'is aborted (approval.onTimeout: abort).',
          }),
          resultPath: '$.failure',
        }).next(abort)
      : new sfn.Pass(scope, STATES.approvedOnTimeout, {
          comment: 'No answer in time: go ahead (approval.onTimeout: approve).',
          parameters: {
            approvedBy: `nobody: no answer within ${gate.timeoutMinutes} minutes (approval.onTimeout: approve)`,
            'at.$': '$$.State.EnteredTime',
          },
          resultPath: '$.approval',
        }).next(onApproved);
  wait.addRetry(THROTTLE_RETRY);
  wait.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.failure' });
  wait.addCatch(abort, { resultPath: '$.failure' });
  return wait.next(onApproved);
}
