import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AwsSettings, StepSettings } from '../../lambda/adapters/aws-deps';
import { STEP_TIMEOUT_SECONDS } from '../../lambda/adapters/sdk-budget';
import {
  encodeSmokeChecks,
  SETTINGS_VARIABLE,
  SMOKE_CHECKS_VARIABLE,
  VALIDATE_AWS_SETTINGS,
} from '../../lambda/adapters/step-environment';
import type { WorkflowSettings } from '../../lambda/shared/release';
import {
  migrationParameterName,
  type Color,
  type RecordParameterNames,
} from '../../lambda/shared/release-record';
import { METRICS_PERIOD_SECONDS, type BluegreenConfig } from '../config';
import { acknowledge } from '../nag';
import { ReleaseErrors } from '../../lambda/shared/errors';
import { approvalGate } from './approval-gate';
import { BluegreenFunction } from './bluegreen-function';
import type { ColorEnvironment } from './color-environment';
import type { Database } from './database';
import { migrationPhases } from './migration-phases';
import { MigrationTasks } from './migration-tasks';
import { conclusion, wayOut } from './conclude-phase';
import { deployAndValidate } from './deploy-phase';
import { handUnsuccessfulEndingsToStopped } from './release-endings';
import { switchAndBake } from './switch-phase';
import { TEST_TRAFFIC_HEADER, type TrafficRouting } from './traffic';
import { configuredSmokeChecks } from '../cold-rollback-settings';
import { shiftPhase } from './shift-phase';
import { hookPhase } from './hook-phase';
import { hookFunctions, hookTimings } from '../config-hooks';
import type { HookName } from '../../lambda/shared/release';
import { FOLLOW_LIVE_TIMEOUT_SECONDS } from '../../lambda/workflow/follow-live';
import { followLiveEveryMinute } from './follow-live-schedule';
import { grantSteps } from './workflow-grants';
import { stateHelpers, type Step, type StepFunctions } from './workflow-states';
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
    const analysis = config.release.analysis;
    const hooks = hookTimings(config.release.hooks);

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
      smokeChecks: configuredSmokeChecks(config),
      hasValidationHook: config.release.validationHookArn !== undefined,
      keepIdleWarm: config.keepIdleWarm,
      ...(config.scaling
        ? { scaling: { minCount: config.scaling.minCount, maxCount: config.scaling.maxCount } }
        : {}),
      maxReleaseSeconds: config.release.maxReleaseMinutes * 60,
      ...(gate ? { approval: { timeoutSeconds: gate.timeoutMinutes * 60, onTimeout: gate.onTimeout } } : {}),
      ...(migrations ? { migrations: { timeoutSeconds: migrations.timeoutMinutes * 60 } } : {}),
      ...(hooks ? { hooks } : {}),
      strategy: config.release.strategy,
      analysis: {
        policy: {
          minRequests: analysis.minRequests,
          errorSignificance: analysis.errorSignificance,
          latencyMargin: analysis.latencyMargin,
          latencyFloorMs: analysis.latencyFloorMs,
          minTailRequests: analysis.minTailRequests,
          critical: analysis.critical,
        },
        latencyPercentile: analysis.latencyPercentile,
        onInconclusive: analysis.onInconclusive,
        maxExtensions: analysis.maxExtensions,
        alarms: analysis.alarms,
        dryRun: analysis.dryRun,
        ...(analysis.stickySeconds ? { stickySeconds: analysis.stickySeconds } : {}),
        periodSeconds: METRICS_PERIOD_SECONDS,
        settleSeconds: analysis.settleSeconds,
      },
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
      loadBalancerArn: traffic.productionListener.loadBalancer.loadBalancerArn,
      testRuleArn: traffic.testRule.listenerRuleArn,
      testTokenSecretArn: traffic.testTrafficSecret.secretArn,
      alarmNames: perColor((c) => Object.values(colors[c].alarms).map((a) => a.alarmName)),
      lockTable: this.lockTable.tableName,
      topicArn: this.topic.topicArn,
      // Only with Slack: the settings of a stack without it stay as they were (its template unchanged).
      ...(config.notifications?.slack ? { chatNotifications: true } : {}),
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
    // The strategy and the analysis only go to the steps that read them (Prepare, Shift traffic, Analyse step); the
    // lifecycle hooks' timings to Prepare (the budget), Roll back (a rollback hook after it) and the hook step.
    const { smokeChecks, strategy, analysis: judging, hooks: hookSettings, ...everyStep } = workflow;
    const withHooks = hookSettings ? { hooks: hookSettings } : {};
    const settings: Omit<StepSettings, 'workflow'> & { workflow: typeof everyStep } = {
      workflow: everyStep,
      aws,
    };
    const environment: Record<string, string> = { [SETTINGS_VARIABLE]: stack.toJsonString(settings) };
    const shiftEnvironment: Record<string, string> = {
      [SETTINGS_VARIABLE]: stack.toJsonString({
        ...settings,
        workflow: { ...everyStep, strategy, analysis: judging, ...withHooks },
      }),
    };
    const rollbackEnvironment: Record<string, string> = hookSettings
      ? { [SETTINGS_VARIABLE]: stack.toJsonString({ ...settings, workflow: { ...everyStep, ...withHooks } }) }
      : environment;
    const validateEnvironment = {
      [SETTINGS_VARIABLE]: stack.toJsonString({
        workflow: everyStep,
        aws: Object.fromEntries(VALIDATE_AWS_SETTINGS.map((key) => [key, aws[key]])),
      }),
      [SMOKE_CHECKS_VARIABLE]: encodeSmokeChecks(smokeChecks),
    };
    // The hook step's ports are the hooks alone: its AWS settings are their functions.
    const hookEnvironment = {
      [SETTINGS_VARIABLE]: stack.toJsonString({
        workflow: { ...everyStep, ...withHooks },
        aws: { lifecycleHooks: hookFunctions(config.release.hooks) },
      }),
    };
    const environmentOf = (step: Step) =>
      step === 'hook'
        ? hookEnvironment
        : step === 'validate'
          ? validateEnvironment
          : ['prepare', 'shift', 'analyse'].includes(step)
            ? shiftEnvironment
            : step === 'rollback'
              ? rollbackEnvironment
              : environment;

    const steps = new Construct(this, 'Steps');
    const make = (step: Step, description: string, vpc?: ec2.IVpc, timeoutSeconds = STEP_TIMEOUT_SECONDS) =>
      new BluegreenFunction(steps, pascal(step), {
        entry: step,
        description: `bluegreen ${appName}: ${description}`,
        environment: environmentOf(step),
        environmentAdvice:
          'shorten release.smokeChecks (fewer checks, shorter paths), release.analysis.alarms (fewer, shorter ' +
          'names), listeners.domainName, healthCheck.path or image.repository',
        logRetentionDays: config.logRetentionDays,
        // Room for every SDK call of the step at its worst, and for the smoke checks and the hook (sdk-budget.ts).
        timeout: Duration.seconds(timeoutSeconds),
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
      shift: make('shift', 'Shift a step of production traffic to the new color, then the record'),
      analyse: make('analyse', 'Judge a shift step: the new color against the old one'),
      watch: make('watch', 'Check the new live color during the bake'),
      rollback: make('rollback', 'Roll traffic and record back to the old color'),
      abort: make('abort', 'Undo a failed deploy, or release a refused one'),
      finish: make('finish', 'Scale the old color down, release the lock, publish'),
      'rollback-failed': make('rollback-failed', 'Report a failed rollback'),
      stopped: make('stopped', 'End clean any release that did not succeed: lock, scaling, outcome'),
      ...(gate
        ? { 'await-approval': make('await-approval', 'Manual gate: say what waits and how to answer') }
        : {}),
      ...(hooks ? { hook: make('hook', 'Call a lifecycle hook (release.hooks) once') } : {}),
      ...(config.scaling && config.keepIdleWarm
        ? {
            // Shorter than its lock lease (follow-live.ts), so the lock never lapses while it acts.
            'follow-live': make(
              'follow-live',
              "Keep the idle color at the live color's count",
              undefined,
              FOLLOW_LIVE_TIMEOUT_SECONDS,
            ),
          }
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
    if (fns['follow-live']) {
      followLiveEveryMinute(this, appName, fns['follow-live']);
    }
    grantSteps(this, fns, props, {
      lockTable: this.lockTable,
      topic: this.topic,
      migrationTasks: this.migrationTasks,
    });

    // --- The state machine ---------------------------------------------------------------------------------
    const { invoke, retryGlitches, retryAllBut, retryIdempotent, pollLoop, failWith } = stateHelpers(this);

    const helpers = { invoke, retryGlitches, retryAllBut, retryIdempotent, pollLoop, failWith };
    // Built from the end back, each phase in its own module: the ways out, the conclusion, the migrations, the
    // switch and bake, the gradual shift, the gate, then deploy and validate.
    const hooked = hookPhase(this, fns, helpers, new Set(Object.keys(hooks ?? {}) as HookName[]));
    const { refuse, abort, rollback } = wayOut(fns, helpers, { afterRollback: hooked.afterRollback });
    const { finish, keepWarm } = conclusion(this, fns, helpers, {
      rollback,
      rollbackOnMove: !(migrations && !config.keepIdleWarm),
    });
    // With migrations and no warm old color, the contract runs once the old color is down (else it waits for
    // the next release's start).
    const phases = migrations
      ? migrationPhases(this, fns, migrations, this.migrationTasks!, {
          invoke,
          retryGlitches,
          retryIdempotent,
          failWith,
          rollback,
        })
      : undefined;
    keepWarm.next(phases && !config.keepIdleWarm ? phases.contract(finish) : finish);
    const switchTraffic = switchAndBake(this, fns, helpers, {
      abort,
      rollback,
      next: keepWarm,
      alongsideBake:
        hooked.alongsideBake && ((bake) => hooked.alongsideBake!(bake, { rollback, next: keepWarm })),
    });
    // Canary and linear strategies shift in judged steps before the final switch.
    const shifting = shiftPhase(this, fns, helpers, { switchTraffic, abort, rollback });
    // With migrations, the backfill runs once the new color is validated (and approved), before the switch.
    const toSwitch = phases ? phases.backfill(shifting, abort) : shifting;
    const deploy = deployAndValidate(this, fns, helpers, {
      abort,
      next:
        gate && fns['await-approval']
          ? approvalGate(this, gate, fns['await-approval'], toSwitch, abort)
          : toSwitch,
      migrations: migrations !== undefined,
    });

    const prepare = invoke(
      STATES.prepare,
      fns.prepare,
      'Validate the input, take the lock, check record vs listener.',
    );
    // The idle color following the live one holds the lock for a few seconds (keepIdleWarm with scaling): wait.
    prepare.addRetry({
      errors: ['LockBusy'],
      interval: Duration.seconds(5),
      backoffRate: 1.5,
      maxAttempts: 6,
    });
    // A glitch is tried again (taking the lock is idempotent for the same execution); a refusal is final.
    retryAllBut(prepare, [ReleaseErrors.InvalidInput, ReleaseErrors.ReleaseInProgress, ReleaseErrors.Drift]);
    prepare.addCatch(refuse, { resultPath: '$.failure' });
    // With migrations: the previous release's pending contract, then the new revision, expand, and only then
    // the deploy.
    const afterPrepare = phases ? phases.start(deploy, abort) : deploy;
    prepare.next(hooked.admission ? hooked.admission(afterPrepare, { refuse }) : afterPrepare);

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
}

function perColor<T>(pick: (color: Color) => T): Record<Color, T> {
  return { blue: pick('blue'), green: pick('green') };
}

function pascal(step: string): string {
  return step.replace(/(^|-)([a-z])/g, (_, __, ch: string) => ch.toUpperCase());
}
