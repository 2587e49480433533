/**
 * Auto scaling during a release: lambda/shared/scaling.ts says which bounds a color gets; this moves them. Each
 * change sets the fleet's bounds and writes them to the record (which a `cdk deploy` renders) together: the record
 * only ever names the bounds the step is setting. The one exception is the new color before the deploy, whose
 * record says "held at the live count" first, so a deploy meanwhile never renders it at 0..0. Counts and bounds
 * move in one fleet call (deploy/restore with bounds) wherever a count changes, which keeps every ending step's
 * AWS calls within its Lambda's timeout (sdk-budget.ts).
 *
 * - Before the deploy (holdForDeploy, then the deploy with heldBounds): both colors held, the live one at its
 *   count now, the new one deployed at that count and held there in the same move.
 * - Before the switch (catchUpWithLive): if the live color scaled out since, the new color's floor rises to match
 *   and the switch waits for it (CapacityCatchingUp, retried by the state machine).
 * - During the bake (keepRollbackTargetAtPar, each check): if the new color scaled out under all the traffic, the
 *   old color's floor rises to match, so a rollback finds the capacity it needs.
 * - Every ending: the live color back to `auto` (resumeLive); the other one at 0, pinned warm, or put back to what
 *   it was (the callers, under the traffic guard, with settle()).
 */
import { BluegreenError, CATCH_UP_SECONDS, releaseError } from '../shared/errors';
import { CRASH_LOOP_TASKS } from '../shared/decisions';
import type { FleetStatus, TargetHealth, WorkflowDeps } from '../shared/ports';
import type { Release } from '../shared/release';
import type { Color } from '../shared/release-record';
import { allTrafficTo } from './traffic-guard';
import {
  boundsFor,
  describeCapacity,
  heldAt,
  restingAt,
  type Capacity,
  type ColorBounds,
  type RecordedCapacity,
  type ScalingSettings,
} from '../shared/scaling';

type Deps = Pick<WorkflowDeps, 'fleet' | 'record'>;

/** The color's scaling now; ScalingNotConfigured when the stack says it scales but the fleet has none. */
export async function capacityOf(color: Color, deps: Pick<WorkflowDeps, 'fleet'>): Promise<Capacity> {
  const capacity = await deps.fleet.capacity(color);
  if (!capacity) {
    throw new BluegreenError(
      'ScalingNotConfigured',
      `The release settings configure auto scaling (config "scaling"), but ${color} has no scaling bounds: the ` +
        'stack was not deployed since scaling was added. Deploy it (npx cdk deploy --all), then release again.',
    );
  }
  return capacity;
}

/**
 * Sets `color`'s bounds to what `recorded` means for it and records them, together; `live` says whether the record
 * names it the live color.
 */
export async function settle(
  color: Color,
  recorded: RecordedCapacity,
  live: boolean,
  deps: Deps,
  settings: ScalingSettings,
): Promise<void> {
  await Promise.all([
    deps.fleet.setCapacity(color, boundsFor(recorded, live, settings)),
    deps.record.writeCapacity(color, recorded),
  ]);
}

/**
 * Before the deploy: the live color held at its count now (no scale-in below it until the release ends; scale-out
 * still acts), and the record holding the new color at that count (the deploy sets its bounds: heldBounds).
 * Returns the count: the live color's CURRENT count, never the configured one.
 */
export async function holdForDeploy(
  release: Release,
  deps: Deps,
  settings: ScalingSettings,
): Promise<number> {
  const live = await capacityOf(release.live, deps);
  const count = Math.max(live.desired, 1);
  await Promise.all([
    settle(release.live, heldAt(count, settings), true, deps, settings),
    // The record first: a deploy meanwhile renders the new color's final bounds, never 0..0.
    deps.record.writeCapacity(release.idle, heldAt(count, settings)),
  ]);
  return count;
}

/** The bounds of a color held by a release at `count` (what the new color is deployed with). */
export function heldBounds(count: number, settings: ScalingSettings): ColorBounds {
  return boundsFor(heldAt(count, settings), false, settings);
}

/**
 * Before all traffic moves onto the new color: it must run at least what the live color runs now. When the live
 * color scaled out since the deploy, the new color's floor rises to that count (the platform starts the tasks at
 * once). Returns the count the new color must run.
 */
export async function catchUpWithLive(
  release: Release,
  deps: Deps,
  settings: ScalingSettings,
): Promise<{ readonly count: number; readonly raised?: string }> {
  const [live, idle] = await Promise.all([capacityOf(release.live, deps), capacityOf(release.idle, deps)]);
  const count = Math.max(release.liveCount, live.desired);
  if (idle.min >= count) {
    return { count };
  }
  await settle(release.idle, heldAt(count, settings), false, deps, settings);
  return {
    count,
    raised:
      `${release.live} scaled out to ${count} since the deploy (from ${release.liveCount}); ${release.idle} ` +
      `was at ${describeCapacity(idle)} and now runs at least ${count}`,
  };
}

/**
 * During the bake, the old color is the rollback's target: a rollback puts all production traffic back on it at
 * once. When the new color, which takes all of it, scaled out beyond the old color's floor, that floor rises to the
 * new color's count (the platform starts the tasks at once; scale-out still acts, scale-in stays suspended). It
 * never lowers during the release: a load that went down may come back before the bake ends. Returns what it did,
 * or undefined when the old color's floor already covers the new color's count.
 */
export async function keepRollbackTargetAtPar(
  release: Release,
  execution: string,
  deps: Deps & Pick<WorkflowDeps, 'router' | 'lock'>,
  settings: ScalingSettings,
): Promise<string | undefined> {
  const [old, serving] = await Promise.all([capacityOf(release.live, deps), capacityOf(release.idle, deps)]);
  if (old.min >= serving.desired) {
    return undefined;
  }
  // Fresh reads just before the act: a check still running after the bake ended (a Parallel branch stopped under
  // it, a rollback already under way, the release over) must not hold the old color again.
  const [weights, holder] = await Promise.all([deps.router.productionWeights(), deps.lock.holder()]);
  if (!allTrafficTo(weights, release.idle) || holder?.owner !== execution) {
    return undefined;
  }
  await settle(release.live, heldAt(serving.desired, settings), false, deps, settings);
  return (
    `${release.idle} scaled out to ${serving.desired} under all production traffic; ${release.live}, the ` +
    `rollback's target, was at ${describeCapacity(old)} and now runs at least ${serving.desired}`
  );
}

/**
 * The new color is short of `count` only because it is still scaling out: the release's revision, a rollout ECS
 * has not given up on, no crash loop, tasks still to run or targets still starting (and no target failing). The
 * switch waits for it rather than calling it not ready.
 */
export function stillScalingOut(
  status: FleetStatus,
  health: TargetHealth,
  revision: string | undefined,
  count: number,
): boolean {
  return (
    status.revision === revision &&
    status.rollout !== 'FAILED' &&
    status.failedTasks < CRASH_LOOP_TASKS &&
    health.notHealthy === (health.starting ?? 0) &&
    (status.running < Math.max(count, status.desired) || health.healthy < count)
  );
}

/** The error the switch fails with while the new color catches up (retried by the state machine). */
export function catchingUp(
  release: Release,
  status: FleetStatus,
  health: TargetHealth,
  count: number,
  raised?: string,
): Error {
  const shifted = release.shift !== undefined && release.shift.step >= 0;
  const minutes = Math.ceil(CATCH_UP_SECONDS / 60);
  return releaseError(
    shifted ? 'CapacityCatchingUpDuringShift' : 'CapacityCatchingUp',
    `${raised ? `${raised}. ` : ''}${release.idle} runs ${status.running} of the ${count} tasks it needs before it ` +
      `takes all production traffic (as many as ${release.live} runs now), ${health.healthy} of its targets healthy. ` +
      'The switch waits for them, tried ' +
      `again for up to ${minutes} minutes; if they never start (no room in the cluster or subnets, a task limit), ` +
      (shifted
        ? `the release rolls back and all traffic goes back to ${release.live}.`
        : `the release aborts and traffic stays on ${release.live}.`),
  );
}

/**
 * An ending: `color`, the live color now, back to the configured bounds with scale-in free (`auto`). Done from a
 * fresh read of its bounds.
 */
export async function resumeLive(color: Color, deps: Deps, settings: ScalingSettings): Promise<void> {
  await settle(color, 'auto', true, deps, settings);
}

/**
 * A color that runs the older version down (after a successful release, before a contract): with auto scaling its
 * bounds (0..0, `auto` as the idle color) and its count in one move, and the record with them.
 */
export async function scaleOldDown(
  color: Color,
  deps: Deps,
  scaling: ScalingSettings | undefined,
): Promise<void> {
  if (!scaling) {
    await deps.fleet.restore(color, 0);
    return;
  }
  await Promise.all([
    deps.fleet.restore(color, 0, undefined, boundsFor('auto', false, scaling)),
    deps.record.writeCapacity(color, 'auto'),
  ]);
}

/**
 * An idle color pinned at `count` (kept warm: min = max = count), its count set in the same move, and recorded.
 */
export async function pinAt(
  color: Color,
  count: number,
  deps: Deps,
  scaling: ScalingSettings,
): Promise<void> {
  await Promise.all([
    deps.fleet.restore(color, count, undefined, boundsFor(restingAt(count), false, scaling)),
    deps.record.writeCapacity(color, restingAt(count)),
  ]);
}

/**
 * An ending's safety net for the color not live: still held by the release (its scale-in suspended with room
 * above its floor, e.g. the old color a failed contract's scale-down left running), it is pinned at the count it
 * runs. Says what it did, or nothing.
 */
export async function restIfHeld(color: Color, deps: Deps, settings: ScalingSettings): Promise<string> {
  const now = await capacityOf(color, deps);
  if (!now.scaleInSuspended || now.min === now.max) {
    return '';
  }
  await settle(color, restingAt(now.desired), false, deps, settings);
  return `${color} was still held by the release: it is pinned at its ${now.desired} task(s)`;
}

/**
 * `bluegreen rollback` between releases moved all traffic to `to`: it scales within the configured bounds again,
 * and `from`, now idle, is pinned at the count it runs (warm: the operator may move back).
 */
export async function afterManualMove(
  to: Color,
  from: Color,
  deps: Deps,
  settings: ScalingSettings,
): Promise<string> {
  const count = (await capacityOf(from, deps)).desired;
  await Promise.all([pinAt(from, count, deps, settings), resumeLive(to, deps, settings)]);
  return `${to} scales within ${settings.minCount}..${settings.maxCount}; ${from} is pinned at its ${count} task(s)`;
}
