/** The smaller AWS adapters: exact calls and parameters, and how their answers are read. */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { AlbTrafficRouter } from '../../../lambda/adapters/alb-traffic-router';
import { CloudWatchAlarms } from '../../../lambda/adapters/cloudwatch-alarms';
import { DynamoDbReleaseLock } from '../../../lambda/adapters/dynamodb-lock';
import { LambdaValidationHook } from '../../../lambda/adapters/lambda-hook';
import { SsmReleaseRecordStore } from '../../../lambda/adapters/ssm-release-record';
import { recordParameterNames } from '../../../lambda/shared/release-record';

const BLUE = 'arn:tg/shop-blue';
const GREEN = 'arn:tg/shop-green';

describe('AlbTrafficRouter writes', () => {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const router = new AlbTrafficRouter(new ElasticLoadBalancingV2Client({}), {
    productionListenerArn: 'arn:listener/prod',
    targetGroupArns: { blue: BLUE, green: GREEN },
    testRuleArn: 'arn:rule/test',
  });
  beforeEach(() => elb.reset());
  const forward = (blue: number, green: number) => [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: blue },
          { TargetGroupArn: GREEN, Weight: green },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
  ];

  test('production: one ModifyListener with a weighted forward, no stickiness', async () => {
    elb.on(ModifyListenerCommand).resolves({});
    await router.setProductionWeights({ blue: 0, green: 100 });
    expect(elb.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      { ListenerArn: 'arn:listener/prod', DefaultActions: forward(0, 100) },
    ]);
  });

  test('test listener: one ModifyRule on the secret-header rule', async () => {
    elb.on(ModifyRuleCommand).resolves({});
    await router.setTestWeights({ blue: 100, green: 0 });
    expect(elb.commandCalls(ModifyRuleCommand)[0].args[0].input).toEqual({
      RuleArn: 'arn:rule/test',
      Actions: forward(100, 0),
    });
  });

  test('target health counts healthy targets, those still starting (initial), and explains the others', async () => {
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: GREEN }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.1.4', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: '10.0.2.9', Port: 8080 },
          TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' },
        },
        {
          Target: { Id: '10.0.3.7', Port: 8080 },
          TargetHealth: { State: 'initial', Reason: 'Elb.InitialHealthChecking' },
        },
      ],
    });
    await expect(router.targetHealth('green')).resolves.toEqual({
      healthy: 1,
      notHealthy: 2,
      starting: 1,
      problems: [
        '10.0.2.9:8080 unhealthy (Target.ResponseCodeMismatch)',
        '10.0.3.7:8080 initial (Elb.InitialHealthChecking)',
      ],
    });
  });
});

describe('SsmReleaseRecordStore.write', () => {
  const ssm = mockClient(SSMClient);
  const names = recordParameterNames('shop');
  test('the image first, then the weights (absent: all on the live color), the live color last; each an overwrite', async () => {
    ssm.on(PutParameterCommand).resolves({});
    await new SsmReleaseRecordStore(new SSMClient({}), names).write({
      liveColor: 'green',
      image: { color: 'green', image: 'repo:v2' },
    });
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: names.image.green, Value: 'repo:v2', Type: 'String', Overwrite: true },
      { Name: names.weights, Value: '0,100', Type: 'String', Overwrite: true },
      { Name: names.liveColor, Value: 'green', Type: 'String', Overwrite: true },
    ]);
  });
});

describe('DynamoDbReleaseLock', () => {
  const ddb = mockClient(DynamoDBClient);
  const lock = new DynamoDbReleaseLock(new DynamoDBClient({}), 'locks', 'shop');
  const now = new Date('2026-11-26T10:00:00Z');
  const lease = new Date('2026-11-26T12:00:00Z');
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  beforeEach(() => ddb.reset());

  test('acquire: a conditional put (free, expired, or already ours)', async () => {
    ddb.on(PutItemCommand).resolves({});
    await expect(lock.acquire('release-1', 'repo:v2', now, lease)).resolves.toEqual({ acquired: true });
    expect(ddb.commandCalls(PutItemCommand)[0].args[0].input).toEqual({
      TableName: 'locks',
      Item: {
        app: { S: 'shop' },
        owner: { S: 'release-1' },
        image: { S: 'repo:v2' },
        since: { S: '2026-11-26T10:00:00.000Z' },
        expiresAt: { N: String(lease.getTime() / 1000) },
      },
      ConditionExpression: 'attribute_not_exists(app) OR expiresAt < :now OR #owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: {
        ':now': { N: String(now.getTime() / 1000) },
        ':owner': { S: 'release-1' },
      },
    });
  });

  test('acquire when held: reports the holder from a consistent read', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { owner: { S: 'release-0' }, image: { S: 'repo:v1' }, since: { S: 'earlier' } } });
    await expect(lock.acquire('release-1', 'repo:v2', now, lease)).resolves.toEqual({
      acquired: false,
      holder: 'release-0',
      image: 'repo:v1',
      since: 'earlier',
    });
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({ ConsistentRead: true });
  });

  test('release deletes only our own lock; someone else’s stays, other errors surface', async () => {
    ddb
      .on(DeleteItemCommand)
      .resolvesOnce({})
      .rejectsOnce(conditionFailed())
      .rejectsOnce(new Error('throttled'));
    await lock.release('release-1');
    await lock.release('release-1');
    await expect(lock.release('release-1')).rejects.toThrow('throttled');
    expect(ddb.commandCalls(DeleteItemCommand)[0].args[0].input).toMatchObject({
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeValues: { ':owner': { S: 'release-1' } },
    });
  });
});

describe('CloudWatchAlarms', () => {
  const cw = mockClient(CloudWatchClient);
  const alarms = new CloudWatchAlarms(new CloudWatchClient({}), {
    blue: ['shop-blue-5xx'],
    green: ['shop-green-5xx', 'shop-green-p99-latency', 'shop-green-unhealthy-hosts'],
  });
  beforeEach(() => cw.reset());

  test('asks for this color’s alarms in ALARM; each with when it entered ALARM, why, and its datapoints', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'shop-green-5xx',
          StateValue: 'ALARM',
          StateReason:
            'Threshold Crossed: 1 out of the last 1 datapoints [12.0 (26/11/26 10:04:00)] was greater than or equal to the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).',
          StateReasonData: JSON.stringify({
            version: '1.0',
            queryDate: '2026-11-26T10:05:10.000+0000',
            startDate: '2026-11-26T10:04:00.000+0000',
            statistic: 'Sum',
            period: 60,
            recentDatapoints: [12.0],
            threshold: 5.0,
            evaluatedDatapoints: [{ timestamp: '2026-11-26T10:04:00.000+0000', sampleCount: 40, value: 12 }],
          }),
          // The transition into ALARM; StateUpdatedTimestamp moves on later reason-only updates too.
          StateTransitionedTimestamp: new Date('2026-11-26T10:05:10Z'),
          StateUpdatedTimestamp: new Date('2026-11-26T10:09:10Z'),
        },
      ],
    });
    await expect(alarms.firing('green')).resolves.toEqual([
      {
        name: 'shop-green-5xx',
        since: '2026-11-26T10:05:10.000Z',
        reason: expect.stringContaining(
          '[12.0 (26/11/26 10:04:00)] was greater than or equal to the threshold',
        ),
        datapoint: 'datapoint 12 (Sum, 60s periods) against threshold 5',
      },
    ]);
    expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toEqual({
      AlarmNames: ['shop-green-5xx', 'shop-green-p99-latency', 'shop-green-unhealthy-hosts'],
      StateValue: 'ALARM',
    });
  });

  test('alarms not in ALARM are dropped even if the API returns them (moto ignores StateValue with AlarmNames)', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'shop-green-5xx',
          StateValue: 'OK',
          StateUpdatedTimestamp: new Date('2026-11-26T10:00:00Z'),
        },
        {
          AlarmName: 'shop-green-unhealthy-hosts',
          StateValue: 'INSUFFICIENT_DATA',
          StateUpdatedTimestamp: new Date('2026-11-26T10:00:00Z'),
        },
      ],
    });
    await expect(alarms.firing('green')).resolves.toEqual([]);
  });

  test('without StateTransitionedTimestamp, StateUpdatedTimestamp; without readable StateReasonData, no datapoint', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'shop-green-p99-latency',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed',
          StateReasonData: 'not json',
          StateUpdatedTimestamp: new Date('2026-11-26T09:58:00Z'),
        },
        { AlarmName: 'shop-green-unhealthy-hosts', StateValue: 'ALARM' },
      ],
    });
    await expect(alarms.firing('green')).resolves.toEqual([
      { name: 'shop-green-p99-latency', since: '2026-11-26T09:58:00.000Z', reason: 'Threshold Crossed' },
      { name: 'shop-green-unhealthy-hosts', since: 'an unknown time', reason: '' },
    ]);
  });
});

describe('LambdaValidationHook', () => {
  const lambdaMock = mockClient(LambdaClient);
  const hook = new LambdaValidationHook(
    new LambdaClient({}),
    'arn:aws:lambda:eu-west-1:1:function:api-tests',
    () => 600_000,
  );
  const request = {
    testUrl: 'http://alb:9000',
    header: { name: 'X-Bluegreen-Test-Token', value: 't' },
    color: 'green' as const,
    image: 'repo:v2',
    version: 'v2',
  };
  const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;
  beforeEach(() => lambdaMock.reset());

  test('invokes the hook with the test URL and header; reads its verdict', async () => {
    lambdaMock.on(InvokeCommand).resolves({ Payload: payload({ passed: true, summary: '42 tests passed' }) });
    await expect(hook.run(request)).resolves.toEqual({ passed: true, summary: '42 tests passed' });
    const input = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
    expect(input.FunctionName).toBe('arn:aws:lambda:eu-west-1:1:function:api-tests');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(request);
  });

  test('a hook that throws, or answers something else, fails validation', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'boom' }) })
      .resolvesOnce({ Payload: payload('ok') });
    await expect(hook.run(request)).resolves.toEqual({
      passed: false,
      summary: expect.stringContaining('failed (Unhandled): {"errorMessage":"boom"}'),
    });
    await expect(hook.run(request)).resolves.toEqual({
      passed: false,
      summary: expect.stringContaining('not {"passed": boolean'),
    });
  });
});
