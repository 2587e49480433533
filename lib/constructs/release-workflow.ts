import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AwsSettings, StepSettings } from '../../lambda/adapters/aws-deps';
import {
  encodeSmokeChecks,
  SETTINGS_VARIABLE,
  SMOKE_CHECKS_VARIABLE,
  VALIDATE_AWS_SETTINGS,
} from '../../lambda/adapters/step-environment';
import type { WorkflowSettings } from '../../lambda/shared/release';
import {
  COLORS,
  migrationParameterName,
  type Color,
  type RecordParameterNames,
} from '../../lambda/shared/release-record';
import type { MigrationPhase } from '../../lambda/shared/release';
import type { BluegreenConfig } from '../config';
import { recordParameterArns } from '../record-stack';
import { acknowledge, nagArnParts } from '../nag';
import { acknowledgeAsgWildcards, ASG_FLEET_READS, asgArns, moveGroupStatements } from './asg-grants';
import { grantRechecks } from './recheck-grants';
import { ReleaseErrors } from '../../lambda/shared/errors';
import { BluegreenFunction } from './bluegreen-function';
import type { ColorEnvironment } from './color-environment';
import type { Database } from './database';
import { MIGRATION_CONTAINER, MigrationTasks } from './migration-tasks';
import { FLEET_BUSY_RETRY, handUnsuccessfulEndingsToStopped } from './release-endings';
import { TEST_TRAFFIC_HEADER, type TrafficRouting } from './traffic';
import { STATES } from '../../lambda/shared/state-names';

export interface ReleaseWorkflowProps {
  readonly config: BluegreenConfig;
  readonly record: RecordParameterNames;
  readonly vpc: ec2.IVpc;
  /** The ECS cluster (platform "ecs" only). */
  readonly cluster?: ecs.ICluster;
  /** The shared database (when configured): the migration tasks may reach it. */
  readonly database?: Database;
  readonly colors: Readonly<Record<Color, ColorEnvironment>>;
  readonly traffic: TrafficRouting;
}

export { STATES } from '../../lambda/shared/state-names';

/** Throttled AWS APIs (and Lambda itself) are retried with full jitter by every step, the gate included. */
const THROTTLE_RETRY: sfn.RetryProps = {
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

type StepFunctions = Record<Exclude<Step, 'await-approval' | MigrationStep>, lambda.Function> & {
  'await-approval'?: lambda.Function;
} & Partial<Record<MigrationStep, lambda.Function>>;

/** The steps only a workflow with database migrations has. */
type MigrationStep = 'register' | 'scale-down-old-color' | 'record-contract' | 'contract-failed';

type Step =
  | 'stopped'
  | 'prepare'
  | 'deploy'
  | 'check-deploy'
  | 'validate'
  | 'switch'
  | 'watch'
  | 'rollback'
  | 'abort'
  | 'finish'
  | 'rollback-failed'
  | 'await-approval'
  | MigrationStep;

/**
 * The release workflow: a Standard Step Functions state machine (JSONPath) whose Lambda steps run
 * Prepare → Deploy → Validate → Switch → Watch → Finish, with Abort and Roll back as the ways out. One execution
 * is one release; the in-flight lock (DynamoDB) allows one at a time per app; outcomes go to an SNS topic and
 * to EventBridge.
 */
export class ReleaseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly lockTable: dynamodb.Table;
  readonly topic: sns.Topic;
  /** Where the migration phases run (when migrations are configured). */
  readonly migrationTasks?: MigrationTasks;
  /** The step functions (`await-approval` only with a manual gate). */
  readonly functions: Readonly<Partial<Record<Step, lambda.IFunction>>>;

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    const { config, colors, traffic } = props;
    const stack = Stack.of(this);
    const appName = config.appName;
    const gate = config.approval.at === 'before-switch' ? config.approval : undefined;
    const migrations = config.migrations;

    this.lockTable = new dynamodb.Table(this, 'Lock', {
      partitionKey: { name: 'app', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new sns.Topic(this, 'Outcomes', {
      topicName: `bluegreen-${appName}-releases`,
      displayName: `bluegreen ${appName} releases`,
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });

    const workflow: WorkflowSettings = {
      appName,
      imageRepository: config.image.repository,
      productionUrl: traffic.productionUrl,
      testUrl: traffic.testUrl,
      testHeader: TEST_TRAFFIC_HEADER,
      healthPath: config.healthCheck.path,
      smokeChecks: config.release.smokeChecks ?? [
        { path: config.healthCheck.path, expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
      ],
      hasValidationHook: config.release.validationHookArn !== undefined,
      keepIdleWarm: config.keepIdleWarm,
      maxReleaseSeconds: config.release.maxReleaseMinutes * 60,
      ...(gate ? { approval: { timeoutSeconds: gate.timeoutMinutes * 60, onTimeout: gate.onTimeout } } : {}),
      ...(migrations ? { migrations: { timeoutSeconds: migrations.timeoutMinutes * 60 } } : {}),
      timings: {
        bakeSeconds: config.release.bakeSeconds,
        watchIntervalSeconds: config.release.watchIntervalSeconds,
        failureThreshold: config.release.failureThreshold,
        deployTimeoutSeconds: config.release.deployTimeoutSeconds,
        deployPollSeconds: config.release.deployPollSeconds,
        finishDelaySeconds: config.release.finishDelaySeconds,
      },
    };
    if (migrations) {
      this.migrationTasks = new MigrationTasks(this, 'Migrations', {
        config,
        vpc: props.vpc,
        colors,
        cluster: props.cluster,
        database: props.database,
      });
    }
    const aws: AwsSettings = {
      fleet:
        config.platform === 'ecs'
          ? {
              platform: 'ecs',
              cluster: props.cluster!.clusterName,
              services: perColor((c) => colors[c].ecs!.service.serviceName),
              families: perColor((c) => colors[c].ecs!.taskDefinition.family),
              containerName: 'app',
            }
          : {
              platform: 'asg',
              groups: perColor((c) => colors[c].asg!.group.autoScalingGroupName),
              launchTemplates: perColor((c) => colors[c].asg!.launchTemplate.launchTemplateId!),
            },
      targetGroups: perColor((c) => colors[c].targetGroup.targetGroupArn),
      productionListenerArn: traffic.productionListener.listenerArn,
      testRuleArn: traffic.testRule.listenerRuleArn,
      testTokenSecretArn: traffic.testTrafficSecret.secretArn,
      alarmNames: perColor((c) => Object.values(colors[c].alarms).map((a) => a.alarmName)),
      lockTable: this.lockTable.tableName,
      topicArn: this.topic.topicArn,
      validationHookArn: config.release.validationHookArn,
      ...(this.migrationTasks
        ? {
            migrations: {
              parameterName: migrationParameterName(appName),
              ...(this.migrationTasks.taskDefinition
                ? { family: this.migrationTasks.taskDefinition.family }
                : {}),
            },
          }
        : {}),
    };
    // Lambda allows 4 KB of environment: the smoke checks go to the Validate step only, compactly, with only the
    // AWS settings its ports take (BluegreenFunction refuses at synth an environment that could pass the limit).
    const { smokeChecks, ...everyStep } = workflow;
    const settings: Omit<StepSettings, 'workflow'> & { workflow: typeof everyStep } = {
      workflow: everyStep,
      aws,
    };
    const environment: Record<string, string> = { [SETTINGS_VARIABLE]: stack.toJsonString(settings) };
    const validateEnvironment = {
      [SETTINGS_VARIABLE]: stack.toJsonString({
        workflow: everyStep,
        aws: Object.fromEntries(VALIDATE_AWS_SETTINGS.map((key) => [key, aws[key]])),
      }),
      [SMOKE_CHECKS_VARIABLE]: encodeSmokeChecks(smokeChecks),
    };

    const steps = new Construct(this, 'Steps');
    const make = (step: Step, description: string, vpc?: ec2.IVpc) =>
      new BluegreenFunction(steps, pascal(step), {
        entry: step,
        description: `bluegreen ${appName}: ${description}`,
        environment: step === 'validate' ? validateEnvironment : environment,
        environmentAdvice:
          'shorten release.smokeChecks (fewer checks, shorter paths), listeners.domainName, healthCheck.path or ' +
          'image.repository',
        logRetentionDays: config.logRetentionDays,
        // Validation runs up to 20 smoke checks (10 s each at most) and the user's hook.
        timeout: Duration.seconds(step === 'validate' ? 600 : 60),
        vpc,
      }).function;
    const fns: StepFunctions = {
      prepare: make('prepare', 'Prepare (input, lock, drift check)'),
      deploy: make('deploy', 'Deploy the image to the idle color'),
      'check-deploy': make('check-deploy', 'Check the idle color while it deploys'),
      // Only the validation step sits in the VPC: it reaches the test listener through the NAT gateway, whose
      // address is the only one (with the configured ones) the test port admits.
      validate: make('validate', 'Validate the idle color through the test listener', props.vpc),
      switch: make('switch', 'Switch production traffic, then the record'),
      watch: make('watch', 'Check the new live color during the bake'),
      rollback: make('rollback', 'Roll traffic and record back to the old color'),
      abort: make('abort', 'Undo a failed deploy, or release a refused one'),
      finish: make('finish', 'Scale the old color down, release the lock, publish'),
      'rollback-failed': make('rollback-failed', 'Report a failed rollback'),
      stopped: make('stopped', 'End clean any release that did not succeed: lock, scaling, outcome'),
      ...(gate
        ? { 'await-approval': make('await-approval', 'Manual gate: say what waits and how to answer') }
        : {}),
      ...(migrations
        ? {
            register: make('register', 'Register the new revision and the migration task definition'),
            'scale-down-old-color': make(
              'scale-down-old-color',
              'Scale the old color down before a contract',
            ),
            'record-contract': make('record-contract', "Record that the previous release's contract ran"),
            'contract-failed': make('contract-failed', 'Report failed contract migrations'),
          }
        : {}),
    };
    this.functions = fns;
    this.grant(fns, props);

    // --- The state machine ---------------------------------------------------------------------------------
    const invoke = (id: string, fn: lambda.IFunction, comment: string) => {
      const task = new tasks.LambdaInvoke(this, id, {
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
          new sfn.Choice(this, choice)
            .when(sfn.Condition.stringEquals('$.verdict', done), next)
            .otherwise(wait),
        );
    const failWith = (id: string, comment: string, from = '$.outcome') =>
      new sfn.Fail(this, id, {
        comment,
        errorPath: from === '$.outcome' ? '$.outcome.error' : `${from}.Error`,
        causePath: from === '$.outcome' ? '$.outcome.cause' : `${from}.Cause`,
      });

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
    rollback.next(
      failWith(STATES.rolledBack, 'The new color failed after the switch; the old color serves again.'),
    );

    const released = new sfn.Succeed(this, STATES.released, { comment: 'The new color is live.' });
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
    // Finish only throws before it changes anything (its housekeeping notes failures), or once it has ended the
    // release because the listener was changed under it: that one is a verdict, never retried.
    retryAllBut(finish, [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch']);
    // The listener was changed since the bake: while the old color is still warm, that is a rollback to it.
    // (With migrations and no warm old color the contract ran: Finish puts traffic back on the new color.)
    if (!(migrations && !config.keepIdleWarm)) {
      finish.addCatch(rollback, {
        errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
        resultPath: '$.failure',
      });
    }
    finish.addCatch(finishFailed, { resultPath: '$.finishFailure' }).next(released);
    const keepWarm = new sfn.Wait(this, STATES.waitBeforeScaleDown, {
      comment: 'The old color stays at full capacity a little longer, for a fast rollback by hand.',
      time: sfn.WaitTime.secondsPath('$.release.timings.finishDelaySeconds'),
    });
    // With migrations and no warm old color, the contract runs once the old color is down (else it waits for
    // the next release's start).
    const phases = migrations
      ? this.migrationPhases(fns, migrations, { invoke, retryGlitches, retryIdempotent, failWith, rollback })
      : undefined;
    keepWarm.next(phases && !config.keepIdleWarm ? phases.contract(finish) : finish);

    const bakeWait = new sfn.Wait(this, STATES.bakeWait, {
      time: sfn.WaitTime.secondsPath('$.release.timings.watchIntervalSeconds'),
    });
    const watch = invoke(
      STATES.watch,
      fns.watch,
      'Listener still all on the new color? Health and version through production; alarms since the switch.',
    );
    // A failed check is a verdict, not a glitch: never retried. Anything else (a throttled API) is, twice.
    retryAllBut(watch, ['UnhealthyAfterSwitch', ReleaseErrors.TrafficMovedDuringRelease]);
    watch.addCatch(rollback, { resultPath: '$.failure' });
    pollLoop(bakeWait, watch, STATES.baked, 'baked', keepWarm);

    const switchTraffic = invoke(
      STATES.switch,
      fns.switch,
      'Production listener to the new color, then the record.',
    );
    // The idle color, re-checked just before the listener changes, is no longer ready: a verdict (not retried)
    // that aborts, since traffic never moved. Anything else is retried, then rolled back.
    switchTraffic.addRetry({ errors: [ReleaseErrors.IdleNotReady], maxAttempts: 0 });
    retryIdempotent(switchTraffic);
    switchTraffic.addCatch(abort, { errors: [ReleaseErrors.IdleNotReady], resultPath: '$.failure' });
    switchTraffic.addCatch(rollback, { resultPath: '$.failure' });
    switchTraffic.next(bakeWait);

    const validate = invoke(
      STATES.validate,
      fns.validate,
      'Smoke checks through the test listener, target health, hook.',
    );
    // A failed check is a verdict; anything else (a throttled API, a reset connection) gets two more tries.
    retryAllBut(validate, ['ValidationFailed']);
    validate.addCatch(abort, { resultPath: '$.failure' });
    // With migrations, the backfill runs once the new color is validated (and approved), before the switch.
    const toSwitch = phases ? phases.backfill(switchTraffic, abort) : switchTraffic;
    validate.next(
      gate && fns['await-approval'] ? this.gate(gate, fns['await-approval'], toSwitch, abort) : toSwitch,
    );

    const waitForIdle = new sfn.Wait(this, STATES.waitForIdle, {
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
      migrations
        ? 'The registered revision (expanded for) on the idle color; live capacity.'
        : 'New task definition revision with the image; live capacity.',
    );
    deploy.addRetry(FLEET_BUSY_RETRY);
    deploy.addCatch(abort, { resultPath: '$.failure' });
    deploy.next(waitForIdle);

    const prepare = invoke(
      STATES.prepare,
      fns.prepare,
      'Validate the input, take the lock, check record vs listener.',
    );
    prepare.addCatch(refuse, { resultPath: '$.failure' });
    // With migrations: the previous release's pending contract, then the new revision, expand, and only then
    // the deploy.
    prepare.next(phases ? phases.start(deploy, abort) : deploy);

    const start = new sfn.Pass(this, STATES.start, {
      comment: 'Keep the input and the execution name (the release id and lock owner).',
      parameters: { 'input.$': '$', 'execution.$': '$$.Execution.Name' },
    }).next(prepare);

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `/bluegreen/${appName}/releases`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachineName = `bluegreen-${appName}-release`;
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      timeout: Duration.minutes(config.release.maxReleaseMinutes),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: `bluegreen ${appName}: one execution = one release. Input: {"image": "<repository>:<tag>"}`,
    });
    handUnsuccessfulEndingsToStopped(this, {
      appName,
      stateMachine: this.stateMachine,
      stateMachineName,
      stopped: fns.stopped,
      lockTable: this.lockTable,
    });
    const machineRole = this.stateMachine.role;
    this.migrationTasks?.grantRun(machineRole);
    acknowledge(
      machineRole,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing and CloudWatch Logs delivery for the state machine have no resource-level permissions.',
    );
    for (const fn of Object.values<lambda.Function>(fns)) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
      acknowledge(
        machineRole,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        "Invoking versions and aliases (ARN:*) of this workflow's own step function, and nothing else.",
      );
    }
  }

  /**
   * The database migration phases (config.migrations), each a one-off ECS task run and awaited by the state
   * machine (RunTask .sync) with the phase as the command's last word:
   *
   * - start: the previous release's contract when it waits (idle color scaled down first), then the new revision
   *   is registered and expanded for, before any color runs it;
   * - backfill: after validation (and the gate), before the switch;
   * - contract: after the bake, once the old color is scaled down, before Finish.
   *
   * Expand, backfill and the previous contract failing abort the release (traffic never moved); the contract
   * failing after the switch leaves traffic alone and ends in "Live, contract failed" (ContractFailed).
   */
  private migrationPhases(
    fns: StepFunctions,
    migrations: { readonly command: readonly string[]; readonly timeoutMinutes: number },
    h: {
      invoke: (id: string, fn: lambda.IFunction, comment: string) => tasks.LambdaInvoke;
      retryGlitches: (task: tasks.LambdaInvoke) => void;
      retryIdempotent: (task: tasks.LambdaInvoke) => void;
      failWith: (id: string, comment: string, from?: string) => sfn.Fail;
      rollback: sfn.IChainable;
    },
  ) {
    const where = this.migrationTasks!;
    const run = (id: string, phase: MigrationPhase, taskDefinitionPath: string, comment: string) =>
      new sfn.CustomState(this, id, {
        stateJson: {
          Type: 'Task',
          Comment: comment,
          Resource: `arn:${Stack.of(this).partition}:states:::ecs:runTask.sync`,
          Parameters: {
            Cluster: where.cluster.clusterArn,
            'TaskDefinition.$': taskDefinitionPath,
            LaunchType: 'FARGATE',
            NetworkConfiguration: {
              AwsvpcConfiguration: {
                Subnets: where.subnetIds,
                SecurityGroups: [where.securityGroup.securityGroupId],
                AssignPublicIp: 'DISABLED',
              },
            },
            Overrides: {
              ContainerOverrides: [
                {
                  Name: MIGRATION_CONTAINER,
                  Command: [...migrations.command, phase === 'previousContract' ? 'contract' : phase],
                },
              ],
            },
            StartedBy: `bluegreen-${phase}`,
          },
          TimeoutSeconds: migrations.timeoutMinutes * 60,
          ResultSelector: { 'task.$': '$.TaskArn', 'exitCode.$': '$.Containers[0].ExitCode' },
          ResultPath: `$.migrations.${phase}`,
        },
      }).addRetry({
        // RunTask refused (no capacity, throttled): no task ran, so starting it again is safe.
        errors: ['ECS.AmazonECSException', 'AmazonECS.Unknown'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
    /** After a phase's Catch: the failure, named after its phase (and `extra`), for the report that follows. */
    const failed = (
      id: string,
      phase: MigrationPhase,
      next: sfn.IChainable,
      comment = `The ${phase} task failed: keep its error and cause, and which phase it was.`,
      extra: Record<string, unknown> = {},
    ) =>
      new sfn.Pass(this, id, {
        comment,
        parameters: { phase, ...extra, 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause' },
        resultPath: '$.failure',
      }).next(next);
    const catchTo = (state: sfn.CustomState | tasks.LambdaInvoke, next: sfn.IChainable) =>
      state.addCatch(next, { resultPath: '$.failure' });

    return {
      start: (deploy: sfn.IChainable, abort: sfn.IChainable): sfn.IChainable => {
        const expand = run(
          STATES.expand,
          'expand',
          '$.release.migrationTask',
          'Expand migrations with the new image, before any color runs it (additive: the live version keeps working).',
        );
        catchTo(expand, failed(STATES.expandFailed, 'expand', abort));
        expand.next(deploy);
        const register = h.invoke(
          STATES.register,
          fns.register!,
          'Register the new revision (not running yet) and the task definition the migrations run with.',
        );
        // Register has no verdict to spare from retrying: a failure is a glitch, retried like any other.
        h.retryGlitches(register);
        catchTo(register, abort);
        register.next(expand);

        const scaleIdle = h.invoke(
          STATES.scaleDownIdle,
          fns['scale-down-old-color']!,
          "The idle color (the previous release's old color) to zero: nothing may send traffic back to it once " +
            'its contract runs.',
        );
        // A color with production weight is never scaled down: a verdict, not retried; Abort sorts traffic out.
        scaleIdle.addRetry({ errors: [ReleaseErrors.TrafficMovedDuringRelease], maxAttempts: 0 });
        h.retryIdempotent(scaleIdle);
        catchTo(scaleIdle, abort);
        const previous = run(
          STATES.previousContract,
          'previousContract',
          '$.release.pendingContract.taskDefinition',
          "The previous release's contract migrations, with its own image, before this release's expand.",
        );
        catchTo(previous, failed(STATES.previousContractFailed, 'previousContract', abort));
        const record = h.invoke(
          STATES.recordContract,
          fns['record-contract']!,
          "Record that the previous release's contract ran: no rollback may cross it.",
        );
        h.retryIdempotent(record);
        catchTo(record, abort);
        scaleIdle.next(previous);
        previous.next(record);
        record.next(register);
        return new sfn.Choice(this, STATES.contractPending, {
          comment:
            "Does the previous release's contract wait for this release (its old color was kept warm)?",
        })
          .when(sfn.Condition.isPresent('$.release.pendingContract'), scaleIdle)
          .otherwise(register);
      },
      backfill: (switchTraffic: sfn.IChainable, abort: sfn.IChainable): sfn.IChainable => {
        const backfill = run(
          STATES.backfill,
          'backfill',
          '$.release.migrationTask',
          'Backfill migrations with the new image: validated, not yet switched to.',
        );
        catchTo(backfill, failed(STATES.backfillFailed, 'backfill', abort));
        backfill.next(switchTraffic);
        return backfill;
      },
      contract: (finish: sfn.IChainable): sfn.IChainable => {
        const report = h
          .invoke(
            STATES.reportContractFailure,
            fns['contract-failed']!,
            'Traffic stays on the new color; the contract is recorded as pending; lock released; notify.',
          )
          .addCatch(
            h.failWith(
              STATES.contractReportFailed,
              'The contract migrations failed, and so did their report: the Stopped step reports it.',
              '$.reportFailure',
            ),
            { resultPath: '$.reportFailure' },
          )
          .next(
            h.failWith(
              STATES.liveContractFailed,
              'The new color is live; its contract migrations failed and run again at the next release.',
            ),
          );
        const contractFailed = failed(STATES.contractFailed, 'contract', report);
        const scaleOld = h.invoke(
          STATES.scaleDownOld,
          fns['scale-down-old-color']!,
          'The old color to zero: from here on nothing can send traffic back to it.',
        );
        scaleOld.addRetry({
          errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
          maxAttempts: 0,
        });
        h.retryIdempotent(scaleOld);
        // The listener sends traffic to the old color again: it was not scaled down and no contract runs; it is
        // still warm, so traffic goes back to it.
        scaleOld.addCatch(h.rollback, {
          errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
          resultPath: '$.failure',
        });
        catchTo(
          scaleOld,
          failed(
            STATES.scaleDownFailed,
            'contract',
            report,
            'The old color could not be scaled down: the contract must not run.',
            { scaleDown: true },
          ),
        );
        const contract = run(
          STATES.contract,
          'contract',
          '$.release.migrationTask',
          'Contract migrations with the new image, now that the old version can no longer take traffic.',
        );
        catchTo(contract, contractFailed);
        scaleOld.next(contract);
        contract.next(finish);
        return scaleOld;
      },
    };
  }

  /**
   * The manual gate: a callback task (task token) after validation. `bluegreen approve` (SendTaskSuccess) goes on
   * to the switch; `bluegreen reject` (SendTaskFailure, error Rejected) and a failed notification abort; the
   * timeout aborts, or approves when `approval.onTimeout` says so.
   */
  private gate(
    gate: { timeoutMinutes: number; onTimeout: 'abort' | 'approve' },
    fn: lambda.IFunction,
    onApproved: sfn.IChainable,
    abort: sfn.IChainable,
  ): sfn.IChainable {
    const wait = new tasks.LambdaInvoke(this, STATES.approval, {
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
        ? new sfn.Pass(this, STATES.approvalTimedOut, {
            comment: 'No answer in time: abort (approval.onTimeout).',
            result: sfn.Result.fromObject({
              Error: 'ApprovalTimedOut',
              Cause:
                `No approve or reject within ${gate.timeoutMinutes} minutes (approval.timeoutMinutes); the release ` +
                'is aborted (approval.onTimeout: abort).',
            }),
            resultPath: '$.failure',
          }).next(abort)
        : new sfn.Pass(this, STATES.approvedOnTimeout, {
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

  /** The fleet's calls, per platform, each on this app's services or groups and templates. */
  private grantFleet(fns: StepFunctions, concluding: lambda.Function[], props: ReleaseWorkflowProps): void {
    const stack = Stack.of(this);
    const { colors } = props;
    const allow = (
      fn: lambda.Function,
      actions: string[],
      resources: string[],
      conditions?: Record<string, unknown>,
    ) => fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    if (props.config.platform === 'ecs') {
      const services = COLORS.map((c) => colors[c].ecs!.service.serviceArn);
      const passRoles = COLORS.flatMap((c) => [
        colors[c].ecs!.taskDefinition.taskRole.roleArn,
        colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
      ]);
      for (const fn of [fns.prepare, fns['check-deploy']]) {
        allow(fn, ['ecs:DescribeServices'], services);
      }
      allow(fns.deploy, ['ecs:DescribeServices'], services);
      // Task definitions have no resource-level permissions for Describe/Register/Deregister.
      allow(fns.deploy, ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], ['*']);
      allow(fns.deploy, ['iam:PassRole'], passRoles);
      // The new revision carries the family's tags: tagging on create is authorized separately.
      this.grantTagOnRegister(
        fns.deploy,
        COLORS.map((c) => `${props.config.appName}-${c}`),
      );
      for (const fn of [fns.deploy, fns.rollback, fns.abort, fns.finish]) {
        allow(fn, ['ecs:UpdateService'], services);
      }
      for (const fn of [fns.rollback, fns.abort]) {
        // Putting a color back reads its old revision and, when a cdk deploy deregistered it, registers it again.
        // The Service Authorization Reference lists no resource type (and no condition key) for
        // DeregisterTaskDefinition, DescribeTaskDefinition or RegisterTaskDefinition: they cannot be scoped
        // (aws/containers-roadmap#929).
        allow(
          fn,
          ['ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
          ['*'],
        );
        allow(fn, ['iam:PassRole'], passRoles);
        this.grantTagOnRegister(
          fn,
          COLORS.map((c) => `${props.config.appName}-${c}`),
        );
      }
      return;
    }
    const arns = asgArns(stack, props.config.appName, colors);
    const { groups, templates } = arns;
    // Describe calls of Auto Scaling and of launch template versions have no resource-level permissions.
    for (const fn of [fns.prepare, fns['check-deploy'], fns.deploy, fns.rollback, fns.abort]) {
      allow(fn, ASG_FLEET_READS, ['*']);
    }
    allow(fns.deploy, ['ec2:CreateLaunchTemplateVersion'], templates);
    for (const fn of [fns.rollback, fns.abort]) {
      allow(fn, ['ec2:DeleteLaunchTemplateVersions'], templates);
    }
    for (const fn of [fns.deploy, fns.rollback, fns.abort]) {
      for (const statement of moveGroupStatements(stack, arns, [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:StartInstanceRefresh',
        'autoscaling:CancelInstanceRefresh',
      ])) {
        fn.addToRolePolicy(statement);
      }
    }
    allow(fns.finish, ['autoscaling:UpdateAutoScalingGroup'], groups);
    // Scaling is held for the release (deploy) and let go by every ending.
    allow(fns.deploy, ['autoscaling:SuspendProcesses'], groups);
    for (const fn of concluding) {
      allow(fn, ['autoscaling:ResumeProcesses'], groups);
    }
    for (const fn of new Set([fns.deploy, fns.rollback, fns.abort, fns.finish, ...concluding])) {
      acknowledgeAsgWildcards(
        fn.role!,
        props.config.appName,
        [fns.deploy, fns.rollback, fns.abort].includes(fn),
      );
    }
  }

  /** The migration steps' calls (and the migration record for Prepare and Finish), on this app's resources. */
  private grantMigrations(fns: StepFunctions, props: ReleaseWorkflowProps): void {
    const stack = Stack.of(this);
    const { colors, config } = props;
    const allow = (fn: lambda.Function | undefined, actions: string[], resources: string[]) =>
      fn?.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const parameter = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: migrationParameterName(config.appName).slice(1),
    });
    allow(fns.prepare, ['ssm:GetParameter'], [parameter]);
    allow(fns['record-contract'], ['ssm:PutParameter'], [parameter]);
    for (const fn of [fns.finish, fns['contract-failed']]) {
      allow(fn, ['ssm:GetParameter', 'ssm:PutParameter'], [parameter]);
    }
    // Task definitions have no resource-level permissions for Describe/Register.
    allow(fns.register, ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], ['*']);
    this.grantTagOnRegister(fns.register!, this.migrationTasks!.families);
    if (config.platform === 'ecs') {
      allow(
        fns.register,
        ['iam:PassRole'],
        COLORS.flatMap((c) => [
          colors[c].ecs!.taskDefinition.taskRole.roleArn,
          colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
        ]),
      );
      allow(
        fns['scale-down-old-color'],
        ['ecs:UpdateService'],
        COLORS.map((c) => colors[c].ecs!.service.serviceArn),
      );
      return;
    }
    const td = this.migrationTasks!.taskDefinition!;
    allow(fns.register, ['iam:PassRole'], [td.taskRole.roleArn, td.obtainExecutionRole().roleArn]);
    const arns = asgArns(stack, config.appName, colors);
    allow(fns.register, ['ec2:DescribeLaunchTemplateVersions'], ['*']);
    allow(fns.register, ['ec2:CreateLaunchTemplateVersion'], arns.templates);
    allow(fns['scale-down-old-color'], ['autoscaling:UpdateAutoScalingGroup'], arns.groups);
    // (contract-failed resumes scaling like every ending: grantFleet acknowledges it with them.)
    acknowledgeAsgWildcards(fns['scale-down-old-color']!.role!, config.appName, false);
  }

  /**
   * RegisterTaskDefinition with tags (a new revision keeps its family's) also needs ecs:TagResource, allowed
   * only while registering, and only on revisions of these families.
   */
  private grantTagOnRegister(fn: lambda.Function, families: readonly string[]): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: families.map((f) =>
          stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${f}:*` }),
        ),
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    const { partition, region, account } = nagArnParts(stack);
    for (const f of families) {
      acknowledge(
        fn.role!,
        `AwsSolutions-IAM5[Resource::arn:${partition}:ecs:${region}:${account}:task-definition/${f}:*]`,
        `Tagging is allowed only on create (ecs:CreateAction RegisterTaskDefinition) of a revision of ${f}, whose ` +
          'number is only known once it is registered.',
      );
    }
  }

  /** Least privilege: each step gets exactly the calls its core makes, on this app's resources. */
  private grant(fns: StepFunctions, props: ReleaseWorkflowProps): void {
    const stack = Stack.of(this);
    const { colors, traffic, record } = props;
    const allow = (fn: lambda.Function, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const events = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' });
    const concluding: lambda.Function[] = [
      fns.rollback,
      fns.abort,
      fns.finish,
      fns['rollback-failed'],
      fns.stopped,
      ...(fns['contract-failed'] ? [fns['contract-failed']] : []),
    ];
    // The manual gate only publishes (what waits, how to answer).
    const publishing = fns['await-approval'] ? [...concluding, fns['await-approval']] : concluding;

    // Reads
    for (const fn of [fns.prepare, fns.stopped]) {
      allow(fn, ['ssm:GetParameters'], recordParameterArns(stack, record));
    }
    for (const fn of [fns.prepare, fns['check-deploy'], fns.validate, fns.stopped]) {
      // Describe* calls of Elastic Load Balancing have no resource-level permissions.
      allow(
        fn,
        ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetHealth'],
        ['*'],
      );
    }
    allow(
      fns.watch,
      ['cloudwatch:DescribeAlarms'],
      COLORS.flatMap((c) => Object.values(colors[c].alarms).map((a) => a.alarmArn)),
    );
    traffic.testTrafficSecret.grantRead(fns.validate);
    if (props.config.release.validationHookArn) {
      allow(fns.validate, ['lambda:InvokeFunction'], [props.config.release.validationHookArn]);
    }

    // Lock
    this.lockTable.grant(fns.prepare, 'dynamodb:PutItem', 'dynamodb:GetItem');
    for (const fn of [...concluding]) {
      this.lockTable.grant(fn, 'dynamodb:DeleteItem');
    }

    // Fleet (reads, deploy, put back, retire, hold scaling)
    this.grantFleet(fns, concluding, props);
    // The re-checks before irreversible acts (listener, idle color), and Abort/Finish putting traffic right
    grantRechecks(fns, props);

    // Traffic and record
    // Deploy points the test rule at the idle color before anything is validated through it.
    allow(fns.deploy, ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]);
    for (const fn of [fns.switch, fns.rollback]) {
      allow(fn, ['elasticloadbalancing:ModifyListener'], [traffic.productionListener.listenerArn]);
      allow(fn, ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]);
      allow(fn, ['ssm:PutParameter'], recordParameterArns(stack, record));
    }

    // Migrations: the migration record, and what registering and scaling down before a contract take
    if (this.migrationTasks) {
      this.grantMigrations(fns, props);
    }

    // Outcomes
    for (const fn of publishing) {
      // The topic uses the AWS managed key alias/aws/sns: publishing through SNS needs no KMS permission.
      allow(fn, ['sns:Publish'], [this.topic.topicArn]);
      allow(fn, ['events:PutEvents'], [events]);
    }

    const xray =
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords) has no resource-level permissions';
    const asg = props.config.platform === 'asg';
    const reasons: Record<Step, string> = {
      prepare: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''}; its only write is the lock item.`,
      deploy: asg
        ? `${xray}, nor do the Auto Scaling and launch template Describe calls; the group, template and PassRole writes are scoped to this app's groups, templates and instance roles.`
        : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition; UpdateService and PassRole are scoped to this app's services and task roles.`,
      'check-deploy': `${xray}, nor do elasticloadbalancing:DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''}; it only reads.`,
      validate: `${xray}, nor does elasticloadbalancing:DescribeTargetHealth; it only reads (and invokes the configured hook).`,
      switch: `${xray}, nor does elasticloadbalancing:DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''} (the idle color re-checked); its writes are scoped to the production listener, the test rule and the record parameters.`,
      watch: `${xray}, nor does elasticloadbalancing:DescribeListeners; it only reads the listener and this app's alarms.`,
      rollback: asg
        ? `${xray}, nor do the Auto Scaling, launch template and elasticloadbalancing:DescribeListeners Describe calls; its other writes are scoped to this app's listener, rule, record, groups, templates, lock, topic.`
        : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition/DeregisterTaskDefinition and elasticloadbalancing:DescribeListeners; its other writes are scoped to this app's listener, rule, record, services, task roles, lock, topic.`,
      abort: asg
        ? `${xray}, nor do the Auto Scaling, launch template and elasticloadbalancing:DescribeListeners Describe calls; its other writes are scoped to this app's listener, rule, record, groups, templates, lock and topic.`
        : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition/DeregisterTaskDefinition and elasticloadbalancing:DescribeListeners; its other writes are scoped to this app's listener, rule, record, services, task roles, lock and topic.`,
      finish: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth; its writes are scoped to this app's ${asg ? 'groups' : 'services'}, listener, rule, record, lock and topic.`,
      'rollback-failed': `${xray}; its writes are scoped to this app's lock and topic.`,
      stopped: `${xray}, nor does elasticloadbalancing:DescribeListeners; its writes are scoped to this app's lock and topic.`,
      'await-approval': `${xray}; it only publishes to this app's topic and the default event bus.`,
      register: asg
        ? `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition and the launch template Describe calls; launch template versions and PassRole are scoped to this app's templates and migration task roles.`
        : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition; PassRole is scoped to this app's task roles.`,
      'scale-down-old-color': `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth; its only write is the desired count of this app's ${asg ? 'groups' : 'services'}.`,
      'record-contract': `${xray}; its only write is this app's migration record parameter.`,
      'contract-failed': `${xray}; its writes are scoped to this app's migration record, lock and topic.`,
    };
    for (const [step, fn] of Object.entries(fns) as [Step, lambda.Function][]) {
      acknowledge(fn.role!, 'AwsSolutions-IAM5[Resource::*]', reasons[step]);
    }
    if (props.vpc && fns.validate.role) {
      acknowledge(
        fns.validate.role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'The validation step runs in the VPC (to leave through the NAT gateway the test port admits); Lambda needs ' +
          'this policy to manage its network interfaces, which cannot be scoped to ARNs before they exist.',
      );
    }
  }
}

function perColor<T>(pick: (color: Color) => T): Record<Color, T> {
  return { blue: pick('blue'), green: pick('green') };
}

function pascal(step: string): string {
  return step.replace(/(^|-)([a-z])/g, (_, __, ch: string) => ch.toUpperCase());
}
