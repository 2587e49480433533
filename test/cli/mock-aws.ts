/**
 * A small stateful AWS for the CLI tests, built on aws-sdk-client-mock: the stack's outputs, the SSM record,
 * the production listener and test rule, target health, the two ECS services, the DynamoDB lock, and the
 * release state machine's executions with their history. Writes (ModifyListener, PutParameter, UpdateService,
 * StartExecution, StopExecution, SendTask*) change that state, so a test can check where things end up.
 */
import type { Promotion } from '../../lambda/shared/ports';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  ResumeProcessesCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Color } from '../../lambda/shared/release-record';

export const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
export const MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bluegreen-shop-release`;
export const REPO = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop`;
const TD_PREFIX = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/';
export const ME = `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`;
const LISTENER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/shop/1/prod`;
const RULE = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/shop/1/test/rule`;
const TG: Record<Color, string> = {
  blue: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/shop-blue/1`,
  green: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/shop-green/2`,
};
const SERVICE: Record<Color, string> = { blue: 'shop-blue', green: 'shop-green' };

export interface Execution {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  input: string;
  start: Date;
  stop?: Date;
  error?: string;
  cause?: string;
  /** Oldest first; ids are assigned from the position. */
  events: HistoryEvent[];
}

export class MockAws {
  readonly sfn = mockClient(SFNClient);
  readonly cfn = mockClient(CloudFormationClient);
  readonly sts = mockClient(STSClient);
  readonly ssm = mockClient(SSMClient);
  readonly elb = mockClient(ElasticLoadBalancingV2Client);
  readonly ecs = mockClient(ECSClient);
  readonly ddb = mockClient(DynamoDBClient);
  readonly sns = mockClient(SNSClient);
  readonly events = mockClient(EventBridgeClient);

  stackExists = true;
  /** More stack outputs (test/cli/mock-cold.ts adds the cold rollback's). */
  extraOutputs: Record<string, string> = {};
  /** The migration record's JSON, when the app runs database migrations (the stack then has its output). */
  migrationRecord?: string;
  readonly autoscaling = mockClient(AutoScalingClient);
  readonly ec2 = mockClient(EC2Client);
  readonly appScaling = mockClient(ApplicationAutoScalingClient);
  /** The configured auto scaling: when set, the stack has its ScalingBounds output and each color scales. */
  scaling?: { minCount: number; maxCount: number };
  /**
   * Each color's scaling bounds: its scalable target (ecs) or its group's MinSize and MaxSize with its
   * target-tracking policy's DisableScaleIn (asg). Setting them brings the count within them, as AWS does.
   */
  bounds: Record<Color, { min: number; max: number; scaleInSuspended: boolean }> = {
    blue: { min: 0, max: 10, scaleInSuspended: false },
    green: { min: 0, max: 10, scaleInSuspended: false },
  };
  /** Scaling processes suspended per group (the asg platform). */
  readonly suspended: Record<string, string[]> = {};
  /**
   * `weights`: the production-weights parameter ("<blue>,<green>"), absent until a write sets it; `capacity`: the
   * colors' capacity parameters, each absent until a write sets it.
   */
  record: {
    live: Color;
    images: Record<Color, string>;
    weights?: string;
    capacity?: Partial<Record<Color, string>>;
  } = {
    live: 'blue',
    images: { blue: `${REPO}:v1`, green: `${REPO}:v1` },
  };
  weights: Record<Color, number> = { blue: 100, green: 0 };
  /** Group-level stickiness on the production listener's forward (seconds), as a gradual shift may set it. */
  stickySeconds?: number;
  testWeights: Record<Color, number> = { blue: 0, green: 100 };
  services: Record<Color, { desired: number; running: number; revision: string }> = {
    blue: {
      desired: 2,
      running: 2,
      revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-blue:7',
    },
    green: {
      desired: 0,
      running: 0,
      revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:3',
    },
  };
  /** Healthy targets per color (unset: as many as running tasks). */
  healthy: Partial<Record<Color, number>> = {};
  lock?: {
    owner: string;
    image: string;
    since: string;
    expiresAt: number;
    /** `bluegreen promote`'s request (the lock item's promotedBy, promotedAt). */
    promotion?: Promotion;
  };
  readonly executions: Execution[] = [];
  readonly published: { subject: string; message: Record<string, unknown>; raw: string }[] = [];
  readonly answers: { token: string; output?: string; error?: string; cause?: string }[] = [];
  readonly stopped: { arn: string; error?: string; cause?: string }[] = [];
  readonly retired: string[] = [];
  /** Revisions a cdk deploy deregistered (changed CPU, memory, environment). */
  readonly deregistered: string[] = [];
  /** Called when StopExecution arrives, before it takes effect (tests play races here). */
  beforeStop?: (execution: Execution) => void;
  /** Called on every GetExecutionHistory of a running execution (tests append events here). */
  onHistoryRead?: (execution: Execution) => void;

  /** `asg`: the stack's colors are Auto Scaling groups (revisions `lt-<color>:<version>`) instead of services. */
  constructor(readonly platform: 'ecs' | 'asg' = 'ecs') {
    if (platform === 'asg') {
      this.services.blue.revision = 'lt-blue:7';
      this.services.green.revision = 'lt-green:3';
    }
    this.mockGroups();
    this.cfn.on(DescribeStacksCommand).callsFake(() => {
      if (!this.stackExists) {
        const e = new Error('Stack with id shop does not exist');
        e.name = 'ValidationError';
        throw e;
      }
      const outputs: Record<string, string> = {
        StateMachineArn: MACHINE,
        LockTableName: 'shop-Lock',
        ReleaseTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:bluegreen-shop-releases`,
        ProductionUrl: 'http://shop-123.eu-west-1.elb.amazonaws.com',
        ProductionListenerArn: LISTENER,
        TestListenerRuleArn: RULE,
        ...(this.platform === 'asg'
          ? {
              Platform: 'asg',
              BlueGroupName: SERVICE.blue,
              GreenGroupName: SERVICE.green,
              BlueLaunchTemplateId: 'lt-blue',
              GreenLaunchTemplateId: 'lt-green',
            }
          : {
              Platform: 'ecs',
              ClusterName: 'shop',
              BlueServiceName: SERVICE.blue,
              GreenServiceName: SERVICE.green,
              BlueTaskFamily: 'shop-blue',
              GreenTaskFamily: 'shop-green',
            }),
        BlueTargetGroupArn: TG.blue,
        GreenTargetGroupArn: TG.green,
        ...(this.migrationRecord !== undefined
          ? { MigrationRecordParameter: '/bluegreen/shop/migrations' }
          : {}),
        ...(this.scaling ? { ScalingBounds: `${this.scaling.minCount},${this.scaling.maxCount}` } : {}),
        ...this.extraOutputs,
      };
      return {
        Stacks: [
          {
            StackName: 'shop',
            Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      };
    });
    this.sts.on(GetCallerIdentityCommand).resolves({ Arn: ME, Account: ACCOUNT });
    this.ssm.on(GetParametersCommand).callsFake(() => ({
      Parameters: [
        { Name: '/bluegreen/shop/live-color', Value: this.record.live },
        { Name: '/bluegreen/shop/blue/image', Value: this.record.images.blue },
        { Name: '/bluegreen/shop/green/image', Value: this.record.images.green },
        // Absent until a write: a record from before gradual shifts.
        ...(this.record.weights
          ? [{ Name: '/bluegreen/shop/production-weights', Value: this.record.weights }]
          : []),
        ...Object.entries(this.record.capacity ?? {}).map(([color, value]) => ({
          Name: `/bluegreen/shop/${color}/capacity`,
          Value: value,
        })),
      ],
    }));
    this.ssm.on(GetParameterCommand, { Name: '/bluegreen/shop/migrations' }).callsFake(() => ({
      Parameter: { Name: '/bluegreen/shop/migrations', Value: this.migrationRecord },
    }));
    this.ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => {
      if (input.Name.endsWith('live-color')) {
        this.record.live = input.Value as Color;
      } else if (input.Name.endsWith('production-weights')) {
        this.record.weights = input.Value;
      } else if (input.Name.endsWith('/capacity')) {
        const color: Color = input.Name.includes('/blue/') ? 'blue' : 'green';
        this.record.capacity = { ...this.record.capacity, [color]: input.Value };
      } else {
        this.record.images[input.Name.includes('/blue/') ? 'blue' : 'green'] = input.Value;
      }
      return {};
    });
    this.elb.on(DescribeListenersCommand).callsFake(() => ({
      Listeners: [{ ListenerArn: LISTENER, DefaultActions: [forward(this.weights, this.stickySeconds)] }],
    }));
    this.elb.on(ModifyListenerCommand).callsFake((input: { DefaultActions: Action[] }) => {
      const action = input.DefaultActions[0];
      this.weights = weightsOf(action);
      // As ALB does: the stickiness the change gives (none when it gives no config).
      const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
      this.stickySeconds = sticky?.Enabled ? sticky.DurationSeconds : undefined;
      return {};
    });
    this.elb.on(ModifyRuleCommand).callsFake((input: { Actions: Action[] }) => {
      this.testWeights = weightsOf(input.Actions[0]);
      return {};
    });
    this.elb.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string }) => {
      const color: Color = input.TargetGroupArn === TG.blue ? 'blue' : 'green';
      const running = this.services[color].running;
      const healthy = this.healthy[color] ?? running;
      return {
        TargetHealthDescriptions: Array.from({ length: running }, (_, i) => ({
          Target: { Id: `10.0.1.${i + 10}`, Port: 8080 },
          TargetHealth:
            i < healthy
              ? { State: 'healthy' }
              : { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' },
        })),
      };
    });
    this.ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
      const color: Color = input.services[0] === SERVICE.blue ? 'blue' : 'green';
      const s = this.services[color];
      return {
        services: [
          {
            serviceName: SERVICE[color],
            desiredCount: s.desired,
            runningCount: s.running,
            taskDefinition: s.revision,
            deployments: [
              {
                status: 'PRIMARY',
                taskDefinition: s.revision,
                runningCount: s.running,
                rolloutState: 'COMPLETED',
              },
            ],
          },
        ],
      };
    });
    this.ecs
      .on(UpdateServiceCommand)
      .callsFake((input: { service: string; desiredCount: number; taskDefinition?: string }) => {
        const color: Color = input.service === SERVICE.blue ? 'blue' : 'green';
        this.services[color] = {
          desired: input.desiredCount,
          running: input.desiredCount,
          revision: input.taskDefinition ?? this.services[color].revision,
        };
        return {};
      });
    this.appScaling.on(DescribeScalableTargetsCommand).callsFake((input: { ResourceIds: string[] }) => ({
      ScalableTargets: input.ResourceIds.map((id) => {
        const b = this.bounds[id.endsWith(SERVICE.blue) ? 'blue' : 'green'];
        return {
          ServiceNamespace: 'ecs',
          ResourceId: id,
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: b.min,
          MaxCapacity: b.max,
          SuspendedState: { DynamicScalingInSuspended: b.scaleInSuspended },
        };
      }),
    }));
    this.appScaling
      .on(RegisterScalableTargetCommand)
      .callsFake(
        (input: {
          ResourceId: string;
          MinCapacity: number;
          MaxCapacity: number;
          SuspendedState: { DynamicScalingInSuspended: boolean };
        }) => {
          const color: Color = input.ResourceId.endsWith(SERVICE.blue) ? 'blue' : 'green';
          this.setBounds(color, {
            min: input.MinCapacity,
            max: input.MaxCapacity,
            scaleInSuspended: input.SuspendedState.DynamicScalingInSuspended,
          });
          return {};
        },
      );
    this.ecs.on(DeregisterTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
      this.retired.push(input.taskDefinition);
      return {};
    });
    // Revisions are ACTIVE until retired (or deregistered by a cdk deploy); the family's latest is CDK's.
    this.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
      const family = !input.taskDefinition.includes(':');
      const arn = family ? `${TD_PREFIX}${input.taskDefinition}:9` : input.taskDefinition;
      const inactive = this.retired.includes(arn) || this.deregistered.includes(arn);
      return {
        taskDefinition: {
          taskDefinitionArn: arn,
          family: arn.slice(TD_PREFIX.length).split(':')[0],
          status: inactive ? 'INACTIVE' : 'ACTIVE',
          containerDefinitions: [{ name: 'app', image: family ? `${REPO}:v1` : `${REPO}:v0` }],
        },
        tags: [{ key: 'bluegreen:app', value: 'shop' }],
      };
    });
    this.ecs.on(RegisterTaskDefinitionCommand).callsFake((input: { family: string }) => ({
      taskDefinition: { taskDefinitionArn: `${TD_PREFIX}${input.family}:10` },
    }));
    this.ddb.on(GetItemCommand).callsFake(() => ({
      Item: this.lock
        ? {
            app: { S: 'shop' },
            owner: { S: this.lock.owner },
            image: { S: this.lock.image },
            since: { S: this.lock.since },
            expiresAt: { N: String(this.lock.expiresAt) },
            ...(this.lock.promotion
              ? { promotedBy: { S: this.lock.promotion.by }, promotedAt: { S: this.lock.promotion.at } }
              : {}),
          }
        : undefined,
    }));
    this.ddb.on(PutItemCommand).callsFake((input: { Item: Record<string, { S?: string; N?: string }> }) => {
      const now = Math.floor(Date.now() / 1000);
      if (this.lock && this.lock.expiresAt >= now && this.lock.owner !== input.Item.owner.S) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      }
      this.lock = {
        owner: input.Item.owner.S!,
        image: input.Item.image.S!,
        since: input.Item.since.S!,
        expiresAt: Number(input.Item.expiresAt.N),
      };
      return {};
    });
    this.ddb
      .on(UpdateItemCommand)
      .callsFake((input: { ExpressionAttributeValues: Record<string, { S?: string; N?: string }> }) => {
        const v = input.ExpressionAttributeValues;
        const failed = () =>
          new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        if (v[':by']) {
          // requestPromotion: only while the owner holds the lock.
          if (!this.lock || this.lock.owner !== v[':owner'].S) {
            throw failed();
          }
          this.lock = { ...this.lock, promotion: { by: v[':by'].S!, at: v[':at'].S! } };
          return {};
        }
        if (!this.lock || this.lock.owner !== v[':from'].S) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        this.lock = {
          ...this.lock,
          owner: v[':to'].S!,
          since: v[':since'].S!,
          expiresAt: Number(v[':expires'].N),
        };
        return {};
      });
    this.ddb
      .on(DeleteItemCommand)
      .callsFake((input: { ExpressionAttributeValues: Record<string, { S: string }> }) => {
        if (this.lock?.owner === input.ExpressionAttributeValues[':owner'].S) {
          this.lock = undefined;
        }
        return {};
      });
    this.sns.on(PublishCommand).callsFake((input: { Subject: string; Message: string }) => {
      // The outcome JSON; on a stack with Slack (its ReleaseTopicFormat output), a Chatbot custom notification
      // that carries it as a JSON string (test/cli/topic-format.test.ts).
      const chat = this.extraOutputs.ReleaseTopicFormat === 'chatbot';
      const parsed = JSON.parse(input.Message) as { metadata: { additionalContext: { outcome: string } } };
      this.published.push({
        subject: input.Subject,
        message: (chat ? JSON.parse(parsed.metadata.additionalContext.outcome) : parsed) as Record<
          string,
          unknown
        >,
        raw: input.Message,
      });
      return { MessageId: '1' };
    });
    this.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    this.sfn
      .on(DescribeStateMachineCommand)
      .resolves({ definition: JSON.stringify({ TimeoutSeconds: 7200 }) });
    this.sfn.on(ListExecutionsCommand).callsFake((input: { statusFilter?: string; maxResults?: number }) => ({
      executions: [...this.executions]
        .reverse()
        .filter((e) => !input.statusFilter || e.status === input.statusFilter)
        .slice(0, input.maxResults ?? 100)
        .map((e) => ({
          executionArn: arnOf(e.name),
          name: e.name,
          status: e.status,
          startDate: e.start,
          stopDate: e.stop,
          stateMachineArn: MACHINE,
        })),
    }));
    this.sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const e = this.execution(input.executionArn);
      return {
        executionArn: input.executionArn,
        name: e.name,
        status: e.status,
        input: e.input,
        startDate: e.start,
        stopDate: e.stop,
        error: e.error,
        cause: e.cause,
      };
    });
    this.sfn
      .on(GetExecutionHistoryCommand)
      .callsFake(
        (input: {
          executionArn: string;
          reverseOrder?: boolean;
          maxResults?: number;
          nextToken?: string;
        }) => {
          const e = this.execution(input.executionArn);
          if (e.status === 'RUNNING' && !input.nextToken) {
            this.onHistoryRead?.(e);
          }
          // Pages as Step Functions does: maxResults events a page, nextToken for the rest, ids from 1.
          const all = e.events.map((ev, i) => ({ ...ev, id: i + 1 }));
          const ordered = input.reverseOrder ? all.reverse() : all;
          const from = Number(input.nextToken ?? 0);
          const size = input.maxResults ?? 1000;
          const page = ordered.slice(from, from + size);
          return { events: page, nextToken: from + size < ordered.length ? String(from + size) : undefined };
        },
      );
    this.sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
      this.executions.push({
        name: input.name,
        status: 'RUNNING',
        input: input.input,
        start: new Date(),
        events: [],
      });
      return { executionArn: arnOf(input.name), startDate: new Date() };
    });
    this.sfn
      .on(StopExecutionCommand)
      .callsFake((input: { executionArn: string; error?: string; cause?: string }) => {
        const e = this.execution(input.executionArn);
        this.beforeStop?.(e);
        if (e.status === 'RUNNING') {
          e.status = 'ABORTED';
          e.error = input.error;
          e.cause = input.cause;
        }
        this.stopped.push({ arn: input.executionArn, error: input.error, cause: input.cause });
        return { stopDate: new Date() };
      });
    this.sfn.on(SendTaskSuccessCommand).callsFake((input: { taskToken: string; output: string }) => {
      this.answers.push({ token: input.taskToken, output: input.output });
      return {};
    });
    this.sfn
      .on(SendTaskFailureCommand)
      .callsFake((input: { taskToken: string; error: string; cause: string }) => {
        this.answers.push({ token: input.taskToken, error: input.error, cause: input.cause });
        return {};
      });
  }

  execution(arn: string): Execution {
    const e = this.executions.find((x) => arnOf(x.name) === arn);
    if (!e) {
      const error = new Error(`Execution Does Not Exist: '${arn}'`);
      error.name = 'ExecutionDoesNotExist';
      throw error;
    }
    return e;
  }

  /** Auto Scaling groups and launch templates, over the same per-color state as the ECS services. */
  private mockGroups(): void {
    const colorOf = (name: string): Color => (name === SERVICE.blue ? 'blue' : 'green');
    this.autoscaling
      .on(DescribeAutoScalingGroupsCommand)
      .callsFake((input: { AutoScalingGroupNames: string[] }) => {
        const color = colorOf(input.AutoScalingGroupNames[0]);
        const s = this.services[color];
        const [templateId, version] = s.revision.split(':');
        const healthy = this.healthy[color] ?? s.running;
        return {
          AutoScalingGroups: [
            {
              AutoScalingGroupName: SERVICE[color],
              DesiredCapacity: s.desired,
              MinSize: this.bounds[color].min,
              MaxSize: this.bounds[color].max,
              LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
              Instances: Array.from({ length: s.running }, (_, i) => ({
                InstanceId: `i-${color}-${i}`,
                LifecycleState: 'InService',
                HealthStatus: i < healthy ? 'Healthy' : 'Unhealthy',
                LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
              })),
            },
          ],
        };
      });
    this.autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
    this.autoscaling
      .on(CancelInstanceRefreshCommand)
      .rejects(Object.assign(new Error('none'), { name: 'ActiveInstanceRefreshNotFoundFault' }));
    this.autoscaling
      .on(UpdateAutoScalingGroupCommand)
      .callsFake(
        (input: {
          AutoScalingGroupName: string;
          DesiredCapacity?: number;
          MinSize?: number;
          MaxSize?: number;
          LaunchTemplate?: { LaunchTemplateId: string; Version: string };
        }) => {
          const color = colorOf(input.AutoScalingGroupName);
          const s = this.services[color];
          const revision = input.LaunchTemplate
            ? `${input.LaunchTemplate.LaunchTemplateId}:${input.LaunchTemplate.Version}`
            : s.revision;
          const desired = input.DesiredCapacity ?? s.desired;
          this.services[color] = { desired, running: desired, revision };
          if (input.MinSize !== undefined || input.MaxSize !== undefined) {
            this.setBounds(color, {
              ...this.bounds[color],
              min: input.MinSize ?? this.bounds[color].min,
              max: input.MaxSize ?? this.bounds[color].max,
            });
          }
          return {};
        },
      );
    // One target-tracking policy per group when the stack configures scaling; its DisableScaleIn is the bounds'.
    this.autoscaling.on(DescribePoliciesCommand).callsFake((input: { AutoScalingGroupName: string }) => ({
      ScalingPolicies: this.scaling
        ? [
            {
              AutoScalingGroupName: input.AutoScalingGroupName,
              PolicyName: 'cpu',
              PolicyType: 'TargetTrackingScaling',
              TargetTrackingConfiguration: {
                PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
                TargetValue: 60,
                DisableScaleIn: this.bounds[colorOf(input.AutoScalingGroupName)].scaleInSuspended,
              },
            },
          ]
        : [],
    }));
    this.autoscaling
      .on(PutScalingPolicyCommand)
      .callsFake(
        (input: {
          AutoScalingGroupName: string;
          TargetTrackingConfiguration: { DisableScaleIn: boolean };
        }) => {
          const color = colorOf(input.AutoScalingGroupName);
          this.bounds[color] = {
            ...this.bounds[color],
            scaleInSuspended: input.TargetTrackingConfiguration.DisableScaleIn,
          };
          return {};
        },
      );
    this.autoscaling.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    for (const [command, suspend] of [
      [SuspendProcessesCommand, true],
      [ResumeProcessesCommand, false],
    ] as const) {
      this.autoscaling
        .on(command)
        .callsFake((input: { AutoScalingGroupName: string; ScalingProcesses: string[] }) => {
          this.suspended[input.AutoScalingGroupName] = suspend ? input.ScalingProcesses : [];
          return {};
        });
    }
    // Each launch template version runs its own image (so instances on another version are stale).
    this.ec2
      .on(DescribeLaunchTemplateVersionsCommand)
      .callsFake((input: { LaunchTemplateId: string; Versions: string[] }) => ({
        LaunchTemplateVersions: input.Versions.map((v) => ({
          LaunchTemplateId: input.LaunchTemplateId,
          VersionNumber: Number(v),
          CreateTime: new Date('2026-11-26T09:00:00Z'),
          LaunchTemplateData: {
            UserData: Buffer.from(`BLUEGREEN_IMAGE='${input.LaunchTemplateId}-image-${v}'\n`).toString(
              'base64',
            ),
          },
        })),
      }));
    this.ec2
      .on(DeleteLaunchTemplateVersionsCommand)
      .callsFake((input: { LaunchTemplateId: string; Versions: string[] }) => {
        this.retired.push(`${input.LaunchTemplateId}:${input.Versions[0]}`);
        return {};
      });
  }

  /** New bounds for a color, and its count brought within them (as RegisterScalableTarget and MinSize/MaxSize do). */
  private setBounds(color: Color, bounds: { min: number; max: number; scaleInSuspended: boolean }): void {
    this.bounds[color] = bounds;
    const s = this.services[color];
    const desired = Math.min(bounds.max, Math.max(bounds.min, s.desired));
    if (desired !== s.desired) {
      this.services[color] = { ...s, desired, running: desired };
    }
  }

  restore(): void {
    for (const m of [
      this.appScaling,
      this.autoscaling,
      this.ec2,
      this.sfn,
      this.cfn,
      this.sts,
      this.ssm,
      this.elb,
      this.ecs,
      this.ddb,
      this.sns,
      this.events,
    ]) {
      m.restore();
    }
  }
}

export function arnOf(name: string): string {
  return MACHINE.replace(':stateMachine:', ':execution:') + `:${name}`;
}

function forward(weights: Record<Color, number>, stickySeconds?: number): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: TG.blue, Weight: weights.blue },
        { TargetGroupArn: TG.green, Weight: weights.green },
      ],
      TargetGroupStickinessConfig:
        stickySeconds === undefined ? { Enabled: false } : { Enabled: true, DurationSeconds: stickySeconds },
    },
  };
}

function weightsOf(action: Action): Record<Color, number> {
  const groups = action.ForwardConfig?.TargetGroups ?? [];
  return {
    blue: groups.find((g) => g.TargetGroupArn === TG.blue)?.Weight ?? 0,
    green: groups.find((g) => g.TargetGroupArn === TG.green)?.Weight ?? 0,
  };
}

export { history, releaseOf } from './mock-history';
