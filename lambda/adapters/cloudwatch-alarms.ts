import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type CloudWatchClientConfig,
} from '@aws-sdk/client-cloudwatch';
import type { Alarms } from '../shared/ports';
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

  async firing(color: Color): Promise<string[]> {
    const out = await this.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [...this.names[color]], StateValue: 'ALARM' }),
    );
    return (out.MetricAlarms ?? []).map((a) => a.AlarmName ?? '?');
  }
}
