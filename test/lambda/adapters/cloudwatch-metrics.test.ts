/**
 * CloudWatchTrafficMetrics (lambda/adapters/cloudwatch-metrics.ts): the exact GetMetricData request a window
 * makes, and how the answer becomes a ColorWindow (no datapoint, pages, partial data, seconds to ms). The
 * emulator tier (moto-metrics.test.ts) reads datapoints back through the same adapter over the wire.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchTrafficMetrics, MAX_PAGES } from '../../../lambda/adapters/cloudwatch-metrics';

const LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067';
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/943f017f100becff';
const START = new Date('2026-11-29T08:00:00Z');
const END = new Date('2026-11-29T08:10:00Z');

const cw = mockClient(CloudWatchClient);
const metrics = () =>
  new CloudWatchTrafficMetrics(new CloudWatchClient({}), {
    loadBalancerArn: LB,
    targetGroupArns: { blue: BLUE, green: GREEN },
  });

beforeEach(() => cw.reset());

/** One page of results, each id with its values (in AWS's shape). */
function page(
  values: Partial<Record<'requests' | 'errors' | 'latency', number[]>>,
  extra: { status?: 'Complete' | 'PartialData'; next?: string } = {},
) {
  return {
    MetricDataResults: (['requests', 'errors', 'latency'] as const).map((id) => ({
      Id: id,
      Label: id,
      Timestamps: (values[id] ?? []).map(() => START),
      Values: values[id] ?? [],
      StatusCode: extra.status ?? 'Complete',
    })),
    ...(extra.next ? { NextToken: extra.next } : {}),
  };
}

describe('CloudWatchTrafficMetrics', () => {
  test('one GetMetricData call: the color target group and the load balancer as dimensions, the window as one period', async () => {
    cw.on(GetMetricDataCommand).resolves(page({ requests: [1200], errors: [3], latency: [0.25] }));

    await metrics().window('green', START, END, 99);

    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const dimensions = [
      { Name: 'LoadBalancer', Value: 'app/shop-alb/50dc6c495c0c9188' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop-green/943f017f100becff' },
    ];
    const stat = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: {
        Metric: { Namespace: 'AWS/ApplicationELB', MetricName, Dimensions: dimensions },
        Period: 600,
        Stat,
      },
      ReturnData: true,
    });
    expect(calls[0].args[0].input).toEqual({
      MetricDataQueries: [
        stat('requests', 'RequestCount', 'Sum'),
        stat('errors', 'HTTPCode_Target_5XX_Count', 'Sum'),
        stat('latency', 'TargetResponseTime', 'p99'),
      ],
      StartTime: START,
      EndTime: END,
      ScanBy: 'TimestampAscending',
    });
  });

  test('blue is read from the blue target group; a decimal percentile is asked as such (p99.9)', async () => {
    cw.on(GetMetricDataCommand).resolves(page({}));
    await metrics().window('blue', START, END, 99.9);
    const queries = cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    expect(queries.map((q) => q.MetricStat!.Metric!.Dimensions)).toEqual(
      Array(3).fill([
        { Name: 'LoadBalancer', Value: 'app/shop-alb/50dc6c495c0c9188' },
        { Name: 'TargetGroup', Value: 'targetgroup/shop-blue/73e2d6bc24d8a067' },
      ]),
    );
    expect(queries[2].MetricStat!.Stat).toBe('p99.9');
  });

  test('counts are the sums, the latency percentile is converted from seconds to ms', async () => {
    cw.on(GetMetricDataCommand).resolves(page({ requests: [1200], errors: [3], latency: [0.25] }));
    await expect(metrics().window('green', START, END, 99)).resolves.toEqual({
      requests: 1200,
      errors: 3,
      latencyMs: 250,
    });
  });

  test('the conversion keeps microseconds and leaves no float noise', async () => {
    cw.on(GetMetricDataCommand).resolves(page({ requests: [5], latency: [1.005] }));
    expect((await metrics().window('green', START, END, 99)).latencyMs).toBe(1005);
    cw.on(GetMetricDataCommand).resolves(page({ requests: [5], latency: [0.0123456] }));
    expect((await metrics().window('green', START, END, 99)).latencyMs).toBe(12.346);
  });

  test('no datapoint is no request and no latency (ALB publishes nothing for a minute without requests)', async () => {
    cw.on(GetMetricDataCommand).resolves(page({}));
    const window = await metrics().window('green', START, END, 99);
    expect(window).toEqual({ requests: 0, errors: 0 });
    expect('latencyMs' in window).toBe(false);
  });

  test('requests without a single 5xx: errors 0 (HTTPCode_Target_5XX_Count is not published at zero)', async () => {
    cw.on(GetMetricDataCommand).resolves(page({ requests: [40], latency: [0.012] }));
    await expect(metrics().window('blue', START, END, 99)).resolves.toEqual({
      requests: 40,
      errors: 0,
      latencyMs: 12,
    });
  });

  test('should CloudWatch split the window in two periods, the higher percentile is reported (a bound of the whole)', async () => {
    cw.on(GetMetricDataCommand).resolves(
      page({ requests: [600, 400], errors: [1, 0], latency: [0.2, 0.35] }),
    );
    await expect(metrics().window('green', START, END, 99)).resolves.toEqual({
      requests: 1000,
      errors: 1,
      latencyMs: 350,
    });
  });

  test('PartialData is followed with NextToken: every page counts, the next call carries the token', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce(page({ requests: [700], errors: [1] }, { status: 'PartialData', next: 'page-2' }))
      .resolvesOnce(page({ requests: [500], errors: [2], latency: [0.3] }));

    await expect(metrics().window('green', START, END, 99)).resolves.toEqual({
      requests: 1200,
      errors: 3,
      latencyMs: 300,
    });
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0].args[0].input.NextToken).toBeUndefined();
    expect(calls[1].args[0].input).toEqual({ ...calls[0].args[0].input, NextToken: 'page-2' });
  });

  test('a NextToken is followed even when every result says Complete', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce(page({ requests: [10] }, { next: 'more' }))
      .resolvesOnce(page({ requests: [5] }));
    await expect(metrics().window('blue', START, END, 99)).resolves.toEqual({ requests: 15, errors: 0 });
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  test('PartialData with no NextToken to read the rest is MetricsUnavailable, never a short count', async () => {
    cw.on(GetMetricDataCommand).resolves({
      ...page({ requests: [700] }, { status: 'PartialData' }),
      Messages: [{ Code: 'MaxQueryTimeRangeExceed', Value: 'too much' }],
    });
    await expect(metrics().window('green', START, END, 99)).rejects.toMatchObject({
      name: 'MetricsUnavailable',
      message: expect.stringMatching(
        /partial data for green's metrics for 2026-11-29T08:00:00.000Z..2026-11-29T08:10:00.000Z \(requests, errors, latency\).*MaxQueryTimeRangeExceed: too much/,
      ),
    });
  });

  test('Forbidden is MetricsUnavailable, saying where the metrics must be read', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'requests', StatusCode: 'Forbidden', Values: [], Messages: [] }],
    });
    await expect(metrics().window('green', START, END, 99)).rejects.toMatchObject({
      name: 'MetricsUnavailable',
      message: expect.stringContaining(
        "answered Forbidden for green's metrics for 2026-11-29T08:00:00.000Z..2026-11-29T08:10:00.000Z (requests). Read the metrics in the load balancer's own account and Region.",
      ),
    });
  });

  test('a query CloudWatch did not answer is MetricsUnavailable, not zero', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'requests', StatusCode: 'Complete', Values: [3] }],
    });
    await expect(metrics().window('green', START, END, 99)).rejects.toMatchObject({
      name: 'MetricsUnavailable',
      message: expect.stringContaining('no result for errors, latency'),
    });
  });

  test('an endless chain of pages stops, counted, with MetricsUnavailable', async () => {
    cw.on(GetMetricDataCommand).resolves(page({ requests: [1] }, { status: 'PartialData', next: 'again' }));
    await expect(metrics().window('green', START, END, 99)).rejects.toMatchObject({
      name: 'MetricsUnavailable',
      message: expect.stringContaining('after 3 pages'),
    });
    expect(MAX_PAGES).toBe(3);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(3);
  });

  test.each([
    [
      'a start off the minute',
      new Date('2026-11-29T08:00:30Z'),
      END,
      99,
      /does not start and end on whole minutes/,
    ],
    ['an end off the minute', START, new Date('2026-11-29T08:10:00.500Z'), 99, /whole minutes/],
    ['an end before the start', END, START, 99, /ends before it starts, or is empty/],
    ['an empty window', START, START, 99, /ends before it starts, or is empty/],
    ['an invalid date', new Date('nope'), END, 99, /not a pair of valid times/],
    ['percentile 0', START, END, 0, /above 0 and at most 100/],
    ['percentile 101', START, END, 101, /above 0 and at most 100/],
    ['three decimals', START, END, 99.995, /at most two decimals/],
  ])('%s is MetricsWindowInvalid, and nothing is read', async (_what, start, end, percentile, message) => {
    await expect(metrics().window('blue', start, end, percentile)).rejects.toMatchObject({
      name: 'MetricsWindowInvalid',
      message: expect.stringMatching(message),
    });
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });

  test('ARNs that are not an ALB and its target groups are ConfigurationInvalid', () => {
    expect(
      () =>
        new CloudWatchTrafficMetrics(new CloudWatchClient({}), {
          loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/nlb/1',
          targetGroupArns: { blue: BLUE, green: GREEN },
        }),
    ).toThrow(
      expect.objectContaining({
        name: 'ConfigurationInvalid',
        message: expect.stringContaining('loadbalancer/app/<name>/<id>'),
      }),
    );
    expect(
      () =>
        new CloudWatchTrafficMetrics(new CloudWatchClient({}), {
          loadBalancerArn: LB,
          targetGroupArns: { blue: BLUE, green: 'shop-green' },
        }),
    ).toThrow(
      expect.objectContaining({
        name: 'ConfigurationInvalid',
        message: expect.stringContaining('green target group ARN "shop-green"'),
      }),
    );
  });

  test('one-minute periods; settles 180 s after the window by default, or as configured', () => {
    expect(metrics()).toMatchObject({ periodSeconds: 60, settleSeconds: 180 });
    const configured = new CloudWatchTrafficMetrics(new CloudWatchClient({}), {
      loadBalancerArn: LB,
      targetGroupArns: { blue: BLUE, green: GREEN },
      settleSeconds: 300,
    });
    expect(configured.settleSeconds).toBe(300);
    expect(
      () =>
        new CloudWatchTrafficMetrics(new CloudWatchClient({}), {
          loadBalancerArn: LB,
          targetGroupArns: { blue: BLUE, green: GREEN },
          settleSeconds: -1,
        }),
    ).toThrow(expect.objectContaining({ name: 'ConfigurationInvalid' }));
  });
});

describe('aws(): the metrics port', () => {
  const settings = (aws: Record<string, unknown>) =>
    JSON.stringify({
      workflow: { appName: 'shop' },
      aws: { targetGroups: { blue: BLUE, green: GREEN }, ...aws },
    });
  beforeEach(() => {
    process.env.AWS_REGION = 'eu-west-1';
  });
  afterEach(() => {
    delete process.env.BLUEGREEN_SETTINGS;
  });

  test('with the load balancer ARN: period and settle time readable before any call, windows read CloudWatch', async () => {
    process.env.BLUEGREEN_SETTINGS = settings({ loadBalancerArn: LB });
    await jest.isolateModulesAsync(async () => {
      // The same module registry as the code under test, so the mock is on the client class it uses.
      const sdk = await import('@aws-sdk/client-cloudwatch');
      const { mockClient: mock } = await import('aws-sdk-client-mock');
      const client = mock(sdk.CloudWatchClient);
      client.on(sdk.GetMetricDataCommand).resolves(page({ requests: [9], latency: [0.1] }));
      const { aws } = await import('../../../lambda/adapters/aws-deps');
      const { metrics: port } = aws().deps;
      expect(port).toBeDefined();
      // Plain numbers (a lazy proxy would hand out functions here).
      expect(port!.periodSeconds).toBe(60);
      expect(port!.settleSeconds).toBe(180);
      expect(client.commandCalls(sdk.GetMetricDataCommand)).toHaveLength(0);
      await expect(port!.window('blue', START, END, 99)).resolves.toEqual({
        requests: 9,
        errors: 0,
        latencyMs: 100,
      });
      const input = client.commandCalls(sdk.GetMetricDataCommand)[0].args[0].input;
      expect(input.MetricDataQueries![0].MetricStat!.Metric!.Dimensions).toEqual([
        { Name: 'LoadBalancer', Value: 'app/shop-alb/50dc6c495c0c9188' },
        { Name: 'TargetGroup', Value: 'targetgroup/shop-blue/73e2d6bc24d8a067' },
      ]);
    });
  });

  test('without it (a stack that does not pass it yet): no metrics port', async () => {
    process.env.BLUEGREEN_SETTINGS = settings({});
    await jest.isolateModulesAsync(async () => {
      const { aws } = await import('../../../lambda/adapters/aws-deps');
      expect(aws().deps.metrics).toBeUndefined();
    });
  });
});
