/**
 * Shift traffic: one step of a gradual shift (canary, linear). The new color is re-checked first (the release's
 * revision, the live color's count, every target healthy) and the listener must still be where the previous step
 * left it; then the production weights move to the step's share, and the record follows (the new color's image
 * and the split). The step's window and first wait are set for the Analyse step.
 */
import { releaseError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import {
  requireRelease,
  type Release,
  type ReleaseState,
  type Shift,
  type WorkflowSettings,
} from '../shared/release';
import { describeStrategy, shiftSteps, stepWindow, weightsFor } from '../shared/strategy';
import { describeTraffic, routedTraffic, sameWeights } from '../shared/traffic';
import { expectedWeights, idleNotReadyNow } from './switch';
import { LISTENER_CHANGED_BY, listenerSays, trafficMoved } from './traffic-guard';

/** The shift as it starts: no step taken yet. */
export function newShift(release: Release, dryRun: boolean): Shift {
  const strategy = release.strategy ?? { type: 'all-at-once' };
  return {
    strategy,
    steps: shiftSteps(strategy),
    step: -1,
    extensions: 0,
    waitSeconds: 0,
    verdicts: [],
    dryRun,
  };
}

export async function shiftTraffic(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'router' | 'record' | 'fleet' | 'now'>,
  settings: Pick<WorkflowSettings, 'analysis'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const shift = release.shift;
  if (!shift) {
    throw new Error('internal: Shift traffic runs for a release whose Prepare planned a gradual shift');
  }
  const step = shift.step + 1;
  const percent = shift.steps[step];
  if (percent === undefined || release.strategy === undefined || release.strategy.type === 'all-at-once') {
    throw new Error(`internal: no shift step ${step + 1} in ${describeStrategy(shift.strategy)}`);
  }
  const label = `step ${step + 1} of ${shift.steps.length} (${percent}% to ${release.idle})`;
  const expected = expectedWeights(release);
  const weights = await deps.router.productionWeights();
  if (!sameWeights(weights, expected)) {
    throw trafficMoved(
      `Before ${label}, the production listener sends ${listenerSays(weights)}, not ` +
        `${describeTraffic(routedTraffic(expected))} as this release left it. It was changed under the release ` +
        `(${LISTENER_CHANGED_BY}): the shift cannot vouch for what users get, so all traffic goes back to ` +
        `${release.live}.`,
    );
  }
  const why = await idleNotReadyNow(release, deps);
  if (why) {
    if (step === 0) {
      throw releaseError(
        'IdleNotReady',
        `No shift: ${release.idle} was validated, but re-checked just before ${label}, it is no longer ready for ` +
          `${release.image}: ${why}. Traffic never moved.`,
      );
    }
    throw releaseError(
      'UnhealthyDuringShift',
      `${release.idle} (${release.image}) is no longer ready for ${label}, re-checked just before the listener ` +
        `would change: ${why}. All traffic goes back to ${release.live}.`,
    );
  }
  const analysis = settings.analysis;
  const now = deps.now();
  const next = weightsFor(percent, release.idle);
  await deps.router.setProductionWeights(
    next,
    analysis?.stickySeconds ? { stickySeconds: analysis.stickySeconds } : undefined,
  );
  await deps.record.write({
    liveColor: release.live,
    image: { color: release.idle, image: release.image },
    weights: next,
  });
  const window = stepWindow(now, release.strategy.bakeSeconds, analysis?.periodSeconds ?? 60);
  return {
    ...state,
    release: {
      ...release,
      shift: {
        ...shift,
        step,
        weights: next,
        since: now.toISOString(),
        startedAt: shift.startedAt ?? now.toISOString(),
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
        extensions: 0,
        waitSeconds: release.timings.watchIntervalSeconds,
      },
    },
  };
}
