import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ColorEnvironment } from './color-environment';

export interface SideBySideDashboardProps {
  readonly appName: string;
  readonly blue: ColorEnvironment;
  readonly green: ColorEnvironment;
  /** Drawn as a line on the latency graph. */
  readonly latencyAlarmSeconds: number;
  /** Extra widgets for the top row (for example the live-color widget). */
  readonly headerWidgets?: readonly cloudwatch.IWidget[];
}

const BLUE = '#1f77b4';
const GREEN = '#2ca02c';

/**
 * One dashboard that puts blue and green side by side: each graph draws both colors, so a difference
 * between them is visible at a glance, before and after a switch.
 */
export class SideBySideDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SideBySideDashboardProps) {
    super(scope, id);
    const { blue, green } = props;
    const both = (
      title: string,
      pick: (c: ColorEnvironment) => cloudwatch.IMetric,
      options: Partial<cloudwatch.GraphWidgetProps> = {},
    ) =>
      new cloudwatch.GraphWidget({
        title,
        width: 12,
        height: 6,
        left: [withColor(pick(blue), 'blue', BLUE), withColor(pick(green), 'green', GREEN)],
        ...options,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `bluegreen-${props.appName}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      ...(props.headerWidgets ?? []),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms per color',
        width: props.headerWidgets?.length ? 12 : 24,
        height: 4,
        alarms: [blue, green].flatMap((c) => [
          c.alarms.http5xx,
          c.alarms.latencyP99,
          c.alarms.unhealthyHosts,
        ]),
      }),
    );
    this.dashboard.addWidgets(
      both('Share of requests by color (the live color takes the traffic)', (c) => c.metrics.requests, {
        stacked: true,
        leftYAxis: { min: 0, label: 'requests' },
      }),
      both('Target 5xx responses', (c) => c.metrics.http5xx, { leftYAxis: { min: 0 } }),
    );
    this.dashboard.addWidgets(
      both('p99 target response time (s)', (c) => c.metrics.latencyP99, {
        leftYAxis: { min: 0, label: 'seconds' },
        leftAnnotations: [{ value: props.latencyAlarmSeconds, label: 'alarm threshold', color: '#d62728' }],
      }),
      both('Healthy targets', (c) => c.metrics.healthyHosts, { leftYAxis: { min: 0 } }),
    );
  }
}

function withColor(metric: cloudwatch.IMetric, label: string, color: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ label, color }) : metric;
}
