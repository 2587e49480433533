/**
 * A small stateful AWS for the CLI tests, built on aws-sdk-client-mock: the stack's outputs, the SSM record,
 * the production listener and test rule, target health, the two ECS services, the DynamoDB lock, and the
 * release state machine's executions with their history. Writes (ModifyListener, PutParameter, UpdateService,
 * StartExecution, StopExecution, SendTask*) change that state, so a test can check where things end up.
 *
 * This file holds the state and what tests import; each service's handlers are in a file beside it
 * (mock-aws-stack, -traffic, -ecs, -asg, -lock, -executions), its names in mock-aws-names.ts.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Promotion } from '../../lambda/shared/ports';
import type { Color } from '../../lambda/shared/release-record';
import { REPO, arnOf } from './mock-aws-names';
import { mockGroups } from './mock-aws-asg';
import { mockServices } from './mock-aws-ecs';
import { mockExecutions } from './mock-aws-executions';
import { mockLock } from './mock-aws-lock';
import { mockStack } from './mock-aws-stack';
import { mockTraffic } from './mock-aws-traffic';

export { arnOf, MACHINE, ME, REGION, REPO } from './mock-aws-names';

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
    mockGroups(this);
    mockStack(this);
    mockTraffic(this);
    mockServices(this);
    mockLock(this);
    mockExecutions(this);
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

  /** New bounds for a color, and its count brought within them (as RegisterScalableTarget and MinSize/MaxSize do). */
  setBounds(color: Color, bounds: { min: number; max: number; scaleInSuspended: boolean }): void {
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

export { history, releaseOf } from './mock-history';
