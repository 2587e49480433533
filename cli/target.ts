/**
 * Which app the CLI works on and how to reach it: the app name (--app, BLUEGREEN_APP, or bluegreen.config.json
 * in the current directory), the region and profile (the standard AWS way: --region/--profile, AWS_REGION,
 * AWS_PROFILE, the shared config files, or the config file's aws.region), and the app's resources, read from
 * the outputs of its CloudFormation stack. The ports are the very adapters the state machine's steps use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AlbTrafficRouter } from '../lambda/adapters/alb-traffic-router';
import { lazy } from '../lambda/adapters/lazy';
import type { FleetSettings } from '../lambda/adapters/aws-deps';
import type { Fleet } from '../lambda/shared/ports';
import { DynamoDbReleaseLock } from '../lambda/adapters/dynamodb-lock';
import { AwsNotifier } from '../lambda/adapters/notifier';
import { SsmReleaseRecordStore } from '../lambda/adapters/ssm-release-record';
import { SsmMigrationRecord } from '../lambda/adapters/ssm-migration-record';
import { recordParameterNames, type Color } from '../lambda/shared/release-record';
import { usage, type CliIo } from './io';

export interface GlobalOptions {
  readonly app?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly stateMachine?: string;
  readonly json?: boolean;
}

/** One app's resources, from its stack's outputs. */
export interface AppTarget {
  readonly app: string;
  readonly stateMachineArn: string;
  readonly lockTable: string;
  readonly topicArn: string;
  readonly productionUrl: string;
  readonly productionListenerArn: string;
  readonly testRuleArn: string;
  /** Each color's compute, as the steps get it (ECS services, or Auto Scaling groups). */
  readonly fleet: FleetSettings;
  readonly targetGroups: Record<Color, string>;
  /** The migration record's parameter, when the app runs database migrations. */
  readonly migrationRecord?: string;
}

/** The app name and region from the options, the environment, or bluegreen.config.json. */
export function resolveApp(
  options: GlobalOptions,
  io: Pick<CliIo, 'env' | 'cwd'>,
): { app: string; region?: string } {
  let file: { appName?: unknown; aws?: { region?: unknown } } = {};
  try {
    file = JSON.parse(readFileSync(join(io.cwd, 'bluegreen.config.json'), 'utf8')) as typeof file;
  } catch {
    // No config file here: the app must come from --app or BLUEGREEN_APP.
  }
  const app =
    options.app ?? io.env.BLUEGREEN_APP ?? (typeof file.appName === 'string' ? file.appName : undefined);
  if (!app) {
    throw usage(
      'AppUnknown',
      'Which app? Pass --app <name>, set BLUEGREEN_APP, or run from the directory with bluegreen.config.json.',
    );
  }
  const region =
    options.region ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    (typeof file.aws?.region === 'string' ? file.aws.region : undefined);
  return { app, region };
}

/** The stack outputs the CLI reads (the stack tests check the stack has them, on each platform). */
export const STACK_OUTPUTS = [
  'StateMachineArn',
  'LockTableName',
  'ReleaseTopicArn',
  'ProductionUrl',
  'ProductionListenerArn',
  'TestListenerRuleArn',
  'BlueTargetGroupArn',
  'GreenTargetGroupArn',
] as const;
export const PLATFORM_OUTPUTS = {
  ecs: ['ClusterName', 'BlueServiceName', 'GreenServiceName', 'BlueTaskFamily', 'GreenTaskFamily'],
  asg: ['BlueGroupName', 'GreenGroupName', 'BlueLaunchTemplateId', 'GreenLaunchTemplateId'],
} as const;

/** The AWS clients and ports for one app, created on first use. */
export class AwsSession {
  private clients = new Map<string, unknown>();
  private targetPromise?: Promise<AppTarget>;

  constructor(
    readonly app: string,
    readonly config: { region?: string; profile?: string },
    private readonly stateMachineOverride?: string,
  ) {}

  private clientConfig() {
    return {
      ...(this.config.region ? { region: this.config.region } : {}),
      ...(this.config.profile ? { profile: this.config.profile } : {}),
      maxAttempts: 5,
      retryMode: 'adaptive' as const,
    };
  }

  private client<T>(key: string, make: (config: ReturnType<AwsSession['clientConfig']>) => T): T {
    if (!this.clients.has(key)) {
      this.clients.set(key, make(this.clientConfig()));
    }
    return this.clients.get(key) as T;
  }

  get sfn(): SFNClient {
    return this.client('sfn', (c) => new SFNClient(c));
  }

  /** Who is calling: the AWS identity's ARN (it goes with every release, answer and rollback). */
  async caller(): Promise<string> {
    const sts = this.client('sts', (c) => new STSClient(c));
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
  }

  /** The app's resources (one DescribeStacks call, cached). */
  target(): Promise<AppTarget> {
    this.targetPromise ??= this.discover();
    return this.targetPromise;
  }

  private async discover(): Promise<AppTarget> {
    const cfn = this.client('cfn', (c) => new CloudFormationClient(c));
    const stackName = this.app;
    let outputs: Record<string, string>;
    try {
      const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      outputs = Object.fromEntries(
        (out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
      );
    } catch (e) {
      const error = e as Error;
      if (error.name === 'ValidationError' && /does not exist/.test(error.message)) {
        throw usage(
          'AppNotFound',
          `No stack "${stackName}" in ${this.config.region ?? 'the default region'}: deploy the app first ` +
            '(npx cdk deploy --all), or pass the right --app / --region / --profile.',
        );
      }
      throw e;
    }
    // Stacks from before the asg platform have no Platform output: they are ECS.
    const platform = outputs.Platform === 'asg' ? 'asg' : 'ecs';
    const missing = [...STACK_OUTPUTS, ...PLATFORM_OUTPUTS[platform]].filter((k) => !outputs[k]);
    if (missing.length > 0) {
      throw usage(
        'StackOutputsMissing',
        `Stack "${stackName}" lacks the output(s) ${missing.join(', ')}: is it a bluegreen stack of this version? ` +
          'Deploy it again (npx cdk deploy --all).',
      );
    }
    return {
      app: this.app,
      stateMachineArn: this.stateMachineOverride ?? outputs.StateMachineArn,
      lockTable: outputs.LockTableName,
      topicArn: outputs.ReleaseTopicArn,
      productionUrl: outputs.ProductionUrl,
      productionListenerArn: outputs.ProductionListenerArn,
      testRuleArn: outputs.TestListenerRuleArn,
      fleet:
        platform === 'asg'
          ? {
              platform,
              groups: { blue: outputs.BlueGroupName, green: outputs.GreenGroupName },
              launchTemplates: { blue: outputs.BlueLaunchTemplateId, green: outputs.GreenLaunchTemplateId },
            }
          : {
              platform,
              cluster: outputs.ClusterName,
              services: { blue: outputs.BlueServiceName, green: outputs.GreenServiceName },
              families: { blue: outputs.BlueTaskFamily, green: outputs.GreenTaskFamily },
              containerName: 'app',
            },
      targetGroups: { blue: outputs.BlueTargetGroupArn, green: outputs.GreenTargetGroupArn },
      ...(outputs.MigrationRecordParameter ? { migrationRecord: outputs.MigrationRecordParameter } : {}),
    };
  }

  /** The workflow's own adapters, pointed at this app. */
  async ports() {
    const t = await this.target();
    const c = this.clientConfig();
    return {
      record: this.client('record', () => SsmReleaseRecordStore.create(c, recordParameterNames(t.app))),
      router: this.client('router', () =>
        AlbTrafficRouter.create(c, {
          productionListenerArn: t.productionListenerArn,
          targetGroupArns: t.targetGroups,
          testRuleArn: t.testRuleArn,
        }),
      ),
      // Only the platform's SDK clients are loaded (the EC2 client alone is large).
      fleet: this.client('fleet', (): Fleet =>
        lazy(async () =>
          t.fleet.platform === 'asg'
            ? (await import('../lambda/adapters/asg-fleet')).AsgFleet.create(c, t.fleet)
            : (await import('../lambda/adapters/ecs-fleet')).EcsFleet.create(c, t.fleet),
        ),
      ),
      lock: this.client('lock', () => DynamoDbReleaseLock.create(c, t.lockTable, t.app)),
      notifier: this.client('notifier', () => AwsNotifier.create(c, t.topicArn)),
      migrationRecord: t.migrationRecord
        ? this.client('migrationRecord', () => SsmMigrationRecord.create(c, t.migrationRecord!))
        : undefined,
      now: () => new Date(),
    };
  }
}

export type Ports = Awaited<ReturnType<AwsSession['ports']>>;
