/**
 * The state machine's building blocks, shared by the workflow and its parts (migration phases, manual gate): the
 * step functions' names, the throttle retry every step has, and the Lambda task, retry, poll and Fail helpers.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Throttled AWS APIs (and Lambda itself) are retried with full jitter by every step, the gate included. */
export const THROTTLE_RETRY: sfn.RetryProps = {
  errors: [
    'ThrottlingException',
    'Throttling',
    'Throttled',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'ProvisionedThroughputExceededException',
    'Lambda.TooManyRequestsException',
  ],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 5,
  jitterStrategy: sfn.JitterType.FULL,
};

export type StepFunctions = Record<
  Exclude<Step, 'await-approval' | 'follow-live' | 'hook' | MigrationStep>,
  lambda.Function
> & {
  'await-approval'?: lambda.Function;
  /** Lifecycle hooks (release.hooks): one call of a hook (lambda/hook.ts). */
  hook?: lambda.Function;
  /** keepIdleWarm with auto scaling: the idle color follows the live color's count (every minute). */
  'follow-live'?: lambda.Function;
} & Partial<Record<MigrationStep, lambda.Function>>;

/** The steps only a workflow with database migrations has. */
export type MigrationStep = 'register' | 'scale-down-old-color' | 'record-contract' | 'contract-failed';

export type Step =
  | 'stopped'
  | 'prepare'
  | 'deploy'
  | 'check-deploy'
  | 'validate'
  | 'switch'
  | 'shift'
  | 'analyse'
  | 'watch'
  | 'rollback'
  | 'abort'
  | 'finish'
  | 'rollback-failed'
  | 'await-approval'
  | 'follow-live'
  | 'hook'
  | MigrationStep;

/** The state helpers, each creating its states in `scope` (the workflow construct). */
export interface StateHelpers {
  /** A Lambda step (its result is the state), retried when throttled. */
  readonly invoke: (id: string, fn: lambda.IFunction, comment: string) => tasks.LambdaInvoke;
  readonly retryGlitches: (task: tasks.LambdaInvoke) => void;
  readonly retryAllBut: (task: tasks.LambdaInvoke, verdicts: readonly [string, ...string[]]) => void;
  readonly retryIdempotent: (task: tasks.LambdaInvoke) => void;
  readonly pollLoop: (
    wait: sfn.Wait,
    check: tasks.LambdaInvoke,
    choice: string,
    done: string,
    next: sfn.IChainable,
  ) => sfn.Chain;
  readonly failWith: (id: string, comment: string, from?: string) => sfn.Fail;
}

export function stateHelpers(scope: Construct): StateHelpers {
  const invoke = (id: string, fn: lambda.IFunction, comment: string) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      comment,
    });
    task.addRetry(THROTTLE_RETRY);
    return task;
  };
  /** Anything (a throttled API, a reset) is tried twice more, jittered. */
  const retryGlitches = (task: tasks.LambdaInvoke) =>
    task.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      maxAttempts: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
  /**
   * A verdict (a named error) is never retried; anything else is (retryGlitches). At least one verdict: Step
   * Functions refuses a retrier with an empty ErrorEquals at deploy time.
   */
  const retryAllBut = (task: tasks.LambdaInvoke, verdicts: readonly [string, ...string[]]) => {
    task.addRetry({ errors: [...verdicts], maxAttempts: 0 });
    retryGlitches(task);
  };
  /** Steps that only set absolute values (listener, rule, record) are retried on any error. */
  const retryIdempotent = (task: tasks.LambdaInvoke) =>
    task.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: sfn.JitterType.FULL,
    });
  /** Wait → check → Choice: on to `next` when the check's verdict is `done`, else wait again. */
  const pollLoop = (
    wait: sfn.Wait,
    check: tasks.LambdaInvoke,
    choice: string,
    done: string,
    next: sfn.IChainable,
  ) =>
    wait
      .next(check)
      .next(
        new sfn.Choice(scope, choice)
          .when(sfn.Condition.stringEquals('$.verdict', done), next)
          .otherwise(wait),
      );
  const failWith = (id: string, comment: string, from = '$.outcome') =>
    new sfn.Fail(scope, id, {
      comment,
      errorPath: from === '$.outcome' ? '$.outcome.error' : `${from}.Error`,
      causePath: from === '$.outcome' ? '$.outcome.cause' : `${from}.Cause`,
    });
  return { invoke, retryGlitches, retryAllBut, retryIdempotent, pollLoop, failWith };
}
