/**
 * Switch: one change of the production listener to the idle color, then the record follows. Every write sets an
 * absolute value, so a retry after a partial failure ends in the same state.
 */
import type { WorkflowDeps } from '../shared/ports';
import { requireRelease, type ReleaseState } from '../shared/release';
import type { Color } from '../shared/release-record';
import type { TrafficWeights } from '../shared/traffic';

/** All traffic to `color`. */
export function allTo(color: Color): TrafficWeights {
  return color === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
}

export async function switchTraffic(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'router' | 'record' | 'now'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  await deps.router.setProductionWeights(allTo(release.idle));
  await deps.router.setTestWeights(allTo(release.live));
  await deps.record.write({ liveColor: release.idle, image: { color: release.idle, image: release.image } });
  const now = deps.now();
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
