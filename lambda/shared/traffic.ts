/**
 * Pure decisions about traffic: which color the production listener really sends users to, and whether that
 * agrees with the release record. No AWS here; the adapters feed these functions.
 */
import { COLORS, type Color } from './release-record';

/** Share of production traffic per color, as the listener's weighted forward action says (0-999 each). */
export type TrafficWeights = Readonly<Record<Color, number>>;

export type RoutedTraffic =
  | { readonly kind: 'live'; readonly color: Color }
  | { readonly kind: 'split'; readonly weights: TrafficWeights }
  | { readonly kind: 'none' };

/** Where production traffic goes: all of it to one color, split between both, or nowhere. */
export function routedTraffic(weights: TrafficWeights): RoutedTraffic {
  const receiving = COLORS.filter((c) => weights[c] > 0);
  if (receiving.length === 0) {
    return { kind: 'none' };
  }
  return receiving.length === 1 ? { kind: 'live', color: receiving[0] } : { kind: 'split', weights };
}

export function describeTraffic(traffic: RoutedTraffic): string {
  switch (traffic.kind) {
    case 'live':
      return `all production traffic to ${traffic.color}`;
    case 'split':
      return `production traffic split ${COLORS.map((c) => `${c} ${percent(traffic.weights, c)}%`).join(' / ')}`;
    case 'none':
      return 'no production traffic to either color (both weights are 0)';
  }
}

export interface Drift {
  readonly recorded: Color;
  readonly routed: RoutedTraffic;
  /** Both values and how to reconcile them; never a guess at which one is right. */
  readonly message: string;
}

/**
 * The record and the listener disagree when the listener does not send all traffic to the recorded color, or
 * (given `recordedWeights`, a gradual shift's split as the record holds it) the same shares as the record.
 * Returns undefined when they agree.
 */
export function findDrift(
  recorded: Color,
  weights: TrafficWeights,
  recordParameter: string,
  recordedWeights?: TrafficWeights,
): Drift | undefined {
  const routed = routedTraffic(weights);
  if (routed.kind === 'live' && routed.color === recorded) {
    return undefined;
  }
  if (
    routed.kind === 'split' &&
    recordedWeights &&
    routedTraffic(recordedWeights).kind === 'split' &&
    sameWeights(weights, recordedWeights)
  ) {
    return undefined;
  }
  const fixRecord =
    routed.kind === 'live'
      ? `if ${routed.color} is healthy and meant to be live, record it: aws ssm put-parameter --name ${recordParameter} --value ${routed.color} --overwrite; `
      : '';
  return {
    recorded,
    routed,
    message:
      `Drift: the release record ${recordParameter} says ${recorded} is live, but the production listener sends ` +
      `${describeTraffic(routed)}. To reconcile: ${fixRecord}otherwise point the production listener back ` +
      `at ${recorded} (weight 100, the other color 0). bluegreen will not guess which one is right.`,
  };
}

function percent(weights: TrafficWeights, color: Color): number {
  const total = weights.blue + weights.green;
  return total === 0 ? 0 : Math.round((weights[color] * 100) / total);
}

/** True when both send the same shares of production traffic to each color (900/100 and 9/1 do). */
export function sameWeights(a: TrafficWeights, b: TrafficWeights): boolean {
  const ra = routedTraffic(a);
  const rb = routedTraffic(b);
  if (ra.kind !== rb.kind) {
    return false;
  }
  return a.blue * (b.blue + b.green) === b.blue * (a.blue + a.green);
}
