/**
 * The Lambda bundles as they ship: built by `cdk synth` with the local esbuild, loaded in a fresh Node process
 * the way the Lambda runtime loads them (the AWS SDK resolved from outside the bundle), then run against moto
 * (an independent implementation of the AWS APIs; AWS_ENDPOINT_URL points the SDK at it) holding the app's
 * resources. BLUEGREEN_SETTINGS is the synthesized template's own, each reference resolved to the moto resource
 * it names. Proves the bundles, the lazy SDK loading, the settings wiring and the real wire calls of the steps.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ReleaseState } from '../lambda/shared/release';
import { recordParameterNames } from '../lambda/shared/release-record';
import {
  describeWithMoto,
  MOTO_ACCOUNT,
  MOTO_REGION,
  rawJsonCall,
  useMoto,
  type RunningMoto,
} from './support/moto';
import {
  createAlb,
  createEcsServices,
  createRecord,
  type MotoAlb,
  type MotoEcs,
} from './support/moto-resources';
import { ECS_DEPLOYMENTS_GAP, startGapShim, type GapShim } from './support/moto-gap-shim';
import { resourcesOfType, synth, type CfnTemplate } from './support/synth';

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

const { app, serviceJson, config } = synth({}, undefined, { 'aws:cdk:bundling-stacks': ['**'] });
/** The same app with notifications.slack (its bundles are the same code: only its template is read). */
const withSlack = synth({ notifications: { slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' } } });
const functions = resourcesOfType(serviceJson, 'AWS::Lambda::Function');

/** The bundle (index.js) of the function whose logical id starts with `prefix`. */
function bundleOf(prefix: string): string {
  const [, fn] = Object.entries(functions).find(([id]) => id.startsWith(prefix))!;
  const key = (fn.Code as { S3Key: string }).S3Key.replace('.zip', '');
  return join(app.outdir, `asset.${key}`, 'index.js');
}

test('the live-color widget is bundled by the local esbuild (no Docker) into a small handler', () => {
  const bundle = readFileSync(bundleOf('LiveColorWidget'), 'utf8');
  expect(bundle).toContain('RecordInvalid');
  expect(bundle).not.toContain('@aws-sdk/client-ssm/dist'); // the SDK comes from the runtime
  expect(bundle.length).toBeLessThan(50_000);
});

describeWithMoto('the bundled steps against moto', () => {
  const moto = useMoto();
  const APP = config.appName;
  let alb: MotoAlb;
  let ecs: MotoEcs;
  let settings: string;
  let settingsOf: SettingsOf;
  let outcomes: string;
  let shim: GapShim;

  beforeAll(async () => {
    // The bundles run in processes of their own: their calls go through a proxy that mends one named moto gap.
    shim = await startGapShim(moto().endpoint);
    alb = await createAlb(moto(), APP);
    ecs = await createEcsServices(moto(), APP, { blue: config.container.desiredCount, green: 0 });
    await createRecord(moto(), APP, { live: 'blue', images: { blue: 'repo:v1', green: 'repo:v1' } });
    let topicArn: string;
    ({ settingsOf, topicArn } = await resolveSettings(moto(), alb, ecs));
    settings = await settingsOf(serviceJson, 'ReleaseWorkflowStepsPrepareFunction');
    // The outcomes the steps publish, read back from a queue subscribed to the topic.
    outcomes = (
      await rawJsonCall<{ QueueUrl: string }>(moto(), 'sqs', 'AmazonSQS.CreateQueue', {
        QueueName: 'outcomes',
      })
    ).QueueUrl;
    await new SNSClient(moto().config).send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:outcomes`,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
  });

  afterAll(() => shim?.stop());

  /** Runs a step's bundle in a fresh Node process, as the Lambda runtime would, against moto. */
  function runStep(prefix: string, state: unknown, stepSettings = settings): Promise<ReleaseState> {
    const script =
      `require(${JSON.stringify(bundleOf(prefix))}).handler(${JSON.stringify(state)})` +
      '.then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.name, e.message); process.exit(1); });';
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          NODE_PATH: join(__dirname, '..', 'node_modules'),
          AWS_REGION: moto().config.region,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_ENDPOINT_URL: shim.endpoint,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          BLUEGREEN_SETTINGS: stepSettings,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) =>
        code === 0
          ? resolve(JSON.parse(out.trim().split('\n').pop()!) as ReleaseState)
          : reject(new Error(`${prefix} exited ${code}: ${err}`)),
      );
    });
  }

  test('Prepare → Deploy → Switch → Finish, each bundle in its own process: the lock, the new revision, the listener, the record, the old color scaled down, the outcome, in moto', async () => {
    const image = `${config.image.repository}:v2`;
    const prepared = await runStep('ReleaseWorkflowStepsPrepareFunction', {
      execution: 'release-1',
      input: { image },
    });
    expect(prepared.release).toMatchObject({
      image,
      version: 'v2',
      live: 'blue',
      idle: 'green',
      liveCount: config.container.desiredCount,
      idleBefore: { count: 0, image: 'repo:v1', revision: ecs.initial.green },
    });
    const lock = await new DynamoDBClient(moto().config).send(
      new GetItemCommand({ TableName: 'ReleaseWorkflowLock', Key: { app: { S: APP } } }),
    );
    expect(lock.Item).toMatchObject({ owner: { S: 'release-1' }, image: { S: image } });

    const deployed = await runStep('ReleaseWorkflowStepsDeployFunction', prepared);
    const revision = deployed.release!.revision!;
    const e = new ECSClient(moto().config);
    const td = (await e.send(new DescribeTaskDefinitionCommand({ taskDefinition: revision })))
      .taskDefinition!;
    expect(td).toMatchObject({ family: ecs.families.green, revision: 2 });
    expect(td.containerDefinitions![0]).toMatchObject({ name: 'app', image });
    const green = (
      await e.send(new DescribeServicesCommand({ cluster: ecs.cluster, services: [ecs.services.green] }))
    ).services![0];
    expect(green).toMatchObject({ taskDefinition: revision, desiredCount: config.container.desiredCount });

    // Switch re-checks the idle color in moto before it changes the listener. ECS would register the new tasks in
    // green's target group; moto's tasks never run nor register (a gap): the test registers two as ECS would.
    // And moto never moves deployments[] (ECS_DEPLOYMENTS_GAP): the shim answers DescribeServices as ECS would.
    const elb = new ElasticLoadBalancingV2Client(moto().config);
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: alb.targetGroups.green,
        Targets: [
          { Id: '10.0.1.7', Port: 8080 },
          { Id: '10.0.2.9', Port: 8080 },
        ].slice(0, config.container.desiredCount),
      }),
    );
    const mendedBefore = shim.mended();
    const switched = await runStep('ReleaseWorkflowStepsSwitchFunction', deployed);
    expect({ gap: ECS_DEPLOYMENTS_GAP, mended: shim.mended() > mendedBefore }).toMatchObject({
      mended: true,
    });
    expect(switched.release!.switchedAt).toMatch(/^\d{4}-/);
    expect(switched.release!.watch!.checks).toBe(0);

    const listener = (
      await elb.send(new DescribeListenersCommand({ ListenerArns: [alb.productionListenerArn] }))
    ).Listeners![0];
    expect(listener.DefaultActions![0].ForwardConfig!.TargetGroups).toEqual([
      { TargetGroupArn: alb.targetGroups.blue, Weight: 0 },
      { TargetGroupArn: alb.targetGroups.green, Weight: 100 },
    ]);
    const rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [alb.testRuleArn] }))).Rules![0];
    expect(rule.Actions![0].ForwardConfig!.TargetGroups).toEqual([
      { TargetGroupArn: alb.targetGroups.blue, Weight: 100 },
      { TargetGroupArn: alb.targetGroups.green, Weight: 0 },
    ]);
    const names = recordParameterNames(APP);
    const record = await new SSMClient(moto().config).send(
      new GetParametersCommand({ Names: [names.liveColor, names.image.green, names.image.blue] }),
    );
    expect(Object.fromEntries(record.Parameters!.map((p) => [p.Name, p.Value]))).toEqual({
      [names.liveColor]: 'green',
      [names.image.green]: image,
      [names.image.blue]: 'repo:v1',
    });

    await runStep('ReleaseWorkflowStepsFinishFunction', switched);
    const blue = (
      await e.send(new DescribeServicesCommand({ cluster: ecs.cluster, services: [ecs.services.blue] }))
    ).services![0];
    expect(blue.desiredCount).toBe(0);
    const freed = await new DynamoDBClient(moto().config).send(
      new GetItemCommand({ TableName: 'ReleaseWorkflowLock', Key: { app: { S: APP } } }),
    );
    expect(freed.Item).toBeUndefined();
    const received = await rawJsonCall<{ Messages?: { Body: string }[] }>(
      moto(),
      'sqs',
      'AmazonSQS.ReceiveMessage',
      {
        QueueUrl: outcomes,
        MaxNumberOfMessages: 10,
      },
    );
    // This stack has no notifications.slack: the message is the outcome JSON, as it always was.
    const outcome = {
      app: APP,
      release: 'release-1',
      status: 'SUCCEEDED',
      image,
      liveColor: 'green',
      cause: `${image} is live on green; blue was scaled down.`,
    };
    expect((received.Messages ?? []).map((m) => m.Body)).toEqual([JSON.stringify(outcome, null, 2)]);
  });

  test("what reaches the topic follows the stack's settings: the bundled Report failed rollback publishes the outcome JSON without notifications.slack, a Chatbot custom notification with it", async () => {
    const step = 'ReleaseWorkflowStepsRollbackFailedFunction';
    const state = (execution: string) => ({
      execution,
      failure: { Error: 'UnhealthyAfterSwitch', Cause: 'GET /health: status 503.' },
      rollbackFailure: { Error: 'ServiceUnavailable', Cause: 'ModifyListener: try later.' },
    });
    await runStep(step, state('release-8'), await settingsOf(serviceJson, step));
    await runStep(step, state('release-9'), await settingsOf(withSlack.serviceJson, step));

    const bodies: string[] = [];
    for (
      let receive = 0;
      receive < 10 && !['release-8', 'release-9'].every((r) => bodies.some((b) => b.includes(r)));
      receive++
    ) {
      const received = await rawJsonCall<{ Messages?: { Body: string }[] }>(
        moto(),
        'sqs',
        'AmazonSQS.ReceiveMessage',
        { QueueUrl: outcomes, MaxNumberOfMessages: 10 },
      );
      bodies.push(...(received.Messages ?? []).map((m) => m.Body));
    }
    const [plain, chat] = ['release-8', 'release-9'].map((r) => bodies.find((b) => b.includes(r))!);
    const outcome = JSON.parse(plain) as { release: string; status: string; cause: string };
    expect(outcome).toMatchObject({ app: APP, release: 'release-8', status: 'ROLLBACK_FAILED' });
    expect(plain).toBe(JSON.stringify(outcome, null, 2));
    const notification = JSON.parse(chat) as {
      source: string;
      content: { title: string };
      metadata: { additionalContext: { outcome: string } };
    };
    expect(notification.source).toBe('custom');
    expect(notification.content.title).toContain('ROLLBACK FAILED');
    expect(JSON.parse(notification.metadata.additionalContext.outcome)).toEqual({
      ...outcome,
      release: 'release-9',
      cause: outcome.cause.replace('release-8', 'release-9'),
    });
  });

  test('a release is refused by the bundled Prepare while another holds the lock, and changes nothing', async () => {
    const image = `${config.image.repository}:v3`;
    await runStep('ReleaseWorkflowStepsPrepareFunction', { execution: 'release-2', input: { image } });
    await expect(
      runStep('ReleaseWorkflowStepsPrepareFunction', {
        execution: 'release-3',
        input: { image: `${config.image.repository}:v4` },
      }),
    ).rejects.toThrow(/ReleaseInProgress Release release-2 \(.*:v3, started .*\) is in flight for shop/);
    const lock = await new DynamoDBClient(moto().config).send(
      new GetItemCommand({ TableName: 'ReleaseWorkflowLock', Key: { app: { S: APP } } }),
    );
    expect(lock.Item).toMatchObject({ owner: { S: 'release-2' }, image: { S: image } });
    const names = recordParameterNames(APP);
    const record = await new SSMClient(moto().config).send(
      new GetParametersCommand({ Names: [names.liveColor] }),
    );
    expect(record.Parameters!.map((p) => [p.Value, p.Version])).toEqual([['green', 2]]);
  });
});

/**
 * The template's BLUEGREEN_SETTINGS with each reference resolved to the moto resource it names (made here when
 * the test has not made it yet). A reference the table does not know fails the test: a new setting needs a line.
 */
type SettingsOf = (template: CfnTemplate, prefix: string) => Promise<string>;

async function resolveSettings(
  moto: RunningMoto,
  alb: MotoAlb,
  ecs: MotoEcs,
): Promise<{ settingsOf: SettingsOf; topicArn: string }> {
  const elb = new ElasticLoadBalancingV2Client(moto.config);
  const dns = (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [alb.loadBalancerArn] })))
    .LoadBalancers![0].DNSName!;
  await new DynamoDBClient(moto.config).send(
    new CreateTableCommand({
      TableName: 'ReleaseWorkflowLock',
      KeySchema: [{ AttributeName: 'app', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'app', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const topicArn = (await new SNSClient(moto.config).send(new CreateTopicCommand({ Name: 'outcomes' })))
    .TopicArn!;
  const secretArn = (
    await new SecretsManagerClient(moto.config).send(
      new CreateSecretCommand({ Name: 'token', SecretString: 't' }),
    )
  ).ARN!;
  const cloudwatch = new CloudWatchClient(moto.config);
  const alarm = async (name: string) => {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 2,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    return name;
  };
  const table: [RegExp, (id: string) => string | Promise<string>][] = [
    [/^PublicLoadBalancer[0-9A-F]{8}\.DNSName$/, () => dns],
    [/^PublicLoadBalancer[0-9A-F]{8}$/, () => alb.loadBalancerArn],
    [/^Cluster[0-9A-F]{8}$/, () => ecs.cluster],
    [/^BlueService[0-9A-F]{8}\.Name$/, () => ecs.services.blue],
    [/^GreenService[0-9A-F]{8}\.Name$/, () => ecs.services.green],
    [/^BlueTargetGroup[0-9A-F]{8}$/, () => alb.targetGroups.blue],
    [/^GreenTargetGroup[0-9A-F]{8}$/, () => alb.targetGroups.green],
    [/^PublicLoadBalancerProduction[0-9A-F]{8}$/, () => alb.productionListenerArn],
    [/^TrafficIdleColorRule[0-9A-F]{8}$/, () => alb.testRuleArn],
    [/^TrafficTestTrafficToken[0-9A-F]{8}$/, () => secretArn],
    [/^(Blue|Green)\w+Alarm[0-9A-F]{8}$/, alarm], // an alarm's Ref is its name: the logical id will do
    [/^ReleaseWorkflowLock[0-9A-F]{8}$/, () => 'ReleaseWorkflowLock'],
    [/^ReleaseWorkflowOutcomes[0-9A-F]{8}$/, () => topicArn],
  ];
  const resolve = async (value: unknown): Promise<string> => {
    if (typeof value === 'string') {
      return value;
    }
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return (await Promise.all(parts.map(resolve))).join(sep);
    }
    const ref = 'Ref' in v ? String(v.Ref) : (v['Fn::GetAtt'] as string[]).join('.');
    const found = table.find(([pattern]) => pattern.test(ref));
    if (!found) {
      throw new Error(`BLUEGREEN_SETTINGS references ${ref}, which this test does not make in moto`);
    }
    return found[1](ref.split('.')[0]);
  };
  // The BLUEGREEN_SETTINGS of the template's function whose logical id starts with `prefix`.
  const settingsOf: SettingsOf = (template, prefix) => {
    const [, fn] = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(prefix),
    )!;
    return resolve((fn.Environment as { Variables: Record<string, unknown> }).Variables.BLUEGREEN_SETTINGS);
  };
  return { settingsOf, topicArn };
}
