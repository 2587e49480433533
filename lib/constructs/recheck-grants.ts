import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { COLORS } from '../../lambda/shared/release-record';
import { recordParameterArns } from '../record-stack';
import { ASG_FLEET_READS } from './asg-grants';
import type { ReleaseWorkflowProps } from './release-workflow';

/** The step functions these grants concern (the rest of the workflow's are granted in workflow-grants.ts). */
interface RecheckingSteps {
  readonly switch: lambda.Function;
  readonly watch: lambda.Function;
  readonly finish: lambda.Function;
  readonly abort: lambda.Function;
  readonly rollback: lambda.Function;
  readonly 'scale-down-old-color'?: lambda.Function;
}

/**
 * What the re-checks before irreversible acts take: every step that scales a color down, or declares the release
 * live, reads the production listener first (ELB Describe* calls have no resource-level permissions); the switch
 * reads the idle color again (fleet and target health), Finish and the scale-down before a contract the new
 * color's target health; Abort, and Finish once a contract ran, put all traffic on
 * a healthy color when the listener was changed under the release (the listener, the test rule, the record).
 */
export function grantRechecks(fns: RecheckingSteps, props: ReleaseWorkflowProps): void {
  const stack = Stack.of(fns.switch);
  const { traffic, config, colors } = props;
  const allow = (fn: lambda.Function, actions: string[], resources: string[]) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));

  const listenerReaders = [fns.watch, fns.finish, fns.abort, fns.rollback, fns['scale-down-old-color']];
  for (const fn of listenerReaders) {
    if (fn) {
      allow(fn, ['elasticloadbalancing:DescribeListeners'], ['*']);
    }
  }

  // The switch re-checks the idle color; Finish and the scale-down before a contract read the new color's targets
  // before the old color goes down.
  for (const fn of [fns.switch, fns.finish, fns['scale-down-old-color']]) {
    if (fn) {
      allow(fn, ['elasticloadbalancing:DescribeTargetHealth'], ['*']);
    }
  }
  if (config.platform === 'ecs') {
    allow(
      fns.switch,
      ['ecs:DescribeServices'],
      COLORS.map((c) => colors[c].ecs!.service.serviceArn),
    );
  } else {
    allow(fns.switch, ASG_FLEET_READS, ['*']);
  }

  // With migrations and no warm old color, Finish runs after the contract: the new color is the only one left.
  const finishRoutes = config.migrations !== undefined && !config.keepIdleWarm;
  for (const fn of finishRoutes ? [fns.abort, fns.finish] : [fns.abort]) {
    allow(fn, ['elasticloadbalancing:ModifyListener'], [traffic.productionListener.listenerArn]);
    allow(fn, ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]);
    allow(fn, ['ssm:PutParameter'], recordParameterArns(stack, props.record, { capacity: !!config.scaling }));
  }
}
