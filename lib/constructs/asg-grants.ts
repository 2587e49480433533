import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { COLORS, type Color } from '../../lambda/shared/release-record';
import { acknowledge, nagArnParts } from '../nag';
import type { ColorEnvironment } from './color-environment';

/**
 * What calling the Auto Scaling fleet takes (platform "asg"), shared by the release workflow's steps and the
 * operator policy, so the two grant the same things on the same ARNs and acknowledge them with the same reasons.
 */
export interface AsgArns {
  /** The groups, by their literal names (the name attribute is a token; acknowledgements must match). */
  readonly groups: string[];
  readonly templates: string[];
  readonly instanceRoles: string[];
}

/** Reading the fleet (Fleet.describe): Auto Scaling and launch template Describe calls, none resource-scoped. */
export const ASG_FLEET_READS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeInstanceRefreshes',
  'autoscaling:DescribeScalingActivities',
  'ec2:DescribeLaunchTemplateVersions',
];

export function asgArns(
  stack: Stack,
  appName: string,
  colors: Readonly<Record<Color, ColorEnvironment>>,
): AsgArns {
  return {
    groups: COLORS.map((c) =>
      stack.formatArn({
        service: 'autoscaling',
        resource: 'autoScalingGroup',
        resourceName: `*:autoScalingGroupName/${appName}-${c}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ),
    templates: COLORS.map((c) =>
      stack.formatArn({
        service: 'ec2',
        resource: 'launch-template',
        resourceName: colors[c].asg!.launchTemplate.launchTemplateId,
      }),
    ),
    instanceRoles: COLORS.map((c) => colors[c].asg!.instanceRole.roleArn),
  };
}

/**
 * Moving a group onto a launch template version: the group calls, and what Auto Scaling checks the caller may do
 * with the template (launch instances from it, tag them at launch, pass its instance role).
 */
export function moveGroupStatements(
  stack: Stack,
  arns: AsgArns,
  groupActions: string[],
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'MoveGroups', actions: groupActions, resources: arns.groups }),
    new iam.PolicyStatement({
      sid: 'LaunchFromTemplates',
      actions: ['ec2:RunInstances'],
      resources: ['*'],
      conditions: { ArnLike: { 'ec2:LaunchTemplate': arns.templates } },
    }),
    new iam.PolicyStatement({
      sid: 'TagAtLaunch',
      actions: ['ec2:CreateTags'],
      resources: ['instance', 'volume'].map((resource) =>
        stack.formatArn({ service: 'ec2', resource, resourceName: '*' }),
      ),
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
    new iam.PolicyStatement({
      sid: 'PassInstanceRoles',
      actions: ['iam:PassRole'],
      resources: arns.instanceRoles,
    }),
  ];
}

/** Acknowledges the wildcards of these grants on `target`: the groups' ids and, when it moves groups, tagging. */
export function acknowledgeAsgWildcards(target: IConstruct, appName: string, movesGroups: boolean): void {
  const { partition, region, account } = nagArnParts(Stack.of(target));
  for (const c of COLORS) {
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${appName}-${c}]`,
      "An Auto Scaling group's ARN carries an id assigned at creation: the wildcard spans that id, for this app's named group only.",
    );
  }
  if (movesGroups) {
    for (const resource of ['instance', 'volume']) {
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::arn:${partition}:ec2:${region}:${account}:${resource}/*]`,
        'Tagging at launch (the launch templates tag what they launch): ec2:CreateTags is limited by condition to ' +
          'RunInstances, whose instances and volumes have no ids before they exist.',
      );
    }
  }
}
