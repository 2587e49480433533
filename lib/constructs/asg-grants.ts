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
  /** The instance type of both colors' templates (the only type RunInstances may launch). */
  readonly instanceTypes: string[];
  /** The colors' instance security groups (the only ones an instance may be launched into). */
  readonly securityGroups: string[];
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
    instanceTypes: [...new Set(COLORS.map((c) => colors[c].asg!.launchTemplate.instanceType!.toString()))],
    securityGroups: COLORS.flatMap((c) =>
      colors[c].asg!.launchTemplate.connections.securityGroups.map((sg) =>
        stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: sg.securityGroupId }),
      ),
    ),
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
    ...launchStatements(stack, arns),
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

/**
 * ec2:RunInstances authorizes each resource of a launch separately. Every one is allowed only when the launch
 * uses one of these launch templates, and the ones a caller could otherwise override are pinned to what the
 * templates say: the instance type, an Amazon-owned image (Amazon Linux 2023), the colors' security groups
 * (which, being in the app's VPC, also keep the subnet in it).
 */
function launchStatements(stack: Stack, arns: AsgArns): iam.PolicyStatement[] {
  const run = (sid: string, resources: string[], conditions: Record<string, Record<string, unknown>> = {}) =>
    new iam.PolicyStatement({
      sid,
      actions: ['ec2:RunInstances'],
      resources,
      conditions: { ...conditions, ArnLike: { 'ec2:LaunchTemplate': arns.templates } },
    });
  const ec2Arn = (resource: string, account?: string) =>
    stack.formatArn({
      service: 'ec2',
      resource,
      resourceName: '*',
      ...(account === undefined ? {} : { account }),
    });
  return [
    new iam.PolicyStatement({
      sid: 'LaunchTemplates',
      actions: ['ec2:RunInstances'],
      resources: arns.templates,
    }),
    run('LaunchTheTemplatesInstanceType', [ec2Arn('instance')], {
      StringEquals: { 'ec2:InstanceType': arns.instanceTypes },
    }),
    // Images have no account in their ARN.
    run('LaunchAmazonImages', [ec2Arn('image', '')], { StringEquals: { 'ec2:Owner': 'amazon' } }),
    run('LaunchIntoTheColorsSecurityGroups', arns.securityGroups),
    run(
      'LaunchVolumesInterfacesSubnets',
      ['volume', 'network-interface', 'subnet'].map((r) => ec2Arn(r)),
    ),
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
        'Launching from and tagging at launch (the launch templates tag what they launch): ec2:RunInstances is ' +
          "limited by condition to this app's launch templates (instances to their instance type), ec2:CreateTags " +
          'to RunInstances; instances and volumes have no ids before they exist.',
      );
    }
    for (const resource of ['network-interface', 'subnet']) {
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::arn:${partition}:ec2:${region}:${account}:${resource}/*]`,
        "ec2:RunInstances is limited by condition to this app's launch templates; network interfaces have no id " +
          "before launch, and the subnets are the group's (kept in the app's VPC by the colors' security groups).",
      );
    }
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::arn:${partition}:ec2:${region}::image/*]`,
      "ec2:RunInstances is limited by condition to this app's launch templates and to Amazon-owned images " +
        '(ec2:Owner amazon: Amazon Linux 2023, whose id changes with each release of it).',
    );
  }
}
