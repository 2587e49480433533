/**
 * Each color's traffic over a release's window, from CloudWatch: per period and per color, the requests
 * (RequestCount, Sum), the 5xx answers (HTTPCode_Target_5XX_Count, Sum) and the p99 latency (TargetResponseTime,
 * p99, seconds → ms) of the color's target group, read with GetMetricData (AWS/ApplicationELB, dimensions
 * {LoadBalancer, TargetGroup} as the analysis reads them: lambda/adapters/cloudwatch-metrics.ts).
 *
 * - The window is the release's, five minutes wider on each side, on whole periods.
 * - Periods: CloudWatch keeps one-minute datapoints for 15 days, five-minute ones for 63 days, one-hour ones for
 *   455 days (GetMetricData, "Amazon CloudWatch retains metric data as follows"): an older release is read at the
 *   finest period still kept, and `source` says so.
 * - Load balancer 5xx (HTTPCode_ELB_5XX_Count) is published per load balancer (and Availability Zone) only, never
 *   per target group: it cannot be told apart by color, so it is left out, and `source` says so.
 * - One call reads at most MAX_PERIODS_PER_CALL periods of the six queries (8,640 datapoints, well under
 *   GetMetricData's 100,800 per call); a longer window is split into several calls. Each call's NextToken pages are
 *   followed; a query CloudWatch leaves PartialData after its last page, or answers with an error status for, is a
 *   gap, said plainly, never filled in.
 */
import {
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { targetGroupDimensions } from '../lambda/adapters/cloudwatch-metrics';
import { COLORS, type Color } from '../lambda/shared/release-record';
import type { ReportTraffic, TrafficBucket } from './model';

/** Margin read before the release's start and after its end. */
export const MARGIN_MS = 5 * 60_000;
/** Periods read by one GetMetricData call (a day of one-minute datapoints). */
export const MAX_PERIODS_PER_CALL = 1_440;
/** NextToken pages followed for one call before giving up on it (a call's datapoints fit in one page). */
export const MAX_PAGES = 20;

const DAY_MS = 86_400_000;
/** How long CloudWatch keeps each period's datapoints, finest first. */
const RETENTION: readonly { readonly seconds: number; readonly keptMs: number; readonly what: string }[] = [
  { seconds: 60, keptMs: 15 * DAY_MS, what: 'one-minute' },
  { seconds: 300, keptMs: 63 * DAY_MS, what: 'five-minute' },
  { seconds: 3600, keptMs: 455 * DAY_MS, what: 'one-hour' },
];

export interface TrafficRequest {
  readonly loadBalancerArn: string;
  readonly targetGroupArns: Readonly<Record<Color, string>>;
  /** The release's start and end (now, while it runs). */
  readonly start: Date;
  readonly end: Date;
  /** Now: which periods CloudWatch still keeps. */
  readonly now: Date;
}

export interface TrafficRead {
  readonly traffic?: ReportTraffic;
  readonly gaps: readonly string[];
}

type Measure = 'requests' | 'errors' | 'p99';

const METRICS: Readonly<Record<Measure, { readonly name: string; readonly stat: string }>> = {
  requests: { name: 'RequestCount', stat: 'Sum' },
  errors: { name: 'HTTPCode_Target_5XX_Count', stat: 'Sum' },
  p99: { name: 'TargetResponseTime', stat: 'p99' },
};

/** The period to read a window starting at `start` with, as of `now` (undefined: CloudWatch kept nothing). */
export function periodFor(
  start: Date,
  now: Date,
): { readonly seconds: number; readonly what: string; readonly finest: boolean } | undefined {
  const age = now.getTime() - start.getTime();
  const i = RETENTION.findIndex((r) => age < r.keptMs);
  return i < 0 ? undefined : { seconds: RETENTION[i].seconds, what: RETENTION[i].what, finest: i === 0 };
}

/** Each color's requests, 5xx and p99 per period over the release's window (see the file's comment). */
export async function readTraffic(
  cloudwatch: CloudWatchClient,
  request: TrafficRequest,
): Promise<TrafficRead> {
  const gaps: string[] = [];
  const period = periodFor(new Date(request.start.getTime() - MARGIN_MS), request.now);
  if (!period) {
    return {
      gaps: [
        'The traffic per color is not shown: CloudWatch keeps load balancer metrics for 455 days at most, and this ' +
          'release is older.',
      ],
    };
  }
  const step = period.seconds * 1000;
  const from = Math.floor((request.start.getTime() - MARGIN_MS) / step) * step;
  // Up to now at most (a running release); at least one period (a local clock behind AWS's).
  const to = Math.max(
    from + step,
    Math.ceil((Math.min(request.end.getTime() + MARGIN_MS, request.now.getTime()) + 1) / step) * step,
  );
  const queries: MetricDataQuery[] = COLORS.flatMap((color) => {
    const dimensions = targetGroupDimensions(
      request.loadBalancerArn,
      request.targetGroupArns[color],
      `${color} target group`,
    );
    return (Object.keys(METRICS) as Measure[]).map((measure) => ({
      Id: `${measure}_${color}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB',
          MetricName: METRICS[measure].name,
          Dimensions: dimensions,
        },
        Period: period.seconds,
        Stat: METRICS[measure].stat,
      },
      ReturnData: true,
    }));
  });
  const series = new Map<string, Map<number, number>>(queries.map((q) => [q.Id!, new Map()]));
  const partial = new Set<string>();
  const failed = new Map<string, string>();
  for (let start = from; start < to; start += MAX_PERIODS_PER_CALL * step) {
    const end = Math.min(to, start + MAX_PERIODS_PER_CALL * step);
    let token: string | undefined;
    let pages = 0;
    let last: MetricDataResult[];
    do {
      const out = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(start),
          EndTime: new Date(end),
          ScanBy: 'TimestampAscending',
          ...(token ? { NextToken: token } : {}),
        }),
      );
      last = out.MetricDataResults ?? [];
      for (const result of last) {
        const values = series.get(result.Id ?? '');
        if (!values) {
          continue;
        }
        if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
          failed.set(result.Id!, result.StatusCode);
        }
        (result.Timestamps ?? []).forEach((t, i) => {
          const value = result.Values?.[i];
          if (value !== undefined) {
            values.set(new Date(t).getTime(), value);
          }
        });
      }
      token = out.NextToken;
      pages++;
    } while (token && pages < MAX_PAGES);
    // A query still PartialData on the call's last page has datapoints CloudWatch did not give.
    for (const result of last) {
      if (result.StatusCode === 'PartialData' && result.Id) {
        partial.add(result.Id);
      }
    }
    if (token) {
      gaps.push(
        `CloudWatch was still paging the metrics of ${new Date(start).toISOString()}..${new Date(end).toISOString()} ` +
          `after ${MAX_PAGES} pages: the rest of that window is not shown.`,
      );
    }
  }
  const says = (ids: Iterable<string>) =>
    [...ids].map((id) => {
      const [measure, color] = id.split('_') as [Measure, Color];
      return `${color}'s ${METRICS[measure].name}`;
    });
  if (failed.size > 0) {
    gaps.push(
      `CloudWatch answered ${[...new Set(failed.values())].join(' / ')} for ${says(failed.keys()).join(', ')}: ` +
        "those figures are missing (Forbidden: read the metrics in the load balancer's own account and Region).",
    );
  }
  if (partial.size > 0) {
    gaps.push(
      `CloudWatch returned partial data for ${says(partial).join(', ')} (PartialData on its last page): some periods ` +
        'may be missing or low; run the report again later.',
    );
  }
  const buckets: TrafficBucket[] = [];
  for (const color of COLORS) {
    const requests = series.get(`requests_${color}`)!;
    const errors = series.get(`errors_${color}`)!;
    const p99 = series.get(`p99_${color}`)!;
    const times = [...new Set([...requests.keys(), ...errors.keys(), ...p99.keys()])].sort((a, b) => a - b);
    for (const t of times) {
      const count = Math.round(requests.get(t) ?? 0);
      const latency = p99.get(t);
      buckets.push({
        at: new Date(t).toISOString(),
        color,
        // ALB publishes nothing for a period without requests (or without 5xx): no datapoint is 0.
        requests: count,
        errors: Math.round(errors.get(t) ?? 0),
        ...(latency !== undefined && count > 0 ? { p99Ms: Math.round(latency * 1e6) / 1e3 } : {}),
      });
    }
  }
  buckets.sort((a, b) => a.at.localeCompare(b.at) || a.color.localeCompare(b.color));
  if (buckets.length === 0 && failed.size === 0) {
    gaps.push(
      `CloudWatch has no datapoint for either color from ${new Date(from).toISOString()} to ` +
        `${new Date(to).toISOString()}: no request reached them, or their metrics were not published (yet).`,
    );
  }
  const coarse = period.finest
    ? ''
    : `; ${period.what} periods: CloudWatch keeps one-minute datapoints for 15 days only, and this release is older`;
  return {
    traffic: {
      bucketSeconds: period.seconds,
      source:
        'CloudWatch AWS/ApplicationELB per target group (RequestCount, HTTPCode_Target_5XX_Count, TargetResponseTime ' +
        "p99); 5xx are the targets' own: the load balancer's 5xx (HTTPCode_ELB_5XX_Count) are published per load " +
        `balancer only and cannot be told apart by color${coarse}`,
      buckets,
    },
    gaps,
  };
}
