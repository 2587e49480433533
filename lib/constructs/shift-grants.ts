/**
 * What the gradual shift's two steps take. Shift traffic: the re-checks the switch makes (listener, the new
 * color's service and targets) and the writes of one step (the production listener, the record). Analyse step:
 * the listener and targets, this app's alarms and the user's (by name), the ALB metrics, the lock item (a
 * promotion request), and publishing the step's verdict.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { COLORS } from '../../lambda/shared/release-record';
import { recordParameterArns } from '../record-stack';
import { ASG_FLEET_READS } from './asg-grants';
import { grantReadTrafficMetrics } from './metrics-grants';
import type { ReleaseWorkflowProps } from './release-workflow';

export function grantShiftSteps(
  fns: { readonly shift: lambda.Function; readonly analyse: lambda.Function },
  props: ReleaseWorkflowProps,
  resources: { readonly lockTable: dynamodb.ITable; readonly topic: sns.ITopic },
): void {
  const stack = Stack.of(fns.shift);
  const { traffic, config, colors, record } = props;
  const allow = (fn: lambda.Function, actions: string[], on: string[]) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: on }));

  // Elastic Load Balancing's Describe* calls have no resource-level permissions.
  for (const fn of [fns.shift, fns.analyse]) {
    allow(fn, ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetHealth'], ['*']);
  }
  if (config.platform === 'ecs') {
    allow(
      fns.shift,
      ['ecs:DescribeServices'],
      COLORS.map((c) => colors[c].ecs!.service.serviceArn),
    );
  } else {
    allow(fns.shift, ASG_FLEET_READS, ['*']);
  }
  allow(fns.shift, ['elasticloadbalancing:ModifyListener'], [traffic.productionListener.listenerArn]);
  allow(fns.shift, ['ssm:PutParameter'], recordParameterArns(stack, record, { capacity: !!config.scaling }));

  const userAlarms = (config.release.analysis.alarms ?? []).map((name) =>
    stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  );
  allow(
    fns.analyse,
    ['cloudwatch:DescribeAlarms'],
    [...COLORS.flatMap((c) => Object.values(colors[c].alarms).map((a) => a.alarmArn)), ...userAlarms],
  );
  // Acknowledged with the step's other wildcards (workflow-grants.ts), GetMetricData named there.
  grantReadTrafficMetrics(fns.analyse, true);
  resources.lockTable.grant(fns.analyse, 'dynamodb:GetItem');
  allow(fns.analyse, ['sns:Publish'], [resources.topic.topicArn]);
  allow(
    fns.analyse,
    ['events:PutEvents'],
    [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
  );
}
