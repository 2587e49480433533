/**
 * How a release ends. Every ending releases the in-flight lock (only if this release holds it) and publishes
 * the outcome; failures of that housekeeping are reported, never allowed to hide the outcome itself.
 *
 * - finish: success, once a fresh read of the production listener shows all traffic on the new color; after the
 *   finish delay the old color is scaled down (unless kept warm). No color with production weight is ever scaled
 *   down (traffic-guard.ts).
 * - abort: deploy or validation failed (traffic never moved), or Prepare refused (nothing changed).
 * - rollback: the new color failed after the switch: traffic and record go back to the old, still warm, color.
 * - rollbackFailed: the rollback itself failed: say so loudly.
 *
 * What they share once their own work is done (put the idle color back, bounds, housekeeping) is in
 * ending-chores.ts.
 */
import { takeCarried } from '../shared/carried-state';
import { ReleaseErrors } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import { causeMessage, requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';
import { type TrafficWeights } from '../shared/traffic';
import { afterRelease, migrationFailure, migrationPorts } from './migrations';
import { attempt, withNotes } from './attempt';
import { rollbackHookSaid } from './hooks';
import { capacityOf, pinAt, scaleOldDown } from './capacity';
import { routeAllTo } from './switch';
import {
  allTrafficTo,
  LISTENER_CHANGED_BY,
  listenerSays,
  requireServing,
  scaleUnlessServing,
  trafficMoved,
} from './traffic-guard';

import { confirmAllOn, housekeeping, putIdleBackOnceSafe, type Deps } from './ending-chores';

export async function finish(
  state: ReleaseState,
  deps: Deps & Pick<WorkflowDeps, 'migrations' | 'now' | 'router' | 'record'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const notes: string[] = [];
  // Success is declared from a fresh read of the listener, never from the bake's last look at it.
  const weights = await deps.router.productionWeights();
  if (!allTrafficTo(weights, release.idle)) {
    return trafficMovedBeforeFinish(state, deps, settings, weights);
  }
  // ... and from a fresh read of the new color's targets, while the old color can still take traffic back (with
  // migrations and no warm old color, "Scale old color down" checked it before the contract).
  if (!settings.migrations || settings.keepIdleWarm) {
    await requireServing(release.idle, deps, 'declaring the release a success');
  }
  // With migrations the old color went down already, before the contract (state "Scale old color down").
  if (!settings.keepIdleWarm && !settings.migrations) {
    // A listener changed since the read above (the old color serves again) is a rollback, not a note.
    await attempt(
      notes,
      `scale ${release.live} down`,
      () =>
        scaleUnlessServing(release.live, deps, `scale ${release.live} down`, async () => {
          await scaleOldDown(release.live, deps, settings.scaling);
        }),
      [ReleaseErrors.TrafficMovedDuringRelease],
    );
  } else if (settings.keepIdleWarm && settings.scaling) {
    // Kept warm: the old color pinned at the new live color's count now, so a rollback has what it needs.
    const scaling = settings.scaling;
    await attempt(
      notes,
      `keep ${release.live} warm`,
      () =>
        scaleUnlessServing(release.live, deps, `pin ${release.live}'s capacity`, async () => {
          const count = (await capacityOf(release.idle, deps)).desired;
          await pinAt(release.live, count, deps, scaling);
        }),
      [ReleaseErrors.TrafficMovedDuringRelease],
    );
  }
  let migrations = '';
  if (settings.migrations) {
    // Without a warm old color the contract ran just before this step; with one, it waits for the next release.
    const contractRan = !settings.keepIdleWarm;
    await recordMigrations(state, deps, notes, contractRan);
    migrations = contractRan
      ? ' Expand, backfill and contract ran: there is no way back to the old version.'
      : ' Expand and backfill ran; the contract waits for the next release, so a rollback stays possible.';
  }
  const unsent = await housekeeping(state, deps, settings, notes, {
    status: 'SUCCEEDED',
    image: release.image,
    liveColor: release.idle,
    cause:
      `${release.image} is live on ${release.idle}; ${release.live} ` +
      (settings.keepIdleWarm ? 'stays warm for a rollback.' : 'was scaled down.') +
      migrations,
  });
  if (unsent) {
    // A success nobody heard of: "Released (outcome unsent)" ends the execution so that the Stopped step runs and
    // publishes it (never a retry of this step: the lock is free already, another release may hold it).
    return {
      ...state,
      ...unsent,
      outcome: {
        error: 'OutcomeNotPublished',
        cause:
          `${release.image} is live on ${release.idle}, but publishing the outcome failed (${notes.join('; ')}): ` +
          'the Stopped step publishes it.',
      },
    };
  }
  return state;
}

/**
 * Finish found the production listener changed since the bake (it sends traffic to the old color, or splits it).
 * While the old color is still warm (nothing scaled it down yet) that is a rollback: TrafficMovedDuringRelease,
 * which the state machine sends to "Roll back". Once the old color is down and its schema contracted (migrations,
 * no warm old color), the new color is the only one that can serve: all traffic goes back to it, the record
 * follows, and the release still ends loudly with TrafficMovedDuringRelease.
 */
async function trafficMovedBeforeFinish(
  state: ReleaseState,
  deps: Deps & Pick<WorkflowDeps, 'router' | 'record'>,
  settings: WorkflowSettings,
  weights: TrafficWeights,
): Promise<never> {
  const release = requireRelease(state);
  const found =
    `The production listener, read by Finish, sends ${listenerSays(weights)}, not all traffic to ${release.idle} ` +
    `(${release.image}) as at the end of the bake. It was changed under the release (${LISTENER_CHANGED_BY}).`;
  if (settings.keepIdleWarm || !settings.migrations) {
    throw trafficMoved(
      `${found} ${release.live} was not scaled down: traffic goes back to it (still warm), and the record follows.`,
    );
  }
  await routeAllTo(release.idle, deps, { color: release.idle, image: release.image });
  const notes: string[] = [];
  const cause =
    `${found} ${release.live} is scaled down and the contract migrations of ${release.image} ran, so it cannot ` +
    `serve: all traffic is back on ${release.idle}, which passed the bake, and the record says so. Find who ` +
    'changed the listener before the next release.';
  await housekeeping(state, deps, settings, notes, {
    status: 'SUCCEEDED',
    image: release.image,
    liveColor: release.idle,
    error: ReleaseErrors.TrafficMovedDuringRelease,
    cause,
  });
  throw trafficMoved(withNotes(cause, notes));
}

/**
 * The contract migrations failed after the new color went live. Traffic stays where it is (the new version is
 * live and healthy); the contract is recorded as pending, so the next release runs it again before its expand.
 */
export async function contractFailed(
  state: ReleaseState,
  deps: Deps & Pick<WorkflowDeps, 'migrations' | 'now'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const failure = state.failure ?? { Error: 'Unknown', Cause: '' };
  const { error, cause: failed } = migrationFailure('contract', failure, {
    image: release.image,
    timeoutSeconds: settings.migrations?.timeoutSeconds,
  });
  const why = failure.scaleDown
    ? `Scaling ${release.live} down before the contract failed (${failure.Error}: ${causeMessage(failure.Cause)}), ` +
      `so the contract migrations of ${release.image} did not run. ${release.image} is live on ${release.idle}; ` +
      `${release.live} may still run the old version (bluegreen status shows it).`
    : `${failed} ${release.image} is live on ${release.idle}; ${release.live} was scaled down.`;
  const notes: string[] = [];
  await recordMigrations(state, deps, notes, false);
  const cause =
    `${why} The contract runs again at the start of the next release, before its expand: fix what made it ` +
    'fail first.';
  const unsent = await housekeeping(state, deps, settings, notes, {
    status: 'CONTRACT_FAILED',
    image: release.image,
    liveColor: release.idle,
    error,
    cause,
  });
  return { ...state, ...unsent, outcome: { error, cause: withNotes(cause, notes) } };
}

export async function abort(
  state: ReleaseState,
  deps: Deps & Pick<WorkflowDeps, 'router' | 'record'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const caught = state.failure ?? { Error: 'Unknown', Cause: '' };
  // A failed migration phase (expand, backfill, the previous release's contract) is named after its phase.
  const failure =
    caught.phase && state.release
      ? (({ error, cause }) => ({ Error: error, Cause: cause }))(
          migrationFailure(caught.phase, caught, {
            image:
              caught.phase === 'previousContract'
                ? (state.release.pendingContract?.image ?? '')
                : state.release.image,
            timeoutSeconds: settings.migrations?.timeoutSeconds,
          }),
        )
      : caught;
  const message = causeMessage(failure.Cause);
  const notes: string[] = [];
  if (!state.release) {
    // Refused by Prepare: nothing was changed, nothing to undo.
    const unsent = await housekeeping(state, deps, settings, notes, {
      status: 'REFUSED',
      error: failure.Error,
      cause: message,
    });
    return { ...state, ...unsent, outcome: { error: failure.Error, cause: message } };
  }
  const release = state.release;
  // Before the switch the idle color must have no production weight; if the listener was changed under the
  // release (or a switch was cut short), all traffic goes back to the live color, still warm, before the idle
  // color is touched.
  let weights: TrafficWeights | undefined;
  await attempt(notes, 'read the production listener', async () => {
    weights = await deps.router.productionWeights();
  });
  let traffic = `Traffic never moved: ${release.live} still serves every request; the release record is untouched`;
  if (weights && !allTrafficTo(weights, release.live)) {
    const back = await attempt(notes, `send all traffic back to ${release.live}`, () =>
      routeAllTo(release.live, deps),
    );
    traffic =
      `When the abort began, the production listener sent ${listenerSays(weights)} (changed under the release: ` +
      `${LISTENER_CHANGED_BY}; or a switch cut short). ` +
      (back
        ? `All traffic is back on ${release.live}, which serves every request again, and the record says so`
        : `Sending it back to ${release.live} failed: check the listener and the record (bluegreen status)`);
  }
  // The live color's scaling bounds back while the idle color is put back (two colors, independent moves).
  const { idle, again } = await putIdleBackOnceSafe(release, deps, notes, settings.scaling, async () => {
    let said = '';
    await attempt(notes, `confirm that all traffic is on ${release.live}`, async () => {
      said = await confirmAllOn(release.live, deps, 'abort');
    });
    return said;
  });
  const cause = `${message} ${traffic}; ${idle}.${again}`;
  const unsent = await housekeeping(state, deps, settings, notes, {
    status: 'ABORTED',
    image: release.image,
    liveColor: release.live,
    error: failure.Error,
    cause,
  });
  return { ...state, ...unsent, outcome: { error: failure.Error, cause: withNotes(cause, notes) } };
}

export async function rollback(
  caught: ReleaseState,
  deps: Deps & Pick<WorkflowDeps, 'router' | 'record'>,
  settings: Pick<WorkflowSettings, 'appName' | 'scaling' | 'hooks'>,
): Promise<ReleaseState> {
  // After the "Bake and production hook" Parallel: what the failed branch knew, back into the release.
  const state = takeCarried(caught);
  if (state.unpublished) {
    return reportRollback(state, deps, settings);
  }
  const release = requireRelease(state);
  const failure = state.failure ?? { Error: 'Unknown', Cause: '' };
  // Traffic first, then the record: the listener is the truth, the record follows it. Errors here propagate,
  // so the state machine retries and, if that fails too, ends in RollbackFailed.
  await routeAllTo(release.live, deps, { color: release.idle, image: release.idleBefore.image });
  const notes: string[] = [];
  const { idle, again } = await putIdleBackOnceSafe(release, deps, notes, settings.scaling, () =>
    confirmAllOn(release.live, deps, 'rollback', { color: release.idle, image: release.idleBefore.image }),
  );
  const cause =
    `${failure.Error}: ${causeMessage(failure.Cause)} Rolled back: all traffic is on ${release.live} again and ` +
    `the record says so; ${idle}.${again}`;
  const outcome = {
    status: 'ROLLED_BACK' as const,
    image: release.image,
    liveColor: release.live,
    error: ReleaseErrors.RolledBack,
  };
  if (settings.hooks?.onRollback) {
    // The rollback hook runs next, for as long as its timeout: scaling acts again now (traffic is back on the old
    // color, which must be free to scale out meanwhile). "Report rollback" (this step again) then adds the hook's
    // answer, releases the lock and publishes.
    await attempt(notes, 'let scaling act again', () => deps.fleet.holdCapacity(false));
    const unpublished = { ...outcome, cause: withNotes(cause, notes) };
    return { ...state, unpublished, outcome: { error: outcome.error, cause: unpublished.cause } };
  }
  const unsent = await housekeeping(state, deps, settings, notes, { ...outcome, cause });
  return {
    ...state,
    ...unsent,
    outcome: { error: ReleaseErrors.RolledBack, cause: withNotes(cause, notes) },
  };
}

/**
 * "Report rollback": the rollback's outcome (traffic is back on the old color already) with the rollback hook's
 * answer added; scaling acts again, the lock is released, the outcome published.
 */
async function reportRollback(
  state: ReleaseState,
  deps: Deps,
  settings: Pick<WorkflowSettings, 'appName' | 'scaling'>,
): Promise<ReleaseState> {
  const { cause: rolledBack, ...outcome } = state.unpublished!;
  const cause = `${rolledBack} ${rollbackHookSaid(state)}`;
  const notes: string[] = [];
  const unsent = await housekeeping(state, deps, settings, notes, { ...outcome, cause });
  // Published (or handed to the Stopped step as `unsent`): the state no longer carries it as waiting for the hook.
  return {
    ...state,
    unpublished: undefined,
    ...unsent,
    outcome: { error: outcome.error, cause: withNotes(cause, notes) },
  };
}

export async function rollbackFailed(
  state: ReleaseState,
  deps: Deps,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = state.release;
  const failure = state.failure;
  const rollbackError = state.rollbackFailure;
  const cause =
    `Rollback failed (${rollbackError?.Error ?? 'Unknown'}: ${causeMessage(rollbackError?.Cause)}). It was rolling back ` +
    `because ${failure?.Error ?? 'Unknown'}: ${causeMessage(failure?.Cause)} Traffic may still be on ` +
    `${release?.idle ?? 'the new color'}: check the production listener and the record (bluegreen status), then ` +
    `switch to ${release?.live ?? 'the old color'} by hand.`;
  const notes: string[] = [];
  const unsent = await housekeeping(state, deps, settings, notes, {
    status: 'ROLLBACK_FAILED',
    image: release?.image,
    error: ReleaseErrors.RollbackFailed,
    cause,
  });
  return {
    ...state,
    ...unsent,
    outcome: { error: ReleaseErrors.RollbackFailed, cause: withNotes(cause, notes) },
  };
}

/**
 * The migration record once the release is live: its contract ran, or waits for the next release. A failed write
 * is noted in the outcome, not thrown (the release is live either way).
 */
async function recordMigrations(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'migrations' | 'now'>,
  notes: string[],
  contractRan: boolean,
): Promise<void> {
  const release = requireRelease(state);
  const { record } = migrationPorts(deps);
  await attempt(notes, contractRan ? 'record the contract' : 'record the contract as pending', async () =>
    record.write(
      afterRelease(
        await record.read(),
        { image: release.image, execution: state.execution, taskDefinition: release.migrationTask },
        contractRan,
        deps.now(),
      ),
    ),
  );
}

export { stopped, type ExecutionEnding } from './stopped';
