/**
 * The comparative analysis's read of the load balancer's metrics (lambda/adapters/cloudwatch-metrics.ts).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledge } from '../nag';

/**
 * Lets `fn` read CloudWatch metric data (cloudwatch:GetMetricData, the only call CloudWatchTrafficMetrics makes),
 * and acknowledges the wildcard resource cdk-nag finds in it, with the reason (unless the caller's own
 * acknowledgement of the role's wildcards already names GetMetricData: one acknowledgement per rule and resource).
 */
export function grantReadTrafficMetrics(fn: lambda.Function, acknowledged = false): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
  if (acknowledged) {
    return;
  }
  acknowledge(
    fn.role!,
    'AwsSolutions-IAM5[Resource::*]',
    'cloudwatch:GetMetricData supports no resource-level permissions and no condition key that names a namespace ' +
      'or metric (Service Authorization Reference, Amazon CloudWatch; the CloudWatch permissions reference ' +
      'specifies Resource "*"); it only reads metric data: here the ALB RequestCount, target 5xx and ' +
      "TargetResponseTime of this app's two target groups.",
  );
}
