/**
 * One color's auto scaling (config `scaling`), the same definition for both colors: its bounds rendered from the
 * release record's capacity parameter for the color, never from literals, and one target-tracking policy per
 * configured target.
 *
 * The record value is `auto` or `<min>,<max>` (lambda/shared/scaling.ts, `boundsFor`); the template renders
 * exactly that mapping, so a `cdk deploy` writes the bounds the release workflow last set:
 * - `auto`: the configured minCount..maxCount when the record names the color live, 0..0 when idle; scale-in free.
 * - `<min>,<max>`: those bounds, scale-in suspended (ECS: the scalable target's DynamicScalingInSuspended; EC2,
 *   which has no suspended state: each target-tracking policy's DisableScaleIn).
 */
import { CfnCondition, Duration, Fn, Stack, Token, type IResolvable } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { Color } from '../../lambda/shared/release-record';
import { AUTO_CAPACITY } from '../../lambda/shared/scaling';
import type { ScalingConfig } from '../config-scaling';
import type { AsgCompute, EcsCompute } from './color-environment';

/** What the template reads from the release record for one color's scaling (deploy-time SSM parameters). */
export interface RecordedScaling {
  /** The color's capacity parameter's value: `auto` or `<min>,<max>`. */
  readonly capacity: string;
  /** True when the record's live color is this color. */
  readonly live: CfnCondition;
}

export interface ColorScalingProps {
  readonly color: Color;
  readonly scaling: ScalingConfig;
  readonly recorded: RecordedScaling;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Exactly one of the two, as the platform says. */
  readonly ecs?: EcsCompute;
  readonly asg?: AsgCompute;
}

/** The bounds as CloudFormation renders them: each an Fn::If on the record. */
export interface RenderedBounds {
  readonly min: IResolvable;
  readonly max: IResolvable;
  /** True unless the record says `auto`. */
  readonly scaleInSuspended: IResolvable;
  /** `<Color>CapacityAuto`: the record says `auto` for this color. */
  readonly auto: CfnCondition;
}

export class ColorScaling extends Construct {
  readonly bounds: RenderedBounds;
  /** ECS: the service's scalable target (Application Auto Scaling). */
  readonly scalableTarget?: appscaling.CfnScalableTarget;
  readonly policies: Construct[] = [];

  constructor(scope: Construct, id: string, props: ColorScalingProps) {
    super(scope, id);
    const { color, scaling, recorded } = props;
    // ECS's MinCapacity/MaxCapacity are integers, a group's MinSize/MaxSize strings: the configured bounds are
    // written as each expects; the record's are strings, which CloudFormation converts for an integer property
    // (as it does for the listener weights taken from the record).
    this.bounds = renderBounds(this, color, scaling, recorded, props.ecs ? Number : String);
    const requestsLabel = `${props.loadBalancer.loadBalancerFullName}/${props.targetGroup.targetGroupFullName}`;
    const { targets } = scaling;

    if (props.ecs) {
      const taskCount = props.ecs.service.autoScaleTaskCount({
        minCapacity: Token.asNumber(this.bounds.min),
        maxCapacity: Token.asNumber(this.bounds.max),
      });
      const target = taskCount.node.findChild('Target') as appscaling.ScalableTarget;
      const cfn = target.node.defaultChild as appscaling.CfnScalableTarget;
      // Scale-out and scheduled scaling are never suspended: a held color still grows with its load.
      cfn.suspendedState = {
        dynamicScalingInSuspended: this.bounds.scaleInSuspended,
        dynamicScalingOutSuspended: false,
        scheduledScalingSuspended: false,
      };
      this.scalableTarget = cfn;
      const track = (
        policyId: string,
        metric: appscaling.PredefinedMetric,
        targetValue: number,
        resourceLabel?: string,
      ) =>
        this.policies.push(
          new appscaling.TargetTrackingScalingPolicy(this, policyId, {
            scalingTarget: target,
            predefinedMetric: metric,
            resourceLabel,
            targetValue,
            scaleInCooldown: Duration.seconds(scaling.scaleInCooldownSeconds),
            scaleOutCooldown: Duration.seconds(scaling.scaleOutCooldownSeconds),
          }),
        );
      if (targets.requestsPerTarget !== undefined) {
        track(
          'Requests',
          appscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
          targets.requestsPerTarget,
          requestsLabel,
        );
      }
      if (targets.cpuPercent !== undefined) {
        track('Cpu', appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION, targets.cpuPercent);
      }
      if (targets.memoryPercent !== undefined) {
        track(
          'Memory',
          appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_MEMORY_UTILIZATION,
          targets.memoryPercent,
        );
      }
    } else if (props.asg) {
      const group = props.asg.group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
      group.minSize = Token.asString(this.bounds.min);
      group.maxSize = Token.asString(this.bounds.max);
      // EC2 Auto Scaling's target tracking has no cooldowns: it counts a new instance once it has warmed up
      // (the group's default instance warmup, instances.gracePeriodSeconds).
      const track = (
        policyId: string,
        metric: autoscaling.PredefinedMetric,
        targetValue: number,
        resourceLabel?: string,
      ) => {
        const policy = new autoscaling.TargetTrackingScalingPolicy(this, policyId, {
          autoScalingGroup: props.asg!.group,
          predefinedMetric: metric,
          resourceLabel,
          targetValue,
        });
        (policy.node.defaultChild as autoscaling.CfnScalingPolicy).addPropertyOverride(
          'TargetTrackingConfiguration.DisableScaleIn',
          this.bounds.scaleInSuspended,
        );
        this.policies.push(policy);
      };
      if (targets.requestsPerTarget !== undefined) {
        track(
          'Requests',
          autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
          targets.requestsPerTarget,
          requestsLabel,
        );
      }
      if (targets.cpuPercent !== undefined) {
        track('Cpu', autoscaling.PredefinedMetric.ASG_AVERAGE_CPU_UTILIZATION, targets.cpuPercent);
      }
    }
    // ALBRequestCountPerTarget needs the target group behind a listener of the load balancer when it is created.
    const requests = this.node.tryFindChild('Requests');
    if (requests) {
      requests.node.addDependency(props.targetGroup.loadBalancerAttached);
    }
  }
}

/**
 * The one mapping from the record to bounds (lambda/shared/scaling.ts `boundsFor`), in CloudFormation:
 * `<Color>CapacityAuto` = the record says `auto`; min = If(auto, If(live, minCount, 0), first number), max
 * likewise with the second. The record value is padded with ",0" before it is split, so that Fn::Select's index
 * is valid in the branch not taken too ("auto" → ["auto", "0"]; "4,20" → ["4", "20", "0"]).
 */
function renderBounds(
  scope: Construct,
  color: Color,
  scaling: ScalingConfig,
  recorded: RecordedScaling,
  literal: (n: number) => number | string,
): RenderedBounds {
  const Color = color === 'blue' ? 'Blue' : 'Green';
  const auto = new CfnCondition(Stack.of(scope), `${Color}CapacityAuto`, {
    expression: Fn.conditionEquals(recorded.capacity, AUTO_CAPACITY),
  });
  const numbers = Fn.split(',', Fn.join('', [recorded.capacity, ',0']));
  const bound = (index: 0 | 1, whenLive: number) =>
    Fn.conditionIf(
      auto.logicalId,
      Fn.conditionIf(recorded.live.logicalId, literal(whenLive), literal(0)),
      Fn.select(index, numbers),
    );
  return {
    auto,
    min: bound(0, scaling.minCount),
    max: bound(1, scaling.maxCount),
    scaleInSuspended: Fn.conditionIf(auto.logicalId, false, true),
  };
}
