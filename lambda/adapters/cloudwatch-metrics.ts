import {
  CloudWatchClient,
  GetMetricDataCommand,
  type CloudWatchClientConfig,
  type Dimension,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { ColorWindow } from '../shared/analysis';
import { BluegreenError } from '../shared/errors';
import type { TrafficMetrics } from '../shared/ports';
import type { Color } from '../shared/release-record';
import { ALB_METRICS_PERIOD_SECONDS, ALB_METRICS_SETTLE_SECONDS } from './alb-metrics-timing';

/** A window or percentile the adapter cannot ask CloudWatch for (nothing was read). */
export const METRICS_WINDOW_INVALID = 'MetricsWindowInvalid';
/** CloudWatch did not give the window's metrics whole (an error status, or data it never completed). */
export const METRICS_UNAVAILABLE = 'MetricsUnavailable';

export interface CloudWatchTrafficMetricsProps {
  /** The load balancer whose listeners forward to both colors (its ARN's `app/<name>/<id>` is a dimension). */
  readonly loadBalancerArn: string;
  /** Each color's target group (its ARN's `targetgroup/<name>/<id>` is a dimension). */
  readonly targetGroupArns: Readonly<Record<Color, string>>;
  /** Seconds after a window's end before its metrics are complete (default ALB_METRICS_SETTLE_SECONDS). */
  readonly settleSeconds?: number;
}

/**
 * The most GetMetricData calls one window makes (its NextToken pages). A window's three queries have one
 * datapoint each and fit one page; a second or third is tolerated, an endless chain of NextTokens is not followed.
 * Each call can take SDK_CALL_WORST_MS at worst (sdk-budget.ts): the step budget counts this many per window.
 */
export const MAX_PAGES = 3;

type QueryId = 'requests' | 'errors' | 'latency';

/**
 * Each color's traffic over a window as the Application Load Balancer counted it: CloudWatch's AWS/ApplicationELB
 * metrics of the color's target group, read with one GetMetricData call (and its NextToken pages) per window.
 *
 * ALB publishes per-target-group metrics only under the dimension pair {LoadBalancer, TargetGroup} (and with
 * AvailabilityZone added); CloudWatch matches dimensions exactly, so a query with TargetGroup alone finds nothing.
 * Both values are the ARNs' suffixes (CDK's `loadBalancerFullName` and `targetGroupFullName`, which the stack's
 * own alarms use).
 *
 * The window is one period (Period = the window's length): CloudWatch then computes the percentile over every
 * request of the window. A percentile cannot be rebuilt from per-minute percentiles (the p99 of 10 minutes is not
 * an average or a maximum of ten p99s), and Sum is the same either way. GetMetricData's periods start at
 * StartTime (boto/boto3#3457: "Both GetMetricStatistics and GetMetricData return timestamps aligned to the
 * provided StartTime"), so a window on whole minutes is one datapoint per query.
 */
export class CloudWatchTrafficMetrics implements TrafficMetrics {
  static create(
    config: CloudWatchClientConfig,
    props: CloudWatchTrafficMetricsProps,
  ): CloudWatchTrafficMetrics {
    return new CloudWatchTrafficMetrics(new CloudWatchClient(config), props);
  }

  readonly periodSeconds = ALB_METRICS_PERIOD_SECONDS;
  readonly settleSeconds: number;
  private readonly dimensions: Readonly<Record<Color, Dimension[]>>;

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    props: CloudWatchTrafficMetricsProps,
  ) {
    const settle = props.settleSeconds ?? ALB_METRICS_SETTLE_SECONDS;
    if (!Number.isInteger(settle) || settle < 0) {
      throw new BluegreenError(
        'ConfigurationInvalid',
        `settleSeconds must be a whole number of seconds, 0 or more; got ${settle}.`,
      );
    }
    this.settleSeconds = settle;
    this.dimensions = {
      blue: targetGroupDimensions(props.loadBalancerArn, props.targetGroupArns.blue, 'blue target group'),
      green: targetGroupDimensions(props.loadBalancerArn, props.targetGroupArns.green, 'green target group'),
    };
  }

  async window(color: Color, start: Date, end: Date, percentile: number): Promise<ColorWindow> {
    const seconds = this.windowSeconds(start, end);
    const stat = percentileStatistic(percentile);
    const dimensions = this.dimensions[color];
    const query = (id: QueryId, metricName: string, statistic: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: dimensions },
        Period: seconds,
        Stat: statistic,
      },
      ReturnData: true,
    });
    const values = await this.read(
      [
        query('requests', 'RequestCount', 'Sum'),
        query('errors', 'HTTPCode_Target_5XX_Count', 'Sum'),
        query('latency', 'TargetResponseTime', stat),
      ],
      start,
      end,
      `${color}'s metrics for ${start.toISOString()}..${end.toISOString()}`,
    );
    // No datapoint is no request: ALB publishes nothing for a minute without requests.
    const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0));
    return {
      requests: sum(values.requests),
      errors: sum(values.errors),
      // TargetResponseTime is in seconds. One period gives one value; should CloudWatch ever split the window,
      // the percentile of the whole lies between its parts' percentiles, and the highest is the bound reported.
      // Kept to the microsecond, without the float noise of the conversion (1.005 s is 1005 ms, not
      // 1004.9999999999999).
      ...(values.latency.length > 0
        ? { latencyMs: Math.round(Math.max(...values.latency) * 1e6) / 1e3 }
        : {}),
    };
  }

  /** The window's length in seconds: both ends on whole periods, the end after the start. */
  private windowSeconds(start: Date, end: Date): number {
    const period = this.periodSeconds * 1000;
    const what = `The metrics window ${iso(start)}..${iso(end)}`;
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      throw new BluegreenError(METRICS_WINDOW_INVALID, `${what} is not a pair of valid times.`);
    }
    if (start.getTime() % period !== 0 || end.getTime() % period !== 0) {
      throw new BluegreenError(
        METRICS_WINDOW_INVALID,
        `${what} does not start and end on whole minutes: ALB publishes one-minute datapoints, so a window ` +
          'must cover whole minutes (round both ends to the minute).',
      );
    }
    if (end.getTime() <= start.getTime()) {
      throw new BluegreenError(METRICS_WINDOW_INVALID, `${what} ends before it starts, or is empty.`);
    }
    return (end.getTime() - start.getTime()) / 1000;
  }

  /** Every value of each query over all pages, following NextToken until CloudWatch says the data is complete. */
  private async read(
    queries: MetricDataQuery[],
    start: Date,
    end: Date,
    what: string,
  ): Promise<Record<QueryId, number[]>> {
    const values: Record<QueryId, number[]> = { requests: [], errors: [], latency: [] };
    const seen = new Set<string>();
    let token: string | undefined;
    for (let page = 1; ; page++) {
      const out = await this.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          ...(token ? { NextToken: token } : {}),
        }),
      );
      /** The queries this page says have more data (on the next page). */
      const partial: string[] = [];
      for (const result of out.MetricDataResults ?? []) {
        const id = result.Id as QueryId;
        if (!(id in values)) {
          continue;
        }
        seen.add(id);
        if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
          throw new BluegreenError(
            METRICS_UNAVAILABLE,
            `CloudWatch answered ${result.StatusCode} for ${what} (${id})${messages(result.Messages)}. ` +
              (result.StatusCode === 'Forbidden'
                ? // What CloudWatch answers for data it cannot authorize across accounts or Regions (an IAM
                  // denial of the call itself is the SDK's AccessDenied error instead).
                  "Read the metrics in the load balancer's own account and Region."
                : 'Try the analysis again.'),
          );
        }
        if (result.StatusCode === 'PartialData') {
          partial.push(id);
        }
        values[id].push(...(result.Values ?? []));
      }
      token = out.NextToken;
      if (!token) {
        if (partial.length > 0) {
          throw new BluegreenError(
            METRICS_UNAVAILABLE,
            `CloudWatch returned partial data for ${what} (${partial.join(', ')}) and no NextToken to read the ` +
              `rest${messages(out.Messages)}. Try the analysis again.`,
          );
        }
        break;
      }
      if (page >= MAX_PAGES) {
        throw new BluegreenError(
          METRICS_UNAVAILABLE,
          `CloudWatch was still paging ${what} after ${MAX_PAGES} pages; a window has three datapoints. Try the ` +
            'analysis again.',
        );
      }
    }
    const missing = queries.map((q) => q.Id!).filter((id) => !seen.has(id));
    if (missing.length > 0) {
      throw new BluegreenError(
        METRICS_UNAVAILABLE,
        `CloudWatch returned no result for ${missing.join(', ')} of ${what}. Try the analysis again.`,
      );
    }
    return values;
  }
}

/**
 * The dimensions under which ALB publishes a target group's metrics (RequestCount, HTTPCode_Target_5XX_Count,
 * TargetResponseTime): the pair {LoadBalancer, TargetGroup}, each the end of its ARN. Throws ConfigurationInvalid
 * naming `what` when an ARN is not an ALB one. (`bluegreen report` reads each color's traffic with them too.)
 */
export function targetGroupDimensions(
  loadBalancerArn: string,
  targetGroupArn: string,
  what = 'target group',
): Dimension[] {
  return [
    { Name: 'LoadBalancer', Value: arnSuffix(loadBalancerArn, 'load balancer') },
    { Name: 'TargetGroup', Value: arnSuffix(targetGroupArn, 'target group', what) },
  ];
}

/** The load balancer's ARN from one of its listeners' ARNs (…:listener/app/<name>/<id>/<listener id>). */
export function loadBalancerArnOf(listenerArn: string): string {
  const match = /^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)listener\/(app\/[^/]+\/[^/]+)\/[^/]+$/.exec(
    listenerArn,
  );
  if (!match) {
    throw new BluegreenError(
      'ConfigurationInvalid',
      `The listener ARN "${listenerArn}" is not an Application Load Balancer listener ARN ` +
        '(arn:<partition>:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<listener id>).',
    );
  }
  return `${match[1]}loadbalancer/${match[2]}`;
}

/** An ELB resource's CloudWatch dimension value: the end of its ARN, after the account (the ARN's resource). */
const SUFFIXES = {
  'load balancer': { pattern: /:loadbalancer\/(app\/[^/]+\/[^/]+)$/, shape: 'loadbalancer/app/<name>/<id>' },
  'target group': { pattern: /:(targetgroup\/[^/]+\/[^/]+)$/, shape: 'targetgroup/<name>/<id>' },
} as const;

function arnSuffix(arn: string, kind: keyof typeof SUFFIXES, what: string = kind): string {
  const { pattern, shape } = SUFFIXES[kind];
  const match = /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:/.test(arn) ? pattern.exec(arn) : null;
  if (!match) {
    throw new BluegreenError(
      'ConfigurationInvalid',
      `The ${what} ARN "${arn}" is not an Application Load Balancer ${kind} ARN ` +
        `(arn:<partition>:elasticloadbalancing:<region>:<account>:${shape}).`,
    );
  }
  return match[1];
}

/** CloudWatch's percentile statistic: p0..p100, at most two decimals (p99, p99.9). */
function percentileStatistic(percentile: number): string {
  if (!Number.isFinite(percentile) || percentile <= 0 || percentile > 100) {
    throw new BluegreenError(
      METRICS_WINDOW_INVALID,
      `The latency percentile must be above 0 and at most 100 (e.g. 99); got ${percentile}.`,
    );
  }
  if (Number(percentile.toFixed(2)) !== percentile) {
    throw new BluegreenError(
      METRICS_WINDOW_INVALID,
      `CloudWatch percentiles have at most two decimals (e.g. 99.9); got ${percentile}.`,
    );
  }
  return `p${percentile}`;
}

function iso(d: Date): string {
  return Number.isNaN(d.getTime()) ? String(d) : d.toISOString();
}

function messages(list: { Code?: string; Value?: string }[] | undefined): string {
  const text = (list ?? []).map((m) => [m.Code, m.Value].filter(Boolean).join(': ')).filter(Boolean);
  return text.length > 0 ? ` (${text.join('; ')})` : '';
}
