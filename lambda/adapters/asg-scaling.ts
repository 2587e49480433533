/**
 * Auto scaling of one color's EC2 Auto Scaling group (config `scaling`): its bounds are the group's MinSize and
 * MaxSize, and its scale-in suspension is its target-tracking policies' DisableScaleIn (EC2 Auto Scaling has no
 * suspended state of its own for dynamic scaling; suspending the AlarmNotification process would stop scale-out
 * too, which a release must keep).
 */
import {
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import type { Capacity, ColorBounds } from '../shared/scaling';

/** The group's target-tracking policies (one page: a group has a few, and a page holds 100). */
export async function targetTrackingPolicies(
  autoscaling: AutoScalingClient,
  group: string,
): Promise<ScalingPolicy[]> {
  const out = await autoscaling.send(
    new DescribePoliciesCommand({
      AutoScalingGroupName: group,
      PolicyTypes: ['TargetTrackingScaling'],
      MaxRecords: 100,
    }),
  );
  return (out.ScalingPolicies ?? []).filter((p) => p.TargetTrackingConfiguration !== undefined);
}

/** A group's scaling now: MinSize..MaxSize, DesiredCapacity, scale-in suspended when any policy disables it. */
export function capacityOf(group: AutoScalingGroup, policies: readonly ScalingPolicy[]): Capacity {
  return {
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    scaleInSuspended: policies.some((p) => p.TargetTrackingConfiguration?.DisableScaleIn === true),
  };
}

/**
 * Sets a group's bounds (UpdateAutoScalingGroup MinSize and MaxSize, no DesiredCapacity) and its scale-in
 * suspension: each target-tracking policy is put again (PutScalingPolicy replaces a policy whole) with the same
 * configuration, warm-up and enabled state, and DisableScaleIn = `scaleInSuspended`; a policy that already has
 * it is not put. The update and DescribePolicies go together, then the puts together (two calls' time in all).
 *
 * What AWS does with the count (EC2 Auto Scaling API reference, UpdateAutoScalingGroup, as in the
 * @aws-sdk/client-auto-scaling model): "If you specify a new value for MinSize without specifying a value for
 * DesiredCapacity, and the new MinSize is larger than the current size of the group, this sets the group's
 * DesiredCapacity to the new MinSize value", and likewise a new MaxSize smaller than the current size sets
 * DesiredCapacity to MaxSize: the group launches (on its current launch template version) or terminates
 * instances at once. "The new settings take effect on any scaling activities after this call returns."
 */
export async function setGroupCapacity(
  autoscaling: AutoScalingClient,
  group: string,
  bounds: ColorBounds,
): Promise<void> {
  await Promise.all([
    autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        MinSize: bounds.min,
        MaxSize: bounds.max,
      }),
    ),
    setScaleIn(autoscaling, group, bounds.scaleInSuspended),
  ]);
}

/**
 * The group's scale-in suspension alone: DescribePolicies, then every target-tracking policy whose DisableScaleIn
 * differs put again, all together (two calls' time; moveTo runs it beside its own calls).
 */
export async function setScaleIn(
  autoscaling: AutoScalingClient,
  group: string,
  suspended: boolean,
): Promise<void> {
  const policies = await targetTrackingPolicies(autoscaling, group);
  await Promise.all(
    policies
      .filter((policy) => (policy.TargetTrackingConfiguration!.DisableScaleIn ?? false) !== suspended)
      .map((policy) =>
        autoscaling.send(
          new PutScalingPolicyCommand({
            AutoScalingGroupName: group,
            PolicyName: policy.PolicyName,
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: {
              ...policy.TargetTrackingConfiguration!,
              DisableScaleIn: suspended,
            },
            ...(policy.EstimatedInstanceWarmup !== undefined
              ? { EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup }
              : {}),
            ...(policy.Enabled !== undefined ? { Enabled: policy.Enabled } : {}),
          }),
        ),
      ),
  );
}
