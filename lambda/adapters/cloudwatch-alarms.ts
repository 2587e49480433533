import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type CloudWatchClientConfig,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { Alarms, FiringAlarm } from '../shared/ports';
import type { Color } from '../shared/release-record';

/** The per-color CloudWatch alarms the stack creates (5xx, p99 latency, unhealthy hosts). */
export class CloudWatchAlarms implements Alarms {
  static create(
    config: CloudWatchClientConfig,
    names: Readonly<Record<Color, readonly string[]>>,
  ): CloudWatchAlarms {
    return new CloudWatchAlarms(new CloudWatchClient(config), names);
  }

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly names: Readonly<Record<Color, readonly string[]>>,
  ) {}

  async firing(color: Color): Promise<FiringAlarm[]> {
    const out = await this.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [...this.names[color]], StateValue: 'ALARM' }),
    );
    // Filtered here too: not every implementation of the API (moto) applies StateValue with AlarmNames.
    return (out.MetricAlarms ?? []).filter((a) => a.StateValue === 'ALARM').map(firingAlarm);
  }

  async named(names: readonly string[]): Promise<FiringAlarm[]> {
    if (names.length === 0) {
      return [];
    }
    // Composite alarms too: a user's "release health" alarm is often one.
    const out = await this.cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNames: [...names],
        StateValue: 'ALARM',
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      }),
    );
    return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]
      .filter((a) => a.StateValue === 'ALARM')
      .map((a) => firingAlarm(a as MetricAlarm));
  }
}

/**
 * An alarm in ALARM: since StateTransitionedTimestamp (when StateValue last changed; StateUpdatedTimestamp also
 * moves when only the reason or evaluation state is updated, so it is only the fallback).
 */
function firingAlarm(a: MetricAlarm): FiringAlarm {
  const since = a.StateTransitionedTimestamp ?? a.StateUpdatedTimestamp;
  const datapoint = datapoints(a.StateReasonData);
  return {
    name: a.AlarmName ?? '?',
    since: since ? since.toISOString() : 'an unknown time',
    reason: a.StateReason ?? '',
    ...(datapoint ? { datapoint } : {}),
  };
}

/** "datapoints 12, 9 (Sum, 60s periods) against threshold 5" from StateReasonData's JSON, when it has them. */
function datapoints(data: string | undefined): string | undefined {
  if (!data) {
    return undefined;
  }
  try {
    const d = JSON.parse(data) as {
      recentDatapoints?: unknown;
      threshold?: unknown;
      statistic?: unknown;
      period?: unknown;
    };
    if (!Array.isArray(d.recentDatapoints) || d.recentDatapoints.length === 0) {
      return undefined;
    }
    const how = [d.statistic, typeof d.period === 'number' ? `${d.period}s periods` : undefined]
      .filter((x) => typeof x === 'string')
      .join(', ');
    return (
      `datapoint${d.recentDatapoints.length > 1 ? 's' : ''} ${d.recentDatapoints.join(', ')}` +
      (how ? ` (${how})` : '') +
      (typeof d.threshold === 'number' ? ` against threshold ${d.threshold}` : '')
    );
  } catch {
    return undefined;
  }
}
