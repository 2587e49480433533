/**
 * What the endings (conclude.ts: finish, abort, rollback, ...) all do once their own work is done: put the
 * released-to color back on what it ran before, give the live color its scaling bounds back, confirm that traffic is
 * where the ending put it, and the housekeeping (scaling acts, lock released, outcome published, or left unsent for
 * the Stopped step). Each notes its failures for the cause instead of throwing, except where it says so.
 */
import { FLEET_BUSY } from '../shared/errors';
import type { ReleaseOutcome, Restored, WorkflowDeps } from '../shared/ports';
import type { Release, ReleaseState, WorkflowSettings } from '../shared/release';
import { otherColor, type Color } from '../shared/release-record';
import { boundsFor, restingAt, type ScalingSettings } from '../shared/scaling';
import { attempt, withNotes } from './attempt';
import { resumeLive, restIfHeld } from './capacity';
import { routeAllTo } from './switch';
import { allTrafficTo, LISTENER_CHANGED_BY, listenerSays, scaleUnlessServing } from './traffic-guard';

export type Deps = Pick<WorkflowDeps, 'fleet' | 'lock' | 'notifier' | 'record'>;

/**
 * An ending that put all traffic on `color` confirms it with a fresh read once it is done with the idle color: if
 * the listener was changed again meanwhile (LISTENER_CHANGED_BY), all traffic goes back to `color` once more, and
 * the returned sentence (for the cause) says so. Errors propagate.
 */
export async function confirmAllOn(
  color: Color,
  deps: Pick<WorkflowDeps, 'router' | 'record'>,
  ending: string,
  image?: { color: Color; image: string },
): Promise<string> {
  const weights = await deps.router.productionWeights();
  if (allTrafficTo(weights, color)) {
    return '';
  }
  await routeAllTo(color, deps, image);
  return (
    ` The production listener was changed again while the ${ending} ran (it sent ${listenerSays(weights)}: ` +
    `${LISTENER_CHANGED_BY}); all traffic is back on ${color}, and the record says so.`
  );
}

/**
 * The released-to color back on what it ran before (revision and count), never while it has production weight;
 * the new revision retired. Returns what happened, for the cause. An instance refresh still stopping is not
 * waited for here: the step fails with FLEET_BUSY and the state machine runs it again later.
 */
export async function putIdleBack(
  release: Release,
  deps: Deps & Pick<WorkflowDeps, 'router'>,
  notes: string[],
  scaling: ScalingSettings | undefined,
): Promise<{ readonly said: string; readonly restored: boolean }> {
  const before = release.idleBefore;
  let restored: Restored | undefined;
  await attempt(
    notes,
    `put ${release.idle} back`,
    () =>
      scaleUnlessServing(release.idle, deps, `put ${release.idle} back`, async () => {
        if (!scaling) {
          restored = await deps.fleet.restore(release.idle, before.count, before.revision);
          return;
        }
        // With the bounds the record gave it before the release (held at 0, or pinned warm), in the same move; a
        // color that ran tasks with the record `auto` (scaling added to a warm stack) is pinned at them.
        const recorded =
          before.capacity === undefined || (before.capacity === 'auto' && before.count > 0)
            ? restingAt(before.count)
            : before.capacity;
        [restored] = await Promise.all([
          deps.fleet.restore(
            release.idle,
            before.count,
            before.revision,
            boundsFor(recorded, false, scaling),
          ),
          deps.record.writeCapacity(release.idle, recorded),
        ]);
        if (restored && restored.count !== before.count) {
          // Its revision could not run again: it went to 0 instead, and its bounds and record say so.
          await Promise.all([
            deps.fleet.setCapacity(release.idle, boundsFor('auto', false, scaling)),
            deps.record.writeCapacity(release.idle, 'auto'),
          ]);
        }
      }),
    [FLEET_BUSY],
  );
  if (!restored) {
    return {
      said: `${release.idle} could not be put back and may still run ${release.image}`,
      restored: false,
    };
  }
  // The new revision is retired only once nothing uses it any more (and never the one the color is back on).
  if (release.revision && restored.revision !== release.revision) {
    const revision = release.revision;
    await attempt(notes, `retire the revision ${revision.split('/').pop() ?? revision}`, () =>
      deps.fleet.retire(revision),
    );
  }
  // Without a revision back, the color did not go back onto what it ran (the restore says why).
  return {
    said:
      before.revision && !restored.revision
        ? `${release.idle} is at ${restored.count} task(s) (${restored.note ?? 'not back on what it ran'})`
        : `${release.idle} is back to ${restored.count} task(s) of ${before.image}` +
          (restored.note ? ` (${restored.note})` : ''),
    restored: true,
  };
}

/**
 * The idle color put back, and again once traffic is confirmed all on the live color when the first time failed
 * (the listener gave it production weight then: moved under the release, and sent back since). The first try's
 * notes count only when the second one fails too.
 */
export async function putIdleBackOnceSafe(
  release: Release,
  deps: Deps & Pick<WorkflowDeps, 'router'>,
  notes: string[],
  scaling: ScalingSettings | undefined,
  confirm: () => Promise<string>,
): Promise<{ readonly idle: string; readonly again: string }> {
  const first: string[] = [];
  const [put] = await Promise.all([
    putIdleBack(release, deps, first, scaling),
    giveBoundsBack(release.live, deps, notes, scaling),
  ]);
  const again = await confirm();
  if (put.restored) {
    notes.push(...first);
    return { idle: put.said, again };
  }
  const second: string[] = [];
  const retried = await putIdleBack(release, deps, second, scaling);
  if (!retried.restored) {
    notes.push(...first, ...second);
  }
  return { idle: retried.said, again };
}

/** The live color's configured bounds back (with auto scaling), as housekeeping: noted, never thrown. */
export async function giveBoundsBack(
  live: Color,
  deps: Pick<WorkflowDeps, 'fleet' | 'record'>,
  notes: string[],
  scaling: ScalingSettings | undefined,
): Promise<void> {
  if (scaling) {
    await attempt(notes, `give ${live} its scaling bounds back`, () => resumeLive(live, deps, scaling));
  }
}

/**
 * Release the lock and publish the outcome; record what went wrong instead of failing the ending. Before the lock,
 * scaling acts again: the live color (the outcome's, else the record's) gets its configured bounds back.
 *
 * An outcome it could not publish (after its tries) is returned as `{ unsent }`, for the ending step's output: the
 * execution's last state then carries it, and the Stopped step, which runs for every execution that ends in a Fail
 * state, publishes it (retried by EventBridge). Outcomes are published at least once, never dropped.
 */
export async function housekeeping(
  state: ReleaseState,
  deps: Deps,
  settings: Pick<WorkflowSettings, 'appName' | 'scaling'>,
  notes: string[],
  outcome: Omit<ReleaseOutcome, 'app' | 'release'>,
): Promise<{ unsent: ReleaseOutcome } | undefined> {
  if (state.release) {
    await attempt(notes, 'let scaling act again', () => deps.fleet.holdCapacity(false));
    const scaling = settings.scaling;
    // Abort and Rollback gave both colors their bounds already (giveBoundsBack, putIdleBack).
    if (scaling && !['ABORTED', 'ROLLED_BACK'].includes(outcome.status)) {
      await attempt(notes, 'give the live color its scaling bounds back', async () => {
        const live = outcome.liveColor ?? (await deps.record.read()).liveColor;
        await resumeLive(live, deps, scaling);
        // After a failed rollback the other color may serve: it keeps its floor (operators act).
        if (outcome.status !== 'ROLLBACK_FAILED') {
          await restIfHeld(otherColor(live), deps, scaling);
        }
      });
    }
  }
  await attempt(notes, 'release the lock', () => deps.lock.release(state.execution));
  const full: ReleaseOutcome = {
    app: settings.appName,
    release: state.execution,
    ...outcome,
    cause: outcome.cause && withNotes(outcome.cause, notes),
  };
  const sent = await attempt(notes, 'publish the outcome', () => deps.notifier.publish(full));
  // Unsent: with why, for whoever publishes it.
  return sent ? undefined : { unsent: { ...full, cause: withNotes(outcome.cause ?? '', notes) } };
}
