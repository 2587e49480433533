/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the load balancer. The production listener's weights and
 * stickiness and the test rule's weights, which ModifyListener and ModifyRule change, and each color's target health.
 */
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Color } from '../../lambda/shared/release-record';
import type { MockAws } from './mock-aws';
import { LISTENER, TG } from './mock-aws-names';

/** DescribeListeners, ModifyListener, ModifyRule and DescribeTargetHealth over the weights and services. */
export function mockTraffic(aws: MockAws): void {
  aws.elb.on(DescribeListenersCommand).callsFake(() => ({
    Listeners: [{ ListenerArn: LISTENER, DefaultActions: [forward(aws.weights, aws.stickySeconds)] }],
  }));
  aws.elb.on(ModifyListenerCommand).callsFake((input: { DefaultActions: Action[] }) => {
    const action = input.DefaultActions[0];
    aws.weights = weightsOf(action);
    // As ALB does: the stickiness the change gives (none when it gives no config).
    const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
    aws.stickySeconds = sticky?.Enabled ? sticky.DurationSeconds : undefined;
    return {};
  });
  aws.elb.on(ModifyRuleCommand).callsFake((input: { Actions: Action[] }) => {
    aws.testWeights = weightsOf(input.Actions[0]);
    return {};
  });
  aws.elb.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string }) => {
    const color: Color = input.TargetGroupArn === TG.blue ? 'blue' : 'green';
    const running = aws.services[color].running;
    const healthy = aws.healthy[color] ?? running;
    return {
      TargetHealthDescriptions: Array.from({ length: running }, (_, i) => ({
        Target: { Id: `10.0.1.${i + 10}`, Port: 8080 },
        TargetHealth:
          i < healthy ? { State: 'healthy' } : { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' },
      })),
    };
  });
}

function forward(weights: Record<Color, number>, stickySeconds?: number): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: TG.blue, Weight: weights.blue },
        { TargetGroupArn: TG.green, Weight: weights.green },
      ],
      TargetGroupStickinessConfig:
        stickySeconds === undefined ? { Enabled: false } : { Enabled: true, DurationSeconds: stickySeconds },
    },
  };
}

function weightsOf(action: Action): Record<Color, number> {
  const groups = action.ForwardConfig?.TargetGroups ?? [];
  return {
    blue: groups.find((g) => g.TargetGroupArn === TG.blue)?.Weight ?? 0,
    green: groups.find((g) => g.TargetGroupArn === TG.green)?.Weight ?? 0,
  };
}
