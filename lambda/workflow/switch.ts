/**
 * Switch: one change of the production listener to the idle color, then the record follows. Every write sets an
 * absolute value, so a retry after a partial failure ends in the same state. Validation may be a day old (the
 * manual gate waits), so the idle color is checked again just before: IdleNotReady if it changed since.
 */
import { idleNotReadyBecause } from '../shared/decisions';
import { releaseError } from '../shared/errors';
import type { FleetStatus, TargetHealth, WorkflowDeps } from '../shared/ports';
import { requireRelease, type Release, type ReleaseState, type WorkflowSettings } from '../shared/release';
import { otherColor, type Color } from '../shared/release-record';
import { sameWeights, type TrafficWeights } from '../shared/traffic';
import { catchingUp, catchUpWithLive, stillScalingOut } from './capacity';
import { LISTENER_CHANGED_BY, listenerSays, trafficMoved } from './traffic-guard';

/** All traffic to `color`. */
export function allTo(color: Color): TrafficWeights {
  return color === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
}

/** Where the listener should be now: the current shift step's weights, or all on the old color before. */
export function expectedWeights(release: Release): TrafficWeights {
  return release.shift?.weights ?? allTo(release.live);
}

/**
 * The one way traffic moves, for the switch, the rollback and `bluegreen rollback`: the production listener to
 * `to`, the test listener's rule to the other color, then the record (and, when given, a color's image).
 */
export async function routeAllTo(
  to: Color,
  deps: Pick<WorkflowDeps, 'router' | 'record'>,
  image?: { color: Color; image: string },
): Promise<void> {
  await deps.router.setProductionWeights(allTo(to));
  await deps.router.setTestWeights(allTo(otherColor(to)));
  await deps.record.write(image ? { liveColor: to, image } : { liveColor: to });
}

/** The idle color as it is now: its service's rollout of the release's revision, and its targets. */
export async function observeIdle(
  release: Release,
  deps: Pick<WorkflowDeps, 'fleet' | 'router'>,
): Promise<{ status: FleetStatus; health: TargetHealth }> {
  const [status, health] = await Promise.all([
    deps.fleet.describe(release.idle, release.revision),
    deps.router.targetHealth(release.idle),
  ]);
  return { status, health };
}

/**
 * Why the idle color is not ready, re-checked now, for the release's revision with `count` tasks (the live
 * color's count at the deploy unless given).
 */
export async function idleNotReadyNow(
  release: Release,
  deps: Pick<WorkflowDeps, 'fleet' | 'router'>,
  count = release.liveCount,
): Promise<string | undefined> {
  const { status, health } = await observeIdle(release, deps);
  return idleNotReadyBecause({ status, health, revision: release.revision ?? '', count });
}

/**
 * With auto scaling, the new color first catches up with the live color's count now (it may have scaled out since
 * the deploy); while its new tasks start, the switch fails with CapacityCatchingUp and is tried again. Returns
 * the count the new color must run, and the release carrying it.
 */
async function caughtUp(
  release: Release,
  deps: Pick<WorkflowDeps, 'router' | 'record' | 'fleet'>,
  settings: Pick<WorkflowSettings, 'scaling'>,
): Promise<Release> {
  if (!settings.scaling) {
    return release;
  }
  const { count, raised } = await catchUpWithLive(release, deps, settings.scaling);
  const { status, health } = await observeIdle(release, deps);
  if (
    raised !== undefined ||
    (count > release.liveCount && stillScalingOut(status, health, release.revision, count))
  ) {
    throw catchingUp(release, status, health, count, raised);
  }
  return { ...release, liveCount: count };
}

export async function switchTraffic(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'router' | 'record' | 'fleet' | 'now'>,
  settings: Pick<WorkflowSettings, 'scaling'> = {},
): Promise<ReleaseState> {
  const release = await caughtUp(requireRelease(state), deps, settings);
  const why = await idleNotReadyNow(release, deps);
  if (why && release.shift && release.shift.step >= 0) {
    // Part of production traffic is on the new color already: it goes back to the old one.
    throw releaseError(
      'UnhealthyDuringShift',
      `No promotion to 100%: ${release.idle} (${release.image}), re-checked just before the production listener ` +
        `would move the rest of the traffic, is no longer ready: ${why}. All traffic goes back to ${release.live}.`,
    );
  }
  if (release.shift && release.shift.step >= 0) {
    const weights = await deps.router.productionWeights();
    if (!sameWeights(weights, expectedWeights(release))) {
      throw trafficMoved(
        `Before the promotion to 100%, the production listener sends ${listenerSays(weights)}, not the last ` +
          `step's split. It was changed under the release (${LISTENER_CHANGED_BY}): all traffic goes back to ` +
          `${release.live}.`,
      );
    }
  }
  if (why) {
    const gate = state.approval ? ` (approved by ${state.approval.approvedBy} at ${state.approval.at})` : '';
    throw releaseError(
      'IdleNotReady',
      `No switch: ${release.idle} was validated${gate}, but re-checked just before the production listener would ` +
        `change, it is no longer ready for ${release.image}: ${why}.`,
    );
  }
  // The switch's time is taken before the listener changes: whatever happens to users after it (an alarm that
  // enters ALARM a millisecond later) is this release's to answer for.
  const now = deps.now();
  await routeAllTo(release.idle, deps, { color: release.idle, image: release.image });
  return {
    ...state,
    release: {
      ...release,
      switchedAt: now.toISOString(),
      watch: {
        until: new Date(now.getTime() + release.timings.bakeSeconds * 1000).toISOString(),
        checks: 0,
        consecutiveFailures: 0,
      },
    },
  };
}
