/**
 * Emulator tier of CloudWatchTrafficMetrics: datapoints are put into moto's CloudWatch under the dimensions ALB
 * publishes them with (LoadBalancer + TargetGroup, from the ARNs of a load balancer and target groups moto made),
 * and read back through the adapter's real GetMetricData wire call.
 *
 * moto gap (5.2): no extended statistics. moto computes Sum, Average, Minimum, Maximum and SampleCount per period;
 * for a percentile (p99) it computes None, and a GetMetricData whose percentile query has data answers HTTP 500
 * (its serializer fails on the None). Where a test reads latency, a client middleware asks moto for Maximum in
 * place of the percentile, over a window holding a single TargetResponseTime value (whose p99 is its maximum);
 * the percentile request itself is asserted against aws-sdk-client-mock in cloudwatch-metrics.test.ts. moto never
 * pages GetMetricData either (no NextToken), so paging is tested there too.
 */
import {
  CloudWatchClient,
  PutMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { CloudWatchTrafficMetrics } from '../../../lambda/adapters/cloudwatch-metrics';
import { describeWithMoto, useMoto } from '../../support/moto';
import { createAlb, type MotoAlb } from '../../support/moto-resources';

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

const MINUTE = 60_000;

/**
 * The moto gap's shim: GetMetricData percentile statistics asked as Maximum (see the header), counted so a test
 * shows it met the gap.
 */
function percentileAsMaximum(client: CloudWatchClient): () => number {
  let shimmed = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetMetricDataCommand') {
        const input = args.input as GetMetricDataCommandInput;
        args.input = {
          ...input,
          MetricDataQueries: input.MetricDataQueries?.map((q) => {
            if (!q.MetricStat?.Stat?.startsWith('p')) {
              return q;
            }
            shimmed += 1;
            return { ...q, MetricStat: { ...q.MetricStat, Stat: 'Maximum' } };
          }),
        };
      }
      return next(args);
    },
    { step: 'initialize', name: 'motoPercentileAsMaximum' },
  );
  return () => shimmed;
}

describeWithMoto('CloudWatchTrafficMetrics against moto', () => {
  const moto = useMoto();
  let alb: MotoAlb;
  /** A ten-minute window that ended a while ago, on whole minutes. */
  const start = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE);
  const end = new Date(start.getTime() + 10 * MINUTE);
  const at = (offsetSeconds: number) => new Date(start.getTime() + offsetSeconds * 1000);

  const datum = (
    metricName: string,
    targetGroupArn: string,
    timestamp: Date,
    value: number,
    options: { unit?: 'Count' | 'Seconds'; loadBalancer?: boolean } = {},
  ): MetricDatum => ({
    MetricName: metricName,
    Dimensions: [
      // ALB's dimension values, as its own metrics carry them: the ARNs' suffixes.
      ...(options.loadBalancer === false
        ? []
        : [{ Name: 'LoadBalancer', Value: `app/${alb.loadBalancerArn.split(':loadbalancer/app/')[1]}` }]),
      { Name: 'TargetGroup', Value: `targetgroup/${targetGroupArn.split(':targetgroup/')[1]}` },
    ],
    Timestamp: timestamp,
    Value: value,
    Unit: options.unit ?? 'Count',
  });

  const adapter = (client: CloudWatchClient) =>
    new CloudWatchTrafficMetrics(client, {
      loadBalancerArn: alb.loadBalancerArn,
      targetGroupArns: alb.targetGroups,
    });

  beforeAll(async () => {
    alb = await createAlb(moto(), 'shop');
    const { blue, green } = alb.targetGroups;
    await new CloudWatchClient(moto().config).send(
      new PutMetricDataCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricData: [
          // Green, inside the window: three minutes with requests, one with 5xx, one response time.
          datum('RequestCount', green, at(0), 400),
          datum('RequestCount', green, at(60), 350),
          datum('RequestCount', green, at(9 * 60 + 59), 250),
          datum('HTTPCode_Target_5XX_Count', green, at(60), 7),
          datum('TargetResponseTime', green, at(30), 0.25, { unit: 'Seconds' }),
          // Green, outside it: the minute before, and the minute the (exclusive) end starts.
          datum('RequestCount', green, at(-60), 9000),
          datum('TargetResponseTime', green, at(-60), 9, { unit: 'Seconds' }),
          datum('RequestCount', green, at(10 * 60), 9000),
          datum('HTTPCode_Target_5XX_Count', green, at(10 * 60), 900),
          // Blue, inside the window: requests and errors, no response time.
          datum('RequestCount', blue, at(120), 1000),
          datum('HTTPCode_Target_5XX_Count', blue, at(120), 2),
          // Green's target group under TargetGroup alone: not how ALB publishes it, and not counted.
          datum('RequestCount', green, at(120), 5000, { loadBalancer: false }),
        ],
      }),
    );
  });

  test('each color reads its own target group under the load balancer over [start, end), latency in ms (moto gap shimmed: no percentiles)', async () => {
    const client = new CloudWatchClient(moto().config);
    const shimmed = percentileAsMaximum(client);
    const metrics = adapter(client);
    await expect(metrics.window('green', start, end, 99)).resolves.toEqual({
      requests: 1000,
      errors: 7,
      latencyMs: 250,
    });
    await expect(metrics.window('blue', start, end, 99)).resolves.toEqual({ requests: 1000, errors: 2 });
    expect(shimmed()).toBe(2);
  });

  test('a window without datapoints is zero requests, zero errors and no latency (no shim needed)', async () => {
    const earlier = new Date(start.getTime() - 20 * MINUTE);
    const window = await adapter(new CloudWatchClient(moto().config)).window(
      'green',
      earlier,
      new Date(earlier.getTime() + 5 * MINUTE),
      99,
    );
    expect(window).toEqual({ requests: 0, errors: 0 });
  });

  test('the gap itself: without the shim, moto fails a percentile query that has data (drop the shim when this fails)', async () => {
    await expect(
      adapter(new CloudWatchClient(moto().config)).window('green', start, end, 99),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });
});
