/**
 * When the Application Load Balancer's CloudWatch metrics can be read (TrafficMetrics.periodSeconds and
 * settleSeconds in AWS). Kept apart from the adapter so the Lambda wiring (aws-deps.ts) can tell them without
 * loading the CloudWatch SDK client on a step's cold start.
 */

/**
 * ALB publishes its metrics "in 60-second intervals" (Elastic Load Balancing User Guide, "CloudWatch metrics for
 * your Application Load Balancer"): a window is whole minutes.
 */
export const ALB_METRICS_PERIOD_SECONDS = 60;

/**
 * How long after a window ends its one-minute ALB datapoints are all in CloudWatch. AWS documents no figure (the
 * ELB guide only says metrics are sent every 60 seconds; each load balancer node sends its own, and CloudWatch
 * aggregates what has arrived). What people measure:
 * - Datadog's "Cloud Metric Delay" guide: one-minute CloudWatch metrics are available after "about 2 minutes";
 * - elastic/beats#30915 (2022): "a 2min to 3min latency between the current timestamp and the last data point"
 *   (the beats aws module got a `latency` option for it, elastic/beats#20875);
 * - influxdata/telegraf#7898: AWS/ELB metrics arrive "within a delay of 3 and more minutes";
 * - prometheus/cloudwatch_exporter (#396) delays every metric by 600 s by default, because "CW metrics converge
 *   over a period of up to 10 minutes" — its worst case, for every namespace and 5-minute metrics.
 * 3 minutes after the window's end covers the observed one-minute ALB delays with a margin; a read before then
 * would see both colors' counts short (the analysis would more often be inconclusive, not biased: both target
 * groups are counted by the same nodes). Raise it with the adapter's `settleSeconds` option if verdicts come out
 * of windows whose counts later grow.
 */
export const ALB_METRICS_SETTLE_SECONDS = 180;
