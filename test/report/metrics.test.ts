/**
 * Each color's traffic from CloudWatch for `bluegreen report`: GetMetricData answers in the SDK's shape (the
 * canary release's window in two pages, the first PartialData with a NextToken: fixtures/record.ts), the periods
 * CloudWatch still keeps, long windows split, and what it could not give said as gaps.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataOutput,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_PERIODS_PER_CALL, periodFor, readTraffic } from '../../report/metrics';
import { readFixture } from './fixtures/load';

const LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188';
const TG = {
  blue: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067',
  green: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/9683b2d02a6cabee',
};
const PAGES = readFixture<GetMetricDataOutput[]>('canary-approved.metrics.json');
const cloudwatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'eu-west-1' });

afterAll(() => cloudwatch.restore());
beforeEach(() => cloudwatch.reset());

const inputs = () => cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
const canaryWindow = {
  loadBalancerArn: LB,
  targetGroupArns: TG,
  start: new Date('2026-11-26T10:00:00Z'),
  end: new Date('2026-11-26T10:16:10Z'),
  now: new Date('2026-11-26T12:00:00Z'),
};

test('the canary window: both pages read, per color requests, target 5xx and p99 per minute', async () => {
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    return input.NextToken === PAGES[0].NextToken ? PAGES[1] : PAGES[0];
  });
  const { traffic, gaps } = await readTraffic(client, canaryWindow);

  const calls = inputs();
  expect(calls).toHaveLength(2);
  expect(calls[1].NextToken).toBe(PAGES[0].NextToken);
  // Five minutes each side, on whole minutes.
  expect(calls[0]).toMatchObject({
    StartTime: new Date('2026-11-26T09:55:00Z'),
    EndTime: new Date('2026-11-26T10:22:00Z'),
    ScanBy: 'TimestampAscending',
  });
  // The analysis adapter's dimensions: {LoadBalancer, TargetGroup}, each the end of its ARN.
  const queries = calls[0].MetricDataQueries!;
  expect(
    queries.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period]),
  ).toEqual([
    ['requests_blue', 'RequestCount', 'Sum', 60],
    ['errors_blue', 'HTTPCode_Target_5XX_Count', 'Sum', 60],
    ['p99_blue', 'TargetResponseTime', 'p99', 60],
    ['requests_green', 'RequestCount', 'Sum', 60],
    ['errors_green', 'HTTPCode_Target_5XX_Count', 'Sum', 60],
    ['p99_green', 'TargetResponseTime', 'p99', 60],
  ]);
  expect(queries[0].MetricStat!.Metric).toEqual({
    Namespace: 'AWS/ApplicationELB',
    MetricName: 'RequestCount',
    Dimensions: [
      { Name: 'LoadBalancer', Value: 'app/shop/50dc6c495c0c9188' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop-blue/73e2d6bc24d8a067' },
    ],
  });
  expect(queries[3].MetricStat!.Metric!.Dimensions![1].Value).toBe('targetgroup/shop-green/9683b2d02a6cabee');

  // PartialData on the first page only, completed by the second: nothing missing.
  expect(gaps).toEqual([]);
  expect(traffic!.bucketSeconds).toBe(60);
  expect(traffic!.source).toMatch(/HTTPCode_ELB_5XX_Count\) are published per load balancer only/);
  // Every datapoint of both pages, by color and minute.
  const all = (id: string) =>
    PAGES.flatMap((p) => {
      const r = p.MetricDataResults!.find((x) => x.Id === id)!;
      return r.Timestamps!.map((t, i) => [t.toISOString(), r.Values![i]] as const);
    });
  for (const color of ['blue', 'green'] as const) {
    const buckets = traffic!.buckets.filter((b) => b.color === color);
    expect(buckets.map((b) => [b.at, b.requests])).toEqual(all(`requests_${color}`));
    const errors = new Map(all(`errors_${color}`));
    expect(buckets.map((b) => b.errors)).toEqual(buckets.map((b) => errors.get(b.at) ?? 0));
    expect(new Set(buckets.map((b) => b.p99Ms))).toEqual(new Set([color === 'blue' ? 80 : 84]));
  }
  // Green had no request before the canary step (10:07:05): no bucket (ALB publishes nothing for it).
  const firstGreen = traffic!.buckets.find((b) => b.color === 'green')!;
  expect(firstGreen.at).toBe('2026-11-26T10:08:00.000Z');
  expect(firstGreen.requests).toBe(120);
});

test('PartialData left on the last page is a gap, naming the series', async () => {
  const [first] = PAGES;
  cloudwatch.on(GetMetricDataCommand).resolves({ ...first, NextToken: undefined });
  const { traffic, gaps } = await readTraffic(client, canaryWindow);
  expect(inputs()).toHaveLength(1);
  expect(gaps).toHaveLength(1);
  expect(gaps[0]).toMatch(
    /^CloudWatch returned partial data for blue's RequestCount, green's RequestCount, .*green's TargetResponseTime \(PartialData on its last page\)/,
  );
  expect(traffic!.buckets.length).toBeGreaterThan(0);
});

test('a series CloudWatch refuses (Forbidden) is a gap; the others are shown', async () => {
  cloudwatch.on(GetMetricDataCommand).callsFake(() => ({
    MetricDataResults: PAGES[1].MetricDataResults!.map((r) =>
      r.Id === 'p99_green' ? { Id: r.Id, StatusCode: 'Forbidden', Timestamps: [], Values: [] } : r,
    ),
  }));
  const { traffic, gaps } = await readTraffic(client, canaryWindow);
  expect(gaps).toEqual([
    "CloudWatch answered Forbidden for green's TargetResponseTime: those figures are missing (Forbidden: read the metrics in the load balancer's own account and Region).",
  ]);
  expect(traffic!.buckets.filter((b) => b.color === 'green').every((b) => b.p99Ms === undefined)).toBe(true);
});

test('periods CloudWatch still keeps: one minute for 15 days, five for 63, an hour for 455', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
  expect(periodFor(daysAgo(14.9), now)).toEqual({ seconds: 60, what: 'one-minute', finest: true });
  expect(periodFor(daysAgo(15.1), now)).toEqual({ seconds: 300, what: 'five-minute', finest: false });
  expect(periodFor(daysAgo(100), now)).toEqual({ seconds: 3600, what: 'one-hour', finest: false });
  expect(periodFor(daysAgo(456), now)).toBeUndefined();
});

test('an older release is read in five-minute periods, and the source says so', async () => {
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  const { traffic, gaps } = await readTraffic(client, {
    ...canaryWindow,
    now: new Date('2026-12-20T00:00:00Z'),
  });
  const [call] = inputs();
  expect(call.MetricDataQueries!.every((q) => q.MetricStat!.Period === 300)).toBe(true);
  expect(call.StartTime).toEqual(new Date('2026-11-26T09:55:00Z'));
  expect(call.EndTime).toEqual(new Date('2026-11-26T10:25:00Z'));
  expect(traffic!.bucketSeconds).toBe(300);
  expect(traffic!.buckets).toEqual([]);
  expect(gaps).toEqual([
    'CloudWatch has no datapoint for either color from 2026-11-26T09:55:00.000Z to 2026-11-26T10:25:00.000Z: no request reached them, or their metrics were not published (yet).',
  ]);
  expect(traffic!.source).toMatch(
    /five-minute periods: CloudWatch keeps one-minute datapoints for 15 days only/,
  );
});

test(`a window longer than ${MAX_PERIODS_PER_CALL} periods is read in adjacent calls`, async () => {
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  await readTraffic(client, {
    ...canaryWindow,
    end: new Date('2026-11-27T16:00:00Z'), // a release that waited 30 hours at the gate
    now: new Date('2026-11-27T18:00:00Z'),
  });
  const windows = inputs().map((i) => [i.StartTime!.toISOString(), i.EndTime!.toISOString()]);
  expect(windows).toEqual([
    ['2026-11-26T09:55:00.000Z', '2026-11-27T09:55:00.000Z'],
    ['2026-11-27T09:55:00.000Z', '2026-11-27T16:06:00.000Z'],
  ]);
});

test('a local clock behind the release still reads one period, from five minutes before its start', async () => {
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  await readTraffic(client, { ...canaryWindow, now: new Date('2026-11-26T09:00:00Z') });
  expect(inputs().map((i) => [i.StartTime!.toISOString(), i.EndTime!.toISOString()])).toEqual([
    ['2026-11-26T09:55:00.000Z', '2026-11-26T09:56:00.000Z'],
  ]);
});

test('a release older than CloudWatch keeps anything: no call, a gap', async () => {
  const { traffic, gaps } = await readTraffic(client, {
    ...canaryWindow,
    now: new Date('2028-06-01T00:00:00Z'),
  });
  expect(inputs()).toHaveLength(0);
  expect(traffic).toBeUndefined();
  expect(gaps[0]).toMatch(/CloudWatch keeps load balancer metrics for 455 days at most/);
});
