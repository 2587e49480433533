/**
 * Which app the CLI works on and how to reach it: the app name (--app, BLUEGREEN_APP, or appName in the config
 * file: --config, BLUEGREEN_CONFIG, or ./bluegreen.config.json), the region (--region, AWS_REGION, the profile's
 * region in the shared config files, then the config file's aws.region; the CLI says which when they disagree)
 * and profile (--profile, AWS_PROFILE), and the app's resources, read from the outputs of its CloudFormation
 * stack. The ports are the very adapters the state machine's steps use.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AlbTrafficRouter } from '../lambda/adapters/alb-traffic-router';
import { lazy } from '../lambda/adapters/lazy';
import type { FleetSettings } from '../lambda/adapters/aws-deps';
import type { Fleet } from '../lambda/shared/ports';
import { DynamoDbReleaseLock } from '../lambda/adapters/dynamodb-lock';
import { AwsNotifier, type TopicFormat } from '../lambda/adapters/notifier';
import { SsmReleaseRecordStore } from '../lambda/adapters/ssm-release-record';
import { SsmMigrationRecord } from '../lambda/adapters/ssm-migration-record';
import { recordParameterNames, type Color } from '../lambda/shared/release-record';
import type { ScalingSettings } from '../lambda/shared/scaling';
import {
  COLD_ROLLBACK_OUTPUT,
  decodeColdRollbackSettings,
  type ColdRollbackStackSettings,
} from '../lib/cold-rollback-settings';
import { InvalidJsonError, parseJson } from '../lib/json';
import { usage, type CliIo } from './io';

export interface GlobalOptions {
  readonly app?: string;
  readonly config?: string;
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
  /** What the topic's messages are: Chatbot custom notifications when the stack has TOPIC_FORMAT_OUTPUT. */
  readonly topicFormat: TopicFormat;
  readonly productionUrl: string;
  readonly productionListenerArn: string;
  readonly testRuleArn: string;
  /** Each color's compute, as the steps get it (ECS services, or Auto Scaling groups). */
  readonly fleet: FleetSettings;
  readonly targetGroups: Record<Color, string>;
  /** The migration record's parameter, when the app runs database migrations. */
  readonly migrationRecord?: string;
  /** The configured auto scaling (config `scaling`), when the stack has it (its SCALING_OUTPUT). */
  readonly scaling?: ScalingSettings;
  /**
   * What `bluegreen rollback` needs to bring back a cold color (COLD_ROLLBACK_OUTPUT, with the Validate Lambda that
   * validates it); absent on a stack deployed before it.
   */
  readonly coldRollback?: ColdRollbackStackSettings;
}

/** The app, and the region with where it came from (said to the user when the config file disagrees). */
export interface ResolvedApp {
  readonly app: string;
  readonly region?: string;
  /** Where the region came from: "--region", "AWS_REGION", 'the profile "prod"', "aws.region in <file>". */
  readonly regionSource?: string;
}

/**
 * The region of a profile in the shared config files (~/.aws/config, AWS_CONFIG_FILE), as the SDK reads it;
 * undefined when the profile sets none.
 */
export type ProfileRegion = (profile: string | undefined) => Promise<string | undefined>;

export const sdkProfileRegion: ProfileRegion = async (profile) => {
  try {
    // The SDK's own region chain for this profile (no call is made): the environment was checked before.
    return await new STSClient(profile ? { profile } : {}).config.region();
  } catch {
    return undefined;
  }
};

/**
 * The app name and region. Region: --region, then AWS_REGION (or AWS_DEFAULT_REGION), then the profile's region,
 * then the config file's aws.region, the way every AWS tool chooses it; when the config file names another region
 * than the one chosen, `note` says so before anything is done (an app deployed in two regions).
 */
export async function resolveApp(
  options: GlobalOptions,
  io: Pick<CliIo, 'env' | 'cwd'>,
  profileRegion: ProfileRegion = sdkProfileRegion,
  note: (line: string) => void = () => undefined,
): Promise<ResolvedApp> {
  const file = readConfigFile(options, io);
  const fileApp = typeof file?.json.appName === 'string' ? file.json.appName : undefined;
  const app = options.app ?? io.env.BLUEGREEN_APP ?? fileApp;
  if (!app) {
    throw usage(
      'AppUnknown',
      'Which app? Pass --app <name>, set BLUEGREEN_APP, or run from the directory with bluegreen.config.json ' +
        '(or point --config / BLUEGREEN_CONFIG at it).',
    );
  }
  const fileRegion = typeof file?.json.aws?.region === 'string' ? file.json.aws.region : undefined;
  const profile = options.profile ?? io.env.AWS_PROFILE;
  const chosen: [string | undefined, string][] = [
    [options.region, '--region'],
    [io.env.AWS_REGION || undefined, 'AWS_REGION'],
    [io.env.AWS_DEFAULT_REGION || undefined, 'AWS_DEFAULT_REGION'],
  ];
  let [region, regionSource] = chosen.find(([r]) => r !== undefined) ?? [undefined, undefined];
  if (!region) {
    region = await profileRegion(profile);
    regionSource = region ? `the profile "${profile ?? 'default'}"` : undefined;
  }
  if (!region && fileRegion) {
    [region, regionSource] = [fileRegion, `aws.region in ${file!.name}`];
  }
  if (region && fileRegion && region !== fileRegion && regionSource !== '--region') {
    note(
      `Note: working on ${app} in ${region} (from ${regionSource}), not in ${fileRegion} (aws.region in ` +
        `${file!.name}). Pass --region to choose.`,
    );
  }
  return { app, region, regionSource };
}

/**
 * The config file the CLI reads the app and region from: --config, BLUEGREEN_CONFIG, or ./bluegreen.config.json
 * if there is one. One that was asked for by name must exist; any that exists must be valid JSON.
 */
function readConfigFile(
  options: GlobalOptions,
  io: Pick<CliIo, 'env' | 'cwd'>,
): { name: string; json: { appName?: unknown; aws?: { region?: unknown } } } | undefined {
  const named = options.config ?? (io.env.BLUEGREEN_CONFIG || undefined);
  const name = named ?? 'bluegreen.config.json';
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, name), 'utf8');
  } catch (e) {
    if (named === undefined) {
      return undefined; // No config file here: the app must come from --app or BLUEGREEN_APP.
    }
    const from = options.config ? '--config' : 'BLUEGREEN_CONFIG';
    throw usage(
      'ConfigNotFound',
      `${from} ${name}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
    );
  }
  try {
    const json = parseJson(text) as { appName?: unknown; aws?: { region?: unknown } } | null;
    return { name, json: typeof json === 'object' && json !== null ? json : {} };
  } catch (e) {
    throw e instanceof InvalidJsonError ? usage('ConfigInvalid', `${name}: ${e.message}`) : e;
  }
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

/**
 * The optional stack output that says the stack configures auto scaling: the configured "<minCount>,<maxCount>"
 * (the live color's bounds between releases). Without it the fleet has no scaling to report.
 */
export const SCALING_OUTPUT = 'ScalingBounds';

/**
 * The optional stack output that says the releases topic carries AWS Chatbot custom notifications (the stack
 * configures `notifications.slack`): its value is "chatbot". Without it the messages are the outcome JSON, as the
 * steps publish them (their settings' `chatNotifications`).
 */
export const TOPIC_FORMAT_OUTPUT = 'ReleaseTopicFormat';

/** The configured scaling from SCALING_OUTPUT's value (undefined when the stack has none). */
function scalingOutput(stackName: string, value: string | undefined): ScalingSettings | undefined {
  if (value === undefined) {
    return undefined;
  }
  const match = /^(\d+),(\d+)$/.exec(value);
  if (!match || Number(match[1]) > Number(match[2])) {
    throw usage(
      'StackOutputsInvalid',
      `Stack "${stackName}" has the output ${SCALING_OUTPUT} "${value}", not "<minCount>,<maxCount>": deploy it ` +
        'again with this version (npx cdk deploy --all).',
    );
  }
  return { minCount: Number(match[1]), maxCount: Number(match[2]) };
}

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

  /** CloudWatch (`bluegreen report` reads each color's load balancer metrics). */
  get cloudwatch(): CloudWatchClient {
    return this.client('cloudwatch', (c) => new CloudWatchClient(c));
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
    const scaling = scalingOutput(stackName, outputs[SCALING_OUTPUT] || undefined);
    const cold = outputs[COLD_ROLLBACK_OUTPUT]
      ? decodeColdRollbackSettings(outputs[COLD_ROLLBACK_OUTPUT])
      : undefined;
    if (outputs[COLD_ROLLBACK_OUTPUT] && !cold) {
      throw usage(
        'StackOutputsInvalid',
        `Stack "${stackName}" has an output ${COLD_ROLLBACK_OUTPUT} this version cannot read: deploy it again ` +
          'with this version (npx cdk deploy --all).',
      );
    }
    const format = outputs[TOPIC_FORMAT_OUTPUT] || undefined;
    if (format !== undefined && format !== 'chatbot') {
      throw usage(
        'StackOutputsInvalid',
        `Stack "${stackName}" has the output ${TOPIC_FORMAT_OUTPUT} "${format}", not "chatbot": deploy it again ` +
          'with this version (npx cdk deploy --all).',
      );
    }
    return {
      app: this.app,
      stateMachineArn: this.stateMachineOverride ?? outputs.StateMachineArn,
      lockTable: outputs.LockTableName,
      topicArn: outputs.ReleaseTopicArn,
      topicFormat: format === 'chatbot' ? 'chatbot' : 'outcome',
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
      ...(scaling ? { scaling } : {}),
      ...(cold ? { coldRollback: cold } : {}),
    };
  }

  /** The workflow's own adapters, pointed at this app. */
  async ports() {
    const t = await this.target();
    const c = this.clientConfig();
    return {
      record: this.client('record', () =>
        SsmReleaseRecordStore.create(c, recordParameterNames(t.app), { scaling: t.scaling !== undefined }),
      ),
      router: this.client('router', () =>
        AlbTrafficRouter.create(c, {
          productionListenerArn: t.productionListenerArn,
          targetGroupArns: t.targetGroups,
          testRuleArn: t.testRuleArn,
        }),
      ),
      // Only the platform's SDK clients are loaded (the EC2 client alone is large). With scaling as the steps'.
      fleet: this.client('fleet', (): Fleet =>
        lazy(async () =>
          t.fleet.platform === 'asg'
            ? (await import('../lambda/adapters/asg-fleet')).AsgFleet.create(c, {
                ...t.fleet,
                scaling: t.scaling !== undefined,
              })
            : (await import('../lambda/adapters/ecs-fleet')).EcsFleet.create(c, {
                ...t.fleet,
                scaling: t.scaling !== undefined,
              }),
        ),
      ),
      lock: this.client('lock', () => DynamoDbReleaseLock.create(c, t.lockTable, t.app)),
      notifier: this.client('notifier', () => AwsNotifier.create(c, t.topicArn, t.topicFormat)),
      migrationRecord: t.migrationRecord
        ? this.client('migrationRecord', () => SsmMigrationRecord.create(c, t.migrationRecord!))
        : undefined,
      now: () => new Date(),
    };
  }
}

export type Ports = Awaited<ReturnType<AwsSession['ports']>>;
