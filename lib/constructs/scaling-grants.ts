/**
 * What auto scaling (config `scaling`) adds to the release workflow's grants: the steps that change a color's
 * capacity set its bounds (Fleet.setCapacity) and write them in the record (ReleaseRecordStore.writeCapacity).
 * (Every policy on the record covers the capacity parameters with scaling: recordParameterArns.) Without
 * `scaling`, nothing.
 *
 * - ECS: application-autoscaling:RegisterScalableTarget (which, for an ECS service, also checks that the caller
 *   may ecs:DescribeServices and ecs:UpdateService it) and DescribeScalableTargets.
 * - EC2: autoscaling:UpdateAutoScalingGroup (min and max), PutScalingPolicy (a target-tracking policy's
 *   DisableScaleIn) on this app's groups, and DescribeAutoScalingGroups / DescribePolicies.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { COLORS } from '../../lambda/shared/release-record';
import { acknowledge, nagArnParts } from '../nag';
import { capacityParameterArns } from '../record-stack';
import { acknowledgeAsgWildcards, asgArns } from './asg-grants';
import type { ReleaseWorkflowProps } from './release-workflow';
import type { Step, StepFunctions } from './workflow-states';

/**
 * The steps that change a color's capacity (and write it in the record): the deploy holds both colors, the
 * switch lets the new color catch up with the live one, each bake check keeps the old color at the new one's count,
 * and every ending gives each color its bounds back
 * (Finish, Abort, Rollback, Stopped, the failed rollback, the failed contract), like the scale-down before a
 * contract (lambda/workflow/capacity.ts).
 */
export const SCALING_STEPS: readonly Step[] = [
  'deploy',
  'switch',
  'watch',
  'finish',
  'abort',
  'rollback',
  'stopped',
  'rollback-failed',
  'contract-failed',
  'scale-down-old-color',
  'follow-live',
];
/** The steps that only read capacity (Fleet.capacity): none today (every reader also writes). */
export const SCALING_READERS: readonly Step[] = [];

/** ECS: Application Auto Scaling's calls on a service's scalable target. */
export const ECS_SCALING_WRITES = ['application-autoscaling:RegisterScalableTarget'];
/** Describe calls: none has resource-level permissions. */
export const ECS_SCALING_READS = ['application-autoscaling:DescribeScalableTargets'];
export const ASG_SCALING_WRITES = ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:PutScalingPolicy'];
export const ASG_SCALING_READS = ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies'];

/** The scalable targets of this account and region: their ARNs end in an id assigned at registration. */
export function scalableTargetsArn(stack: Stack): string {
  return stack.formatArn({
    service: 'application-autoscaling',
    resource: 'scalable-target',
    resourceName: '*',
  });
}

export function grantScaling(fns: StepFunctions, props: ReleaseWorkflowProps): void {
  const { config, colors, record } = props;
  if (!config.scaling) {
    return;
  }
  const stack = Stack.of(fns.prepare);
  const allow = (fn: lambda.Function, actions: string[], resources: string[]) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  const present = (steps: readonly Step[]) =>
    steps.map((s) => fns[s]).filter((fn): fn is lambda.Function => fn !== undefined);

  for (const fn of present(SCALING_STEPS)) {
    allow(fn, ['ssm:PutParameter'], capacityParameterArns(stack, record));
  }
  const ecs = config.platform === 'ecs';
  for (const fn of present([...SCALING_STEPS, ...SCALING_READERS])) {
    allow(fn, ecs ? ECS_SCALING_READS : ASG_SCALING_READS, ['*']);
  }
  if (ecs) {
    const services = COLORS.map((c) => colors[c].ecs!.service.serviceArn);
    for (const fn of present(SCALING_READERS)) {
      allow(fn, ['ecs:DescribeServices'], services);
    }
    for (const fn of present(SCALING_STEPS)) {
      allow(fn, ECS_SCALING_WRITES, [scalableTargetsArn(stack)]);
      allow(fn, ['ecs:DescribeServices', 'ecs:UpdateService'], services);
      acknowledgeScalableTargets(fn.role!);
    }
    return;
  }
  const { groups } = asgArns(stack, config.appName, colors);
  for (const fn of present(SCALING_STEPS)) {
    allow(fn, ASG_SCALING_WRITES, groups);
    acknowledgeAsgWildcards(fn.role!, config.appName, false);
  }
}

/** The reason for the scalable-target wildcard, on `target` (a role or a policy). */
export function acknowledgeScalableTargets(target: IConstruct): void {
  const { partition, region, account } = nagArnParts(Stack.of(target));
  acknowledge(
    target,
    `AwsSolutions-IAM5[Resource::arn:${partition}:application-autoscaling:${region}:${account}:scalable-target/*]`,
    "A scalable target's ARN ends in an id Application Auto Scaling assigns at registration (the template " +
      'cannot name it); RegisterScalableTarget also requires ecs:UpdateService on the service it scales, which ' +
      "is granted on this app's two services only.",
  );
}

/** What the per-step reasons for "*" add with scaling (Describe calls without resource-level permissions). */
export function scalingWildcardReason(config: ReleaseWorkflowProps['config'], step: Step): string {
  if (!config.scaling || ![...SCALING_STEPS, ...SCALING_READERS].includes(step)) {
    return '';
  }
  return config.platform === 'ecs'
    ? ' With scaling, application-autoscaling:DescribeScalableTargets has no resource-level permissions either.'
    : ' With scaling, autoscaling:DescribeAutoScalingGroups/DescribePolicies have no resource-level permissions either.';
}
