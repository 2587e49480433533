/**
 * The production listener is the truth, and it can change under a release: a `cdk deploy` whose change set was
 * created before the switch sets the weights it resolved from SSM then; an operator runs modify-listener. So the
 * release re-reads it before every act users would feel: each bake check, declaring success, and every scale-down.
 * No color that has production weight is ever scaled down (or moved off its revision): `scaleUnlessServing` is
 * the one way the workflow does that.
 */
import { BluegreenError, ReleaseErrors } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import type { Color } from '../shared/release-record';
import { describeTraffic, routedTraffic, type TrafficWeights } from '../shared/traffic';

/** Who moves a listener under a release, for causes. */
export const LISTENER_CHANGED_BY =
  'a cdk deploy whose change set was created before the switch (it sets the listener weights it resolved from ' +
  'SSM then), or an operator (aws elbv2 modify-listener)';

export function trafficMoved(message: string): BluegreenError {
  return new BluegreenError(ReleaseErrors.TrafficMovedDuringRelease, message);
}

/** True when the listener sends all production traffic to `color`. */
export function allTrafficTo(weights: TrafficWeights, color: Color): boolean {
  const routed = routedTraffic(weights);
  return routed.kind === 'live' && routed.color === color;
}

/** What the listener does, for causes ("all production traffic to blue", "split blue 50% / green 50%"). */
export function listenerSays(weights: TrafficWeights): string {
  return describeTraffic(routedTraffic(weights));
}

/**
 * Runs `act` (which scales `color` down, or puts it back on an older revision) only if a fresh read of the
 * production listener gives `color` no production weight; otherwise throws TrafficMovedDuringRelease, and `act`
 * does not run.
 */
export async function scaleUnlessServing<T>(
  color: Color,
  deps: Pick<WorkflowDeps, 'router'>,
  what: string,
  act: () => Promise<T>,
): Promise<T> {
  const weights = await deps.router.productionWeights();
  if (weights[color] > 0) {
    throw trafficMoved(
      `Refused to ${what}: the production listener, read just now, sends ${listenerSays(weights)}, so ${color} ` +
        `serves users. It was changed under the release (${LISTENER_CHANGED_BY}).`,
    );
  }
  return act();
}

/**
 * The new color must still serve before the old one goes down or success is declared: a fresh read of its target
 * health. None healthy → UnhealthyAfterSwitch (the state machine rolls back to the old color, still warm).
 */
export async function requireServing(
  color: Color,
  deps: Pick<WorkflowDeps, 'router'>,
  before: string,
): Promise<void> {
  const health = await deps.router.targetHealth(color);
  if (health.healthy < 1) {
    throw new BluegreenError(
      'UnhealthyAfterSwitch',
      `${color} takes all production traffic but has no healthy target now (${health.notHealthy} not healthy` +
        `${health.problems.length > 0 ? `: ${health.problems.join('; ')}` : ''}), read just before ${before}: ` +
        'it lost its tasks after the bake, so the release is rolled back to the old color, still warm.',
    );
  }
}
