/**
 * Wires the workflow's ports to AWS for the Lambda handlers: one SDK client per service per container (with
 * retries: exponential backoff with jitter, adaptive to throttling), settings from BLUEGREEN_SETTINGS.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { BluegreenError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import type { WorkflowSettings } from '../shared/release';
import { stepHandler, type StepCore, type StepHandler } from '../shared/step-handler';
import { recordParameterNames, type Color } from '../shared/release-record';
import { AlbTrafficRouter } from './alb-traffic-router';
import { CloudWatchAlarms } from './cloudwatch-alarms';
import { DynamoDbReleaseLock } from './dynamodb-lock';
import { EcsFleet } from './ecs-fleet';
import { HttpProbe } from './http-probe';
import { LambdaValidationHook } from './lambda-hook';
import { AwsNotifier } from './notifier';
import { SsmReleaseRecordStore } from './ssm-release-record';

/** The AWS resources of one app, as the stack passes them to every step. */
export interface AwsSettings {
  readonly cluster: string;
  readonly services: Readonly<Record<Color, string>>;
  readonly families: Readonly<Record<Color, string>>;
  readonly containerName: string;
  readonly targetGroups: Readonly<Record<Color, string>>;
  readonly productionListenerArn: string;
  readonly testRuleArn: string;
  readonly testTokenSecretArn: string;
  readonly alarmNames: Readonly<Record<Color, readonly string[]>>;
  readonly lockTable: string;
  readonly topicArn: string;
  readonly validationHookArn?: string;
}

export interface StepSettings {
  readonly workflow: WorkflowSettings;
  readonly aws: AwsSettings;
}

const clientConfig = { maxAttempts: 5, retryMode: 'adaptive' as const };
let cached: { settings: StepSettings; deps: WorkflowDeps } | undefined;

export function stepSettings(env: NodeJS.ProcessEnv = process.env): StepSettings {
  const raw = env.BLUEGREEN_SETTINGS;
  if (!raw) {
    throw new BluegreenError('ConfigurationMissing', 'BLUEGREEN_SETTINGS is not set on this function.');
  }
  return JSON.parse(raw) as StepSettings;
}

/** Settings and AWS-backed ports, built once per Lambda container. */
export function aws(): { settings: StepSettings; deps: WorkflowDeps } {
  if (cached) {
    return cached;
  }
  const settings = stepSettings();
  const a = settings.aws;
  const secrets = new SecretsManagerClient(clientConfig);
  let token: Promise<string> | undefined;
  const deps: WorkflowDeps = {
    record: new SsmReleaseRecordStore(
      new SSMClient(clientConfig),
      recordParameterNames(settings.workflow.appName),
    ),
    router: new AlbTrafficRouter(new ElasticLoadBalancingV2Client(clientConfig), {
      productionListenerArn: a.productionListenerArn,
      targetGroupArns: a.targetGroups,
      testRuleArn: a.testRuleArn,
    }),
    fleet: new EcsFleet(new ECSClient(clientConfig), {
      cluster: a.cluster,
      services: a.services,
      families: a.families,
      containerName: a.containerName,
    }),
    probe: new HttpProbe(),
    alarms: new CloudWatchAlarms(new CloudWatchClient(clientConfig), a.alarmNames),
    lock: new DynamoDbReleaseLock(new DynamoDBClient(clientConfig), a.lockTable, settings.workflow.appName),
    notifier: new AwsNotifier(new SNSClient(clientConfig), new EventBridgeClient(clientConfig), a.topicArn),
    testToken: () =>
      (token ??= secrets
        .send(new GetSecretValueCommand({ SecretId: a.testTokenSecretArn }))
        .then((out) => out.SecretString ?? '')),
    hook: a.validationHookArn
      ? new LambdaValidationHook(new LambdaClient(clientConfig), a.validationHookArn)
      : undefined,
    now: () => new Date(),
  };
  cached = { settings, deps };
  return cached;
}

/** A step's Lambda handler, wired to AWS (see shared/step-handler.ts). */
export function awsStep(step: string, run: StepCore): StepHandler {
  return stepHandler(step, run, () => {
    const { deps, settings } = aws();
    return { deps, settings: settings.workflow };
  });
}
