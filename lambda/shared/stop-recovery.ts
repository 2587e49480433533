/**
 * Where production traffic goes when a release ends without its own ending (stopped, timed out, or failed in a
 * state whose ending step did not run): a pure decision from fresh observations, taken by the Stopped step.
 *
 * A release that did not finish is undone when it can be: if the color that was live when it started (the old
 * color) is still fit to serve, all production traffic goes back to it and the record says so, as an Abort or a
 * Roll back would have done. If the old color cannot serve (scaled down after the bake, lost its tasks) and
 * traffic is all on a color that can, traffic stays. Otherwise nothing is moved, and the cause says why.
 *
 * A release that had gone live (it failed after its bake, in Finish) keeps its traffic while the color it is on
 * can serve.
 *
 * Fit to serve: at least one registered target, every target healthy, and none of the color's alarms in ALARM.
 * (A release that never got past Prepare changed nothing: the Stopped step leaves it alone without asking here.)
 */
import { COLORS, type Color } from './release-record';
import { describeTraffic, routedTraffic, type TrafficWeights } from './traffic';

/** One color as the Stopped step observed it just now. */
export interface ColorCondition {
  readonly healthy: number;
  readonly notHealthy: number;
  readonly problems: readonly string[];
  /** Its alarms in ALARM now (names). */
  readonly alarms: readonly string[];
}

export type StopRecovery =
  /** Nothing moves; `why` is empty when there is nothing to say (traffic and record already on the old color). */
  | { readonly act: 'none'; readonly why: string }
  | { readonly act: 'route'; readonly to: Color; readonly why: string };

export function fitToServe(c: ColorCondition): boolean {
  return c.healthy >= 1 && c.notHealthy === 0 && c.alarms.length === 0;
}

/** "blue: 2 of 2 targets healthy", "green: 0 of 2 targets healthy (…); alarm shop-green-5xx in ALARM". */
export function describeCondition(color: Color, c: ColorCondition): string {
  const problems = c.problems.length > 0 ? ` (${c.problems.join('; ')})` : '';
  const alarms =
    c.alarms.length > 0
      ? `; ${c.alarms.length === 1 ? 'alarm' : 'alarms'} ${c.alarms.join(', ')} in ALARM`
      : '';
  return `${color}: ${c.healthy} of ${c.healthy + c.notHealthy} targets healthy${problems}${alarms}`;
}

export function recoveryAfterStop(observed: {
  readonly weights: TrafficWeights;
  readonly recordedLive: Color;
  readonly condition: Readonly<Record<Color, ColorCondition>>;
  /** The release as its last state saw it: the color live when it started. */
  readonly release: { readonly live: Color };
  /**
   * The release had gone live (its bake passed; it failed in its Finish or in reporting its contract): traffic
   * stays on the color it is on while that color can serve.
   */
  readonly wentLive?: boolean;
}): StopRecovery {
  const { weights, recordedLive, condition, release } = observed;
  const routed = routedTraffic(weights);
  const conditions = COLORS.map((c) => describeCondition(c, condition[c])).join('; ');
  if (!release) {
    return {
      act: 'none',
      why: 'The release never got past Prepare: it changed nothing, and nothing is moved.',
    };
  }
  const old = release.live;
  const onOld = routed.kind === 'live' && routed.color === old;
  if (observed.wentLive && routed.kind === 'live' && fitToServe(condition[routed.color])) {
    return {
      act: 'none',
      why: `The release had gone live: ${describeTraffic(routed)}, which can serve (${conditions}).`,
    };
  }
  if (fitToServe(condition[old])) {
    return onOld && recordedLive === old
      ? { act: 'none', why: '' } // nothing to undo: the cause says where traffic and record stand anyway
      : {
          act: 'route',
          to: old,
          why:
            `The release did not finish, and ${old}, live before it, can serve (${conditions}): production ` +
            `traffic (${describeTraffic(routed)}) goes back to ${old}.`,
        };
  }
  if (routed.kind === 'live' && fitToServe(condition[routed.color])) {
    return {
      act: 'none',
      why: `${old}, live before the release, cannot serve; ${describeTraffic(routed)}, which can (${conditions}).`,
    };
  }
  return {
    act: 'none',
    why:
      `Production traffic (${describeTraffic(routed)}) is not on a color fit to serve, and ${old}, live before the ` +
      `release, cannot take it either (${conditions}): nothing is moved. Fix the new color or scale ${old} back ` +
      'up, then route traffic by hand (bluegreen status shows both).',
  };
}
