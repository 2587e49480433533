/**
 * Every ending is clean, whatever the execution's status. The state machine's own endings (Abort, Roll back,
 * Finish, ...) release the lock, let scaling act and publish; when one of them fails, or the execution times out
 * or is stopped, an EventBridge rule hands the execution to the Stopped step, which finishes the job (see
 * lambda/workflow/conclude.ts, `stopped`).
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { FLEET_BUSY, FLEET_BUSY_SCHEDULE } from '../../lambda/shared/errors';
import { acknowledge, nagArnParts } from '../nag';

/** Every status an execution can end with but SUCCEEDED: each is handed to the Stopped step. */
export const UNSUCCESSFUL_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * A fleet change that waits for an earlier one to stop (an instance refresh still cancelling) is not waited for
 * inside its Lambda: the step fails with FLEET_BUSY and runs again after this interval (about 6 minutes in all).
 */
export const FLEET_BUSY_RETRY: sfn.RetryProps = {
  errors: [FLEET_BUSY],
  interval: Duration.seconds(FLEET_BUSY_SCHEDULE.intervalSeconds),
  backoffRate: FLEET_BUSY_SCHEDULE.backoffRate,
  maxAttempts: FLEET_BUSY_SCHEDULE.maxAttempts,
  jitterStrategy: sfn.JitterType.FULL,
};

export interface StoppedRuleProps {
  readonly appName: string;
  readonly stateMachine: sfn.IStateMachine;
  /** The state machine's name (a plain string: the Stopped step's policy names its executions by it). */
  readonly stateMachineName: string;
  readonly stopped: lambda.Function;
  readonly lockTable: dynamodb.ITable;
}

/**
 * The rule that hands every unsuccessful execution to the Stopped step, and what that step may read: the
 * execution's history (which state it ended in), on this state machine's executions only, and who holds the lock.
 */
export function handUnsuccessfulEndingsToStopped(scope: Construct, props: StoppedRuleProps): events.Rule {
  const stack = Stack.of(scope);
  const rule = new events.Rule(scope, 'ReleaseStopped', {
    description:
      `bluegreen ${props.appName}: every release that did not succeed (failed, timed out, stopped) ends clean: ` +
      'lock free, scaling resumed, outcome published once',
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [props.stateMachine.stateMachineArn], status: UNSUCCESSFUL_STATUSES },
    },
    targets: [
      new targets.LambdaFunction(props.stopped, { retryAttempts: 4, maxEventAge: Duration.hours(2) }),
    ],
  });
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${props.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  props.stopped.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['states:GetExecutionHistory'], resources: [executions] }),
  );
  props.lockTable.grant(props.stopped, 'dynamodb:GetItem');
  const { partition, region, account } = nagArnParts(stack);
  acknowledge(
    props.stopped.role!,
    `AwsSolutions-IAM5[Resource::arn:${partition}:states:${region}:${account}:execution:${props.stateMachineName}:*]`,
    "The Stopped step reads the history of the execution it is handed (which state it ended in); executions' " +
      'names are only known when they start, so the grant covers the executions of this state machine only.',
  );
  return rule;
}
