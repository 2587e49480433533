import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  ElasticLoadBalancingV2Client,
  type ElasticLoadBalancingV2ClientConfig,
  type TargetGroupStickinessConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { releaseError, routerInvalid } from '../shared/errors';
import { ALB_MAX_STICKY_SECONDS, isStickySeconds } from '../shared/strategy';
import type { TargetHealth, TrafficRouter } from '../shared/ports';
import { COLORS, type Color } from '../shared/release-record';
import type { TrafficWeights } from '../shared/traffic';

export { ALB_MAX_STICKY_SECONDS };

export interface AlbTrafficRouterProps {
  readonly productionListenerArn: string;
  readonly targetGroupArns: Readonly<Record<Color, string>>;
  /** The test listener's rule that forwards (secret header) requests to the idle color. */
  readonly testRuleArn?: string;
}

/** The production listener of the Application Load Balancer: the truth about where users go. */
export class AlbTrafficRouter implements TrafficRouter {
  static create(config: ElasticLoadBalancingV2ClientConfig, props: AlbTrafficRouterProps): AlbTrafficRouter {
    return new AlbTrafficRouter(new ElasticLoadBalancingV2Client(config), props);
  }

  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly props: AlbTrafficRouterProps,
  ) {}

  async productionWeights(): Promise<TrafficWeights> {
    const arn = this.props.productionListenerArn;
    const out = await this.elb.send(new DescribeListenersCommand({ ListenerArns: [arn] }));
    const forward = out.Listeners?.[0]?.DefaultActions?.find((a) => a.Type === 'forward');
    if (!forward) {
      throw routerInvalid(
        `The production listener ${arn} has no forward action; bluegreen cannot tell which color is live.`,
      );
    }
    // A forward action is either weighted (ForwardConfig) or a single target group (TargetGroupArn).
    const groups = forward.ForwardConfig?.TargetGroups ?? [
      { TargetGroupArn: forward.TargetGroupArn, Weight: 1 },
    ];
    const weights: Record<Color, number> = { blue: 0, green: 0 };
    for (const group of groups) {
      const color = COLORS.find((c) => this.props.targetGroupArns[c] === group.TargetGroupArn);
      if (!color) {
        throw routerInvalid(
          `The production listener ${arn} forwards to ${group.TargetGroupArn}, which is neither the blue nor the ` +
            'green target group of this app. Point it back at one of them.',
        );
      }
      weights[color] += group.Weight ?? 1;
    }
    return weights;
  }

  /**
   * One ModifyListener: the weights and the stickiness together, so no request ever sees one without the other.
   * With `stickySeconds`, ALB's group-level stickiness (a cookie) keeps a client on the target group it first
   * reached for that long; without it, stickiness is off (a sticky client would not follow a switch).
   */
  async setProductionWeights(
    weights: TrafficWeights,
    options: { readonly stickySeconds?: number } = {},
  ): Promise<void> {
    const { stickySeconds } = options;
    if (stickySeconds !== undefined && !isStickySeconds(stickySeconds)) {
      throw releaseError(
        'InvalidInput',
        `Stickiness of ${stickySeconds} s is outside what ALB accepts (a whole number of seconds from 1 to ` +
          `${ALB_MAX_STICKY_SECONDS}, 7 days). The production listener was not changed.`,
      );
    }
    const stickiness: TargetGroupStickinessConfig =
      stickySeconds === undefined ? { Enabled: false } : { Enabled: true, DurationSeconds: stickySeconds };
    await this.elb.send(
      new ModifyListenerCommand({
        ListenerArn: this.props.productionListenerArn,
        DefaultActions: [this.forward(weights, stickiness)],
      }),
    );
  }

  async setTestWeights(weights: TrafficWeights): Promise<void> {
    if (!this.props.testRuleArn) {
      throw routerInvalid('No test listener rule ARN was given to this router.');
    }
    await this.elb.send(
      new ModifyRuleCommand({ RuleArn: this.props.testRuleArn, Actions: [this.forward(weights)] }),
    );
  }

  async targetHealth(color: Color): Promise<TargetHealth> {
    const out = await this.elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: this.props.targetGroupArns[color] }),
    );
    const descriptions = out.TargetHealthDescriptions ?? [];
    const healthy = descriptions.filter((d) => d.TargetHealth?.State === 'healthy').length;
    const problems = descriptions
      .filter((d) => d.TargetHealth?.State !== 'healthy')
      .map(
        (d) =>
          `${d.Target?.Id ?? '?'}:${d.Target?.Port ?? '?'} ${d.TargetHealth?.State ?? 'unknown'}` +
          (d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ''),
      );
    const starting = descriptions.filter((d) => d.TargetHealth?.State === 'initial').length;
    return { healthy, notHealthy: descriptions.length - healthy, starting, problems };
  }

  /** A weighted forward to both colors; by default no stickiness, so a switch moves every new request. */
  private forward(
    weights: TrafficWeights,
    stickiness: TargetGroupStickinessConfig = { Enabled: false },
  ): Action {
    return {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: COLORS.map((c) => ({
          TargetGroupArn: this.props.targetGroupArns[c],
          Weight: weights[c],
        })),
        TargetGroupStickinessConfig: stickiness,
      },
    };
  }
}
