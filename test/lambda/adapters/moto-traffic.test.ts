/**
 * Emulator tier: the traffic, record, lock, alarm, notification, secret and hook adapters make their real SDK
 * wire calls against moto (an independent implementation of the AWS APIs), and the tests read back what moto
 * now holds. Where moto falls short of AWS, the test shims exactly that and says so in its name.
 */
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type DescribeAlarmsCommandInput,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AlbTrafficRouter } from '../../../lambda/adapters/alb-traffic-router';
import { CloudWatchAlarms } from '../../../lambda/adapters/cloudwatch-alarms';
import { DynamoDbReleaseLock } from '../../../lambda/adapters/dynamodb-lock';
import { LambdaValidationHook } from '../../../lambda/adapters/lambda-hook';
import { AwsNotifier } from '../../../lambda/adapters/notifier';
import { readSecret } from '../../../lambda/adapters/secret-token';
import { SsmMigrationRecord } from '../../../lambda/adapters/ssm-migration-record';
import { SsmReleaseRecordStore } from '../../../lambda/adapters/ssm-release-record';
import { recordParameterNames, migrationParameterName } from '../../../lambda/shared/release-record';
import {
  describeWithMoto,
  MOTO_ACCOUNT,
  MOTO_REGION,
  rawJsonCall,
  rawQueryCall,
  useMoto,
} from '../../support/moto';
import { createAlb, createRecord, type MotoAlb } from '../../support/moto-resources';

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

const APP = 'shop';

describeWithMoto('adapters against moto: traffic, record, lock, alarms, outcomes', () => {
  const moto = useMoto();

  describe('SsmReleaseRecordStore', () => {
    test('reads a record from before gradual shifts and auto scaling (no weights, no capacity) as all on its live color, both colors auto; a write adds the weights', async () => {
      await createRecord(moto(), APP, { live: 'blue', images: { blue: 'repo:v1', green: 'repo:v1' } });
      const store = SsmReleaseRecordStore.create(moto().config, recordParameterNames(APP), { scaling: true });
      expect(await store.read()).toEqual({
        liveColor: 'blue',
        images: { blue: 'repo:v1', green: 'repo:v1' },
        weights: { blue: 100, green: 0 },
        capacity: { blue: 'auto', green: 'auto' },
        liveSince: expect.any(String),
      });

      await store.write({ liveColor: 'green', image: { color: 'green', image: 'repo:v2' } });

      const names = recordParameterNames(APP);
      const out = await new SSMClient(moto().config).send(
        new GetParametersCommand({
          Names: [names.liveColor, names.image.blue, names.image.green, names.weights],
        }),
      );
      expect(Object.fromEntries(out.Parameters!.map((p) => [p.Name, [p.Value, p.Version]]))).toEqual({
        [names.liveColor]: ['green', 2],
        [names.image.blue]: ['repo:v1', 1],
        [names.image.green]: ['repo:v2', 2],
        [names.weights]: ['0,100', 1],
      });
      expect(await store.read()).toEqual({
        liveColor: 'green',
        images: { blue: 'repo:v1', green: 'repo:v2' },
        weights: { blue: 0, green: 100 },
        capacity: { blue: 'auto', green: 'auto' },
        // When the live color was last written: the parameter's LastModifiedDate (the cold rollback's window).
        liveSince: out.Parameters!.find((p) => p.Name === names.liveColor)!.LastModifiedDate!.toISOString(),
      });
    });

    test("writeCapacity puts a color's capacity parameter; the record reads it back", async () => {
      const app = `${APP}-capacity`;
      await createRecord(moto(), app, { live: 'blue', images: { blue: 'repo:v1', green: 'repo:v1' } });
      const store = SsmReleaseRecordStore.create(moto().config, recordParameterNames(app), { scaling: true });
      await store.writeCapacity('green', { min: 4, max: 20 });
      await store.writeCapacity('blue', 'auto');
      expect(await store.read()).toMatchObject({ capacity: { blue: 'auto', green: { min: 4, max: 20 } } });
      const names = recordParameterNames(app);
      const out = await new SSMClient(moto().config).send(
        new GetParametersCommand({ Names: [names.capacity.blue, names.capacity.green] }),
      );
      expect(Object.fromEntries(out.Parameters!.map((p) => [p.Name, [p.Value, p.Type]]))).toEqual({
        [names.capacity.blue]: ['auto', 'String'],
        [names.capacity.green]: ['4,20', 'String'],
      });
    });

    test('a shift step records its split; the rollback puts it back all on the live color', async () => {
      const app = `${APP}-shift`;
      await createRecord(moto(), app, {
        live: 'blue',
        images: { blue: 'repo:v1', green: 'repo:v2' },
        weights: '100,0',
      });
      const store = SsmReleaseRecordStore.create(moto().config, recordParameterNames(app));
      await store.write({ liveColor: 'blue', weights: { blue: 900, green: 100 } });
      expect(await store.read()).toMatchObject({ liveColor: 'blue', weights: { blue: 900, green: 100 } });
      await store.write({ liveColor: 'blue' });
      expect(await store.read()).toMatchObject({ liveColor: 'blue', weights: { blue: 100, green: 0 } });
    });

    test('a record without its parameters is RecordInvalid, naming the missing ones', async () => {
      const store = SsmReleaseRecordStore.create(moto().config, recordParameterNames('nothing'));
      await expect(store.read()).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringContaining('/bluegreen/nothing/live-color'),
      });
    });
  });

  describe('SsmMigrationRecord', () => {
    test('a missing parameter is an empty record; the first write creates it; reads return it', async () => {
      const name = migrationParameterName(APP);
      const record = SsmMigrationRecord.create(moto().config, name);
      expect(await record.read()).toEqual({});
      const state = {
        contractPending: {
          image: 'repo:v2',
          release: 'r-2',
          taskDefinition: 'arn:td:2',
          since: '2026-01-01T00:00:00Z',
        },
      };
      await record.write(state);
      await record.write(state); // a retried write overwrites
      const stored = await new SSMClient(moto().config).send(new GetParameterCommand({ Name: name }));
      expect(JSON.parse(stored.Parameter!.Value!)).toEqual(state);
      expect(stored.Parameter!.Version).toBe(2);
      expect(await record.read()).toEqual(state);
    });

    test('a hand-edited value that is not a record is RecordInvalid', async () => {
      const name = `${migrationParameterName(APP)}-broken`;
      await new SSMClient(moto().config).send(
        new PutParameterCommand({ Name: name, Value: '{"contracted": 3}', Type: 'String' }),
      );
      await expect(SsmMigrationRecord.create(moto().config, name).read()).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringContaining('contracted must be an object'),
      });
    });
  });

  describe('AlbTrafficRouter', () => {
    let alb: MotoAlb;
    let router: AlbTrafficRouter;
    const elb = () => new ElasticLoadBalancingV2Client(moto().config);
    beforeAll(async () => {
      alb = await createAlb(moto(), APP);
      router = AlbTrafficRouter.create(moto().config, {
        productionListenerArn: alb.productionListenerArn,
        targetGroupArns: alb.targetGroups,
        testRuleArn: alb.testRuleArn,
      });
    });

    test('reads the production weights; moving them changes what the listener forwards to', async () => {
      expect(await router.productionWeights()).toEqual({ blue: 100, green: 0 });
      await router.setProductionWeights({ blue: 0, green: 100 });

      const listener = (
        await elb().send(new DescribeListenersCommand({ ListenerArns: [alb.productionListenerArn] }))
      ).Listeners![0];
      expect(listener.DefaultActions).toEqual([
        expect.objectContaining({
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: alb.targetGroups.blue, Weight: 0 },
              { TargetGroupArn: alb.targetGroups.green, Weight: 100 },
            ],
            // No stickiness: a switch moves every new request.
            TargetGroupStickinessConfig: { Enabled: false },
          },
        }),
      ]);
      expect(await router.productionWeights()).toEqual({ blue: 0, green: 100 });
    });

    test('a split with stickiness: moto stores and returns the TargetGroupStickinessConfig as sent; the next change without it turns it off', async () => {
      await router.setProductionWeights({ blue: 900, green: 100 }, { stickySeconds: 300 });
      const forwardOf = async () =>
        (await elb().send(new DescribeListenersCommand({ ListenerArns: [alb.productionListenerArn] })))
          .Listeners![0].DefaultActions![0].ForwardConfig;
      expect(await forwardOf()).toEqual({
        TargetGroups: [
          { TargetGroupArn: alb.targetGroups.blue, Weight: 900 },
          { TargetGroupArn: alb.targetGroups.green, Weight: 100 },
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
      });
      expect(await router.productionWeights()).toEqual({ blue: 900, green: 100 });

      await router.setProductionWeights({ blue: 0, green: 100 });
      expect((await forwardOf())!.TargetGroupStickinessConfig).toEqual({ Enabled: false });
    });

    test('the test rule forwards to the color asked for; its header condition stays', async () => {
      await router.setTestWeights({ blue: 100, green: 0 });
      const rule = (await elb().send(new DescribeRulesCommand({ RuleArns: [alb.testRuleArn] }))).Rules![0];
      expect(rule.Actions![0].ForwardConfig!.TargetGroups).toEqual([
        { TargetGroupArn: alb.targetGroups.blue, Weight: 100 },
        { TargetGroupArn: alb.targetGroups.green, Weight: 0 },
      ]);
      expect(rule.Conditions![0].HttpHeaderConfig).toEqual(
        expect.objectContaining({ HttpHeaderName: 'x-bluegreen-test-token', Values: ['t'] }),
      );
    });

    test('target health counts the registered targets (moto: a target is healthy as soon as it is registered)', async () => {
      expect(await router.targetHealth('blue')).toEqual({
        healthy: 0,
        notHealthy: 0,
        starting: 0,
        problems: [],
      });
      await elb().send(
        new RegisterTargetsCommand({
          TargetGroupArn: alb.targetGroups.blue,
          Targets: [
            { Id: '10.0.0.7', Port: 8080 },
            { Id: '10.0.1.7', Port: 8080 },
          ],
        }),
      );
      expect(await router.targetHealth('blue')).toEqual({
        healthy: 2,
        notHealthy: 0,
        starting: 0,
        problems: [],
      });
      expect(await router.targetHealth('green')).toEqual({
        healthy: 0,
        notHealthy: 0,
        starting: 0,
        problems: [],
      });
    });
  });

  describe('CloudWatchAlarms', () => {
    const names = {
      blue: ['shop-blue-5xx', 'shop-blue-p99'],
      green: ['shop-green-5xx', 'shop-green-p99'],
    };
    beforeAll(async () => {
      const cw = new CloudWatchClient(moto().config);
      for (const name of [...names.blue, ...names.green]) {
        await cw.send(
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
      }
      // moto gap: alarms never evaluate metrics; the test sets the state an evaluation would have set.
      await cw.send(
        new SetAlarmStateCommand({
          AlarmName: 'shop-green-p99',
          StateValue: 'ALARM',
          StateReason: 'p99 over 1000 ms',
        }),
      );
    });

    test("firing() names the color's alarms in ALARM, not the others (moto gaps shimmed: no evaluation; DescribeAlarms ignores StateValue with AlarmNames)", async () => {
      const client = new CloudWatchClient(moto().config);
      // moto gap: DescribeAlarms ignores StateValue when AlarmNames is given. The shim filters the answer by the
      // StateValue the adapter sent, as CloudWatch does: an adapter that sent none would get every alarm.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          const input = args.input as DescribeAlarmsCommandInput;
          if (context.commandName === 'DescribeAlarmsCommand' && input.AlarmNames && input.StateValue) {
            const out = result.output as DescribeAlarmsCommandOutput;
            out.MetricAlarms = out.MetricAlarms?.filter((a) => a.StateValue === input.StateValue);
          }
          return result;
        },
        { step: 'initialize', name: 'motoStateValueFilter' },
      );
      const alarms = new CloudWatchAlarms(client, names);
      const firing = await alarms.firing('green');
      expect(firing).toEqual([
        { name: 'shop-green-p99', since: expect.any(String), reason: 'p99 over 1000 ms' },
      ]);
      // Since when: the state change moto recorded for SetAlarmState, a real time.
      expect(Date.now() - Date.parse(firing[0].since)).toBeLessThan(10 * 60_000);
      expect(await alarms.firing('blue')).toEqual([]);
    });

    test("firing() without the shim: the adapter filters ALARM itself, so moto's StateValue gap cannot report alarms in OK", async () => {
      const alarms = new CloudWatchAlarms(new CloudWatchClient(moto().config), names);
      expect((await alarms.firing('green')).map((a) => a.name)).toEqual(['shop-green-p99']);
      expect(await alarms.firing('blue')).toEqual([]);
    });
  });

  describe('DynamoDbReleaseLock', () => {
    const table = 'shop-lock';
    beforeAll(async () => {
      await new DynamoDBClient(moto().config).send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: [{ AttributeName: 'app', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'app', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    });
    const now = new Date('2026-03-01T10:00:00Z');
    const inAnHour = new Date('2026-03-01T11:00:00Z');

    test('two owners: the second is refused and told who holds it; only the holder releases it', async () => {
      const lock = DynamoDbReleaseLock.create(moto().config, table, APP);
      expect(await lock.acquire('release-1', 'repo:v2', now, inAnHour)).toEqual({ acquired: true });
      expect(await lock.acquire('release-2', 'repo:v3', now, inAnHour)).toEqual({
        acquired: false,
        holder: 'release-1',
        image: 'repo:v2',
        since: now.toISOString(),
      });
      // The holder again (a retried step) keeps it.
      expect(await lock.acquire('release-1', 'repo:v2', now, inAnHour)).toEqual({ acquired: true });

      await lock.release('release-2'); // not the holder: nothing changes
      expect((await lock.holder())?.owner).toBe('release-1');

      await lock.release('release-1');
      expect(await lock.holder()).toBeUndefined();
      const item = await new DynamoDBClient(moto().config).send(
        new GetItemCommand({ TableName: table, Key: { app: { S: APP } } }),
      );
      expect(item.Item).toBeUndefined();
    });

    test('an expired lease is taken over; handOver moves the lock only from its holder', async () => {
      const lock = DynamoDbReleaseLock.create(moto().config, table, APP);
      await lock.acquire('release-1', 'repo:v2', now, inAnHour);
      const later = new Date('2026-03-01T12:00:00Z');
      expect(await lock.acquire('release-2', 'repo:v3', later, new Date('2026-03-01T13:00:00Z'))).toEqual({
        acquired: true,
      });
      expect(await lock.handOver('release-1', 'rollback-1', later, inAnHour)).toBe(false);
      expect(await lock.handOver('release-2', 'rollback-1', later, new Date('2026-03-01T14:00:00Z'))).toBe(
        true,
      );
      expect(await lock.holder()).toEqual({
        owner: 'rollback-1',
        image: 'repo:v3',
        since: later.toISOString(),
        expiresAt: '2026-03-01T14:00:00.000Z',
      });
      await lock.release('rollback-1');
    });
  });

  describe('AwsNotifier', () => {
    test('publishes the outcome to the SNS topic (its JSON; a Chatbot custom notification on a stack with Slack) and as a "bluegreen" EventBridge event (all read back from SQS)', async () => {
      const sns = new SNSClient(moto().config);
      const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'shop-releases' }))).TopicArn!;
      const queue = await rawJsonCall<{ QueueUrl: string }>(moto(), 'sqs', 'AmazonSQS.CreateQueue', {
        QueueName: 'outcomes',
      });
      const queueArn = `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:outcomes`;
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
      const events = new EventBridgeClient(moto().config);
      await events.send(
        new PutRuleCommand({ Name: 'outcomes', EventPattern: JSON.stringify({ source: ['bluegreen'] }) }),
      );
      await events.send(
        new PutTargetsCommand({ Rule: 'outcomes', Targets: [{ Id: 'queue', Arn: queueArn }] }),
      );

      const outcome = {
        app: APP,
        release: 'release-7',
        status: 'ROLLED_BACK' as const,
        image: 'repo:v2',
        liveColor: 'blue' as const,
        error: 'AlarmFired',
        cause: 'shop-green-5xx',
      };
      await AwsNotifier.create(moto().config, topicArn).publish(outcome);
      await AwsNotifier.create(moto().config, topicArn, 'chatbot').publish({
        ...outcome,
        release: 'release-8',
      });

      const bodies: Record<string, unknown>[] = [];
      // Four messages (two notifications, two events); SQS may hand them out over several receives.
      for (let receive = 0; receive < 10 && bodies.length < 4; receive++) {
        const received = await rawJsonCall<{ Messages?: { Body: string }[] }>(
          moto(),
          'sqs',
          'AmazonSQS.ReceiveMessage',
          { QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10 },
        );
        bodies.push(...(received.Messages ?? []).map((m) => JSON.parse(m.Body) as Record<string, unknown>));
      }
      const notifications = bodies.filter((b) => b.Type === 'Notification');
      expect(notifications).toHaveLength(2);
      for (const notification of notifications) {
        expect(notification).toMatchObject({
          TopicArn: topicArn,
          Subject: 'bluegreen shop: Release Rolled Back',
          MessageAttributes: { status: { Type: 'String', Value: 'ROLLED_BACK' } },
        });
      }
      const [plain, chat] = ['"release-7"', 'release-8'].map((id) =>
        notifications.find((n) => (n.Message as string).includes(id))!,
      );
      // Without Slack, the message is the outcome JSON, as it always was.
      expect(plain.Message).toBe(JSON.stringify(outcome, null, 2));
      // With Slack, an AWS Chatbot custom notification; the outcome rides in it for machine subscribers.
      const message = JSON.parse(chat.Message as string) as {
        source: string;
        content: { title: string };
        metadata: { additionalContext: { outcome: string } };
      };
      expect(message.source).toBe('custom');
      expect(message.content.title).toContain('shop v2: rolled back');
      expect(JSON.parse(message.metadata.additionalContext.outcome)).toEqual({
        ...outcome,
        release: 'release-8',
      });
      const event = bodies.find(
        (b) => b.source === 'bluegreen' && (b.detail as { release: string }).release === 'release-7',
      )!;
      expect(event).toMatchObject({ 'detail-type': 'Release Rolled Back', detail: outcome });
    });
  });

  describe('readSecret', () => {
    test('reads the test token secret by its ARN', async () => {
      const secret = await new SecretsManagerClient(moto().config).send(
        new CreateSecretCommand({ Name: 'shop-test-token', SecretString: 's3cr3t-token' }),
      );
      expect(await readSecret(moto().config, secret.ARN!)).toBe('s3cr3t-token');
    });
  });

  describe('LambdaValidationHook', () => {
    let functionArn: string;
    beforeAll(async () => {
      // moto runs Lambda code in Docker; without Docker (here, and in CI) its documented simple backend answers
      // each Invoke with a queued result instead.
      await moto().motoApi('config', { lambda: { use_docker: false } });
      // No IAM client in this project: the role the function needs, made with a raw query call.
      await rawQueryCall(moto(), 'iam', {
        Action: 'CreateRole',
        Version: '2010-05-08',
        RoleName: 'hook',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      });
      functionArn = (
        await new LambdaClient(moto().config).send(
          new CreateFunctionCommand({
            FunctionName: 'shop-validate',
            Runtime: 'nodejs20.x',
            Role: `arn:aws:iam::${MOTO_ACCOUNT}:role/hook`,
            Handler: 'index.handler',
            Code: { ZipFile: new Uint8Array([80, 75, 5, 6, ...new Array<number>(18).fill(0)]) },
          }),
        )
      ).FunctionArn!;
    });
    const request = {
      testUrl: 'http://shop.example.com:9000',
      header: { name: 'x-bluegreen-test-token', value: 't' },
      color: 'green' as const,
      image: 'repo:v2',
      version: 'v2',
    };

    test('invokes the hook by ARN and reads its verdict (moto gap shimmed: no Docker, the answer is queued)', async () => {
      await moto().motoApi('static/lambda-simple/response', {
        region: MOTO_REGION,
        results: [JSON.stringify({ passed: false, summary: 'checkout broken' })],
      });
      const hook = LambdaValidationHook.create(moto().config, functionArn, () => 600_000);
      expect(await hook.run(request)).toEqual({ passed: false, summary: 'checkout broken' });
    });

    test('sends the request as the payload; an answer that is not a verdict fails validation, saying what came back', async () => {
      // Nothing queued: moto's simple backend answers with the payload it received, so the answer shows the wire.
      const hook = LambdaValidationHook.create(moto().config, functionArn, () => 600_000);
      const verdict = await hook.run(request);
      expect(verdict.passed).toBe(false);
      expect(verdict.summary).toBe(
        `the hook answered ${JSON.stringify(request).slice(0, 200)}, not {"passed": boolean, "summary": string}`,
      );
    });
  });
});
