/**
 * The rehearsal's stand-in for Application Auto Scaling's target tracking on requests per target
 * (`ALBRequestCountPerTarget`): every `intervalSeconds` it looks at each color's traffic through the local load
 * balancer and sets the color's count through the fleet, with the same arithmetic as AWS (`targetTrackingCount`,
 * lambda/shared/scaling.ts), within the color's bounds as the fleet has them at that moment. It changes counts,
 * never bounds: bounds are the release workflow's (Fleet.setCapacity) and the stack's.
 *
 * - The metric: requests the router forwarded to the color (both listeners, as a target group counts them) over
 *   the last `windowSeconds`, per second and per healthy target. A color with no healthy target has no data
 *   point (RequestCountPerTarget divides by them), and target tracking does nothing without data: no action.
 * - Cooldowns, as Application Auto Scaling documents them: after a scale-out, no other scale-out for
 *   `scaleOutCooldownSeconds`; after a scale-in, no other scale-in for `scaleInCooldownSeconds`, but a scale-out
 *   acts at once and ends that cooldown.
 * - Scale-in suspended (a color a release holds, or a pinned one): never below the color's count.
 */
import type { Color } from '../lambda/shared/release-record';
import { targetTrackingCount, type Capacity } from '../lambda/shared/scaling';
import type { LocalFleet } from './fleet';
import type { LocalRouter } from './router';

export interface ScalingPolicy {
  /** The target: requests per second per task (ALB's is per target per minute; the rehearsal works in seconds). */
  readonly requestsPerTaskPerSecond: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  /** The metric's period. */
  readonly windowSeconds: number;
}

/** What one color's policy does now, from what it sees. */
export type ScalingDecision =
  | { readonly action: 'none'; readonly why: string }
  | { readonly action: 'out' | 'in'; readonly count: number; readonly why: string };

/** The cooldowns' state for one color: when it last scaled out and in (ms). */
export interface Cooldowns {
  readonly lastOut?: number;
  readonly lastIn?: number;
}

/**
 * One color's target-tracking decision (pure): `requests` forwarded to it in the policy's window, `healthy`
 * targets, its scaling as the fleet has it now, at `now` (ms) after the activities in `cooldowns`.
 */
export function decide(input: {
  readonly capacity: Capacity;
  readonly healthy: number;
  readonly requests: number;
  readonly policy: ScalingPolicy;
  readonly cooldowns: Cooldowns;
  readonly now: number;
}): ScalingDecision {
  const { capacity, healthy, requests, policy, cooldowns, now } = input;
  if (healthy === 0) {
    return { action: 'none', why: 'no healthy target: no data' };
  }
  const metric = requests / policy.windowSeconds / healthy;
  const count = targetTrackingCount({
    current: capacity.desired,
    metric,
    target: policy.requestsPerTaskPerSecond,
    bounds: capacity,
  });
  const why =
    `${metric.toFixed(1)} requests/s per task over ${healthy} healthy, target ` +
    `${policy.requestsPerTaskPerSecond}, bounds ${capacity.min}..${capacity.max}` +
    `${capacity.scaleInSuspended ? ', scale-in suspended' : ''}`;
  if (count > capacity.desired) {
    const coolingUntil = (cooldowns.lastOut ?? -Infinity) + policy.scaleOutCooldownSeconds * 1000;
    return now < coolingUntil
      ? { action: 'none', why: `scale-out cooldown (${why})` }
      : { action: 'out', count, why };
  }
  if (count < capacity.desired) {
    const lastIn = cooldowns.lastIn ?? -Infinity;
    // A scale-out since the last scale-in ended that scale-in's cooldown.
    const cooling =
      lastIn > (cooldowns.lastOut ?? -Infinity) && now < lastIn + policy.scaleInCooldownSeconds * 1000;
    return cooling ? { action: 'none', why: `scale-in cooldown (${why})` } : { action: 'in', count, why };
  }
  return { action: 'none', why: `on target (${why})` };
}

export class LocalScaler {
  private readonly cooldowns: Record<Color, Cooldowns> = { blue: {}, green: {} };
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private ticking?: Promise<void>;
  /** Evaluations that failed, oldest first. */
  readonly failures: Error[] = [];

  constructor(
    private readonly fleet: LocalFleet,
    private readonly router: LocalRouter,
    private readonly policy: ScalingPolicy,
    private readonly intervalSeconds = 0.5,
  ) {}

  /** Acts every `intervalSeconds` until stopped (one evaluation at a time). */
  start(): void {
    this.stopped = false;
    const loop = () => {
      this.ticking = this.tick().then(
        () => this.next(loop),
        (e: Error) => {
          // A scaling activity that failed (AWS shows it in the scalable target's activities): the next one retries.
          this.failures.push(e);
          this.next(loop);
        },
      );
    };
    this.timer = setTimeout(loop, this.intervalSeconds * 1000);
  }

  private next(loop: () => void): void {
    if (!this.stopped) {
      this.timer = setTimeout(loop, this.intervalSeconds * 1000);
    }
  }

  /** Stops acting; waits for an evaluation under way (its scaling included). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  /** One evaluation of both colors' policies at `now`: what each decided (and did). */
  async tick(now = Date.now()): Promise<Record<Color, ScalingDecision>> {
    const decisions = {} as Record<Color, ScalingDecision>;
    for (const color of ['blue', 'green'] as const) {
      const { healthy } = await this.router.targetHealth(color);
      // Read together, in one turn, with the scaling below: the bounds acted on are the ones just read.
      const capacity = this.fleet.scaling(color);
      if (!capacity) {
        decisions[color] = { action: 'none', why: 'no auto scaling' };
        continue;
      }
      const { requests } = this.router.metrics(color, this.policy.windowSeconds * 1000, now);
      const decision = decide({
        capacity,
        healthy,
        requests,
        policy: this.policy,
        cooldowns: this.cooldowns[color],
        now,
      });
      decisions[color] = decision;
      if (decision.action !== 'none') {
        this.cooldowns[color] = {
          ...this.cooldowns[color],
          ...(decision.action === 'out' ? { lastOut: now } : { lastIn: now }),
        };
        await this.fleet.scaleTo(color, decision.count, `scale-${decision.action}: ${decision.why}`);
      }
    }
    return decisions;
  }
}
