/**
 * Auto scaling and releases (pure). Each color scales within bounds (ECS: its scalable target's min and max, with
 * Application Auto Scaling's scale-in suspension; EC2: its group's min and max). This module says which bounds a
 * color gets between releases, while a release holds it and after it; how the release record writes them (the
 * template renders each color's bounds from the record, so a `cdk deploy` never resets a release's); and the
 * target-tracking arithmetic, which the rehearsal's local scaler uses.
 *
 * - Between releases ("auto"): the live color scales within the configured min..max; the idle one is held at 0.
 * - Held by a release: a floor at the color's count when the hold began (nothing scales it in below what a
 *   rollback or the next step needs; on ECS scale-in is suspended outright), a ceiling at the configured max or
 *   the count, whichever is higher; scale-out still acts.
 * - Pinned: an idle color kept warm (`keepIdleWarm`), or left running by a stopped release: min = max = its count.
 */

/** The configured scaling (config `scaling`), as the release workflow needs it. */
export interface ScalingSettings {
  readonly minCount: number;
  readonly maxCount: number;
}

/** What a color's scaling is set to. */
export interface ColorBounds {
  readonly min: number;
  readonly max: number;
  /** No policy may scale the color in (ECS: DynamicScalingInSuspended; EC2: the floor alone does it). */
  readonly scaleInSuspended: boolean;
}

/** A color's scaling as it is now: its bounds and its count. */
export interface Capacity extends ColorBounds {
  /** The count the color is asked to run (ECS desiredCount, EC2 DesiredCapacity). */
  readonly desired: number;
}

/**
 * One color's bounds in the release record (`/bluegreen/<app>/<color>/capacity`): `auto` (live: the configured
 * min..max, idle: 0..0, scale-in free) or explicit bounds `<min>,<max>`, written while a release holds the color
 * or while it is pinned (scale-in suspended).
 */
export type RecordedCapacity = 'auto' | { readonly min: number; readonly max: number };

export const AUTO_CAPACITY = 'auto';

/** The largest count a bound may name (ECS allows 5,000 tasks per service; 1,000 is far beyond any color). */
export const MAX_BOUND = 1000;

export function formatRecordedCapacity(capacity: RecordedCapacity): string {
  return capacity === 'auto' ? AUTO_CAPACITY : `${capacity.min},${capacity.max}`;
}

/** Reads a record value back: undefined unless `auto` or `<min>,<max>` with 0 <= min <= max <= MAX_BOUND. */
export function parseRecordedCapacity(value: string): RecordedCapacity | undefined {
  if (value === AUTO_CAPACITY) {
    return 'auto';
  }
  const match = /^(\d{1,4}),(\d{1,4})$/.exec(value);
  if (!match) {
    return undefined;
  }
  const [min, max] = [Number(match[1]), Number(match[2])];
  return min <= max && max <= MAX_BOUND ? { min, max } : undefined;
}

/** The bounds a record value means for a color: `live` says whether the record names it the live color. */
export function boundsFor(recorded: RecordedCapacity, live: boolean, settings: ScalingSettings): ColorBounds {
  if (recorded === 'auto') {
    return live
      ? { min: settings.minCount, max: settings.maxCount, scaleInSuspended: false }
      : { min: 0, max: 0, scaleInSuspended: false };
  }
  return { min: recorded.min, max: recorded.max, scaleInSuspended: true };
}

/** Held by a release at `count`: nothing below it, scale-out up to the configured max (or `count`, if higher). */
export function heldAt(count: number, settings: ScalingSettings): RecordedCapacity {
  return { min: count, max: Math.max(count, settings.maxCount) };
}

/** An idle color at rest with `count` running: pinned there, or `auto` (held at 0) when it runs nothing. */
export function restingAt(count: number): RecordedCapacity {
  return count > 0 ? { min: count, max: count } : 'auto';
}

/** "4 (bounds 2..20, scale-in suspended)", for causes and `bluegreen status`. */
export function describeCapacity(capacity: Capacity): string {
  return (
    `${capacity.desired} (bounds ${capacity.min}..${capacity.max}` +
    `${capacity.scaleInSuspended ? ', scale-in suspended' : ''})`
  );
}

/**
 * Target tracking's arithmetic (what Application Auto Scaling and EC2 Auto Scaling compute): the count that
 * brings the metric per unit back to the target, `ceil(current * metric / target)`, never below 1 while there is
 * load, within the bounds; with scale-in suspended, never below the current count.
 *
 * @param current the units running now
 * @param metric the metric's value per unit now (requests per target per minute, CPU percent)
 * @param target the value the policy tracks
 */
export function targetTrackingCount(input: {
  readonly current: number;
  readonly metric: number;
  readonly target: number;
  readonly bounds: ColorBounds;
}): number {
  const { current, metric, target, bounds } = input;
  let wanted = current === 0 ? (metric > 0 ? 1 : 0) : Math.ceil((current * metric) / target);
  if (bounds.scaleInSuspended) {
    wanted = Math.max(wanted, current);
  }
  return Math.min(bounds.max, Math.max(bounds.min, wanted));
}
