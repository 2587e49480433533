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
  /** Draw each color's count over time (with config `scaling`, where it moves on its own). */
  readonly counts?: boolean;
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
    if (props.counts) {
      const [blueCount, greenCount] = [countMetrics(blue), countMetrics(green)];
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${blue.ecs ? 'Tasks' : 'Instances'} per color: desired and ${blue.ecs ? 'running' : 'in service'}`,
          width: 24,
          height: 6,
          left: [
            withColor(blueCount.desired, 'blue desired', BLUE),
            withColor(blueCount.running, 'blue', BLUE),
            withColor(greenCount.desired, 'green desired', GREEN),
            withColor(greenCount.running, 'green', GREEN),
          ],
          leftYAxis: { min: 0 },
        }),
      );
    }
  }
}

/**
 * A color's count over time, from metrics that cost nothing more: on EC2 the group metrics the groups already
 * publish (GroupDesiredCapacity, GroupInServiceInstances); on ECS Container Insights, which the cluster enables
 * (DesiredTaskCount, RunningTaskCount per service).
 */
function countMetrics(c: ColorEnvironment): { desired: cloudwatch.Metric; running: cloudwatch.Metric } {
  const metric = (namespace: string, metricName: string, dimensionsMap: Record<string, string>) =>
    new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap,
      statistic: 'Average',
      period: Duration.minutes(1),
    });
  if (c.ecs) {
    const dimensions = {
      ClusterName: c.ecs.service.cluster.clusterName,
      ServiceName: c.ecs.service.serviceName,
    };
    return {
      desired: metric('ECS/ContainerInsights', 'DesiredTaskCount', dimensions),
      running: metric('ECS/ContainerInsights', 'RunningTaskCount', dimensions),
    };
  }
  const dimensions = { AutoScalingGroupName: c.asg!.group.autoScalingGroupName };
  return {
    desired: metric('AWS/AutoScaling', 'GroupDesiredCapacity', dimensions),
    running: metric('AWS/AutoScaling', 'GroupInServiceInstances', dimensions),
  };
}

function withColor(metric: cloudwatch.IMetric, label: string, color: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric ? metric.with({ label, color }) : metric;
}
