/**
 * Prepare: validate the input, take the in-flight lock, and check that the record and the production listener
 * agree. Nothing else changes here; on any refusal the lock is released again (only if this release holds it).
 */
import { shiftSteps } from '../shared/strategy';
import { releaseError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import { parseReleaseInput, type ReleaseState, type WorkflowSettings } from '../shared/release';
import { otherColor, recordParameterNames } from '../shared/release-record';
import { findDrift } from '../shared/traffic';
import { isFollower, lockBusy } from './follow-live';
import { migrationPorts, pendingContractToRun } from './migrations';

export async function prepare(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'record' | 'router' | 'fleet' | 'lock' | 'now' | 'migrations'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const request = parseReleaseInput(state.input, settings);
  const now = deps.now();
  const lease = new Date(now.getTime() + settings.maxReleaseSeconds * 1000);
  const lock = await deps.lock.acquire(state.execution, request.image, now, lease);
  if (!lock.acquired && isFollower(lock.holder)) {
    throw lockBusy(lock.since);
  }
  if (!lock.acquired) {
    throw releaseError(
      'ReleaseInProgress',
      `Release ${lock.holder} (${lock.image}, started ${lock.since}) is in flight for ${settings.appName}; this ` +
        'execution changed nothing. Wait for it to end; if it was stopped or timed out, its lock is released ' +
        'when that is reported (Release Stopped), or at the latest when its lease ends.',
    );
  }
  const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
  const drift = findDrift(record.liveColor, weights, recordParameterNames(settings.appName).liveColor);
  if (drift) {
    throw releaseError('Drift', `${drift.message} This execution changed nothing.`);
  }
  const live = record.liveColor;
  const idle = otherColor(live);
  const [liveStatus, idleStatus, migrations] = await Promise.all([
    deps.fleet.describe(live),
    deps.fleet.describe(idle),
    settings.migrations ? migrationPorts(deps).record.read() : undefined,
  ]);
  // The previous release's contract, when it waits for this release (it runs first, before the new expand).
  const pendingContract = migrations && pendingContractToRun(migrations, record.images[live]);
  return {
    execution: state.execution,
    input: state.input,
    release: {
      image: request.image,
      version: request.version,
      live,
      idle,
      liveCount: Math.max(liveStatus.desired, 1),
      idleBefore: {
        count: idleStatus.desired,
        image: record.images[idle],
        revision: idleStatus.revision,
        // With auto scaling, the bounds to give it back on abort or rollback (held at 0, or pinned warm).
        ...(settings.scaling ? { capacity: record.capacity?.[idle] ?? 'auto' } : {}),
      },
      timings: request.timings,
      startedAt: now.toISOString(),
      ...(request.startedBy ? { startedBy: request.startedBy } : {}),
      ...(pendingContract ? { pendingContract } : {}),
      strategy: request.strategy,
      ...(request.strategy.type !== 'all-at-once'
        ? {
            shift: {
              strategy: request.strategy,
              steps: shiftSteps(request.strategy),
              step: -1,
              extensions: 0,
              waitSeconds: 0,
              verdicts: [],
              dryRun: request.dryRun,
            },
          }
        : {}),
    },
  };
}
