/**
 * Between releases, with `keepIdleWarm` and auto scaling: the idle color follows the live color's count, so a
 * rollback (bluegreen rollback) always finds the capacity it needs. Run on a schedule (every minute in AWS). It
 * takes the release lock for the few seconds it acts (a release that starts meanwhile waits for it: LockBusy,
 * retried by Prepare), and does nothing while a release holds the lock (the release's hold is its own), while the
 * record and the listener disagree, or when the idle color already follows.
 */
import { BluegreenError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import type { WorkflowSettings } from '../shared/release';
import { otherColor } from '../shared/release-record';
import { capacityOf, pinAt } from './capacity';
import { allTrafficTo, listenerSays, scaleUnlessServing } from './traffic-guard';

/** The lock owner while the idle color is brought to the live color's count: this prefix and the run's time. */
export const FOLLOWER = 'bluegreen-follow-live';
/**
 * Its lease outlasts its Lambda's timeout (room for its calls at their worst, sdk-budget.ts), so the lock never
 * lapses while it acts; it is released as soon as it is done (seconds).
 */
export const FOLLOW_LIVE_TIMEOUT_SECONDS = 660;
const LEASE_MS = (FOLLOW_LIVE_TIMEOUT_SECONDS + 60) * 1000;

/** A lock owner that is the follower (any of its runs). */
export function isFollower(owner: string): boolean {
  return owner === FOLLOWER || owner.startsWith(`${FOLLOWER}-`);
}

export interface Followed {
  /** What it did, in one line (logged, and returned to the schedule). */
  readonly said: string;
  readonly changed: boolean;
}

export async function followLive(
  deps: Pick<WorkflowDeps, 'fleet' | 'record' | 'lock' | 'router' | 'now'>,
  settings: Pick<WorkflowSettings, 'scaling' | 'keepIdleWarm'>,
): Promise<Followed> {
  const scaling = settings.scaling;
  if (!scaling || !settings.keepIdleWarm) {
    return { said: 'keepIdleWarm with auto scaling is not configured: nothing to follow', changed: false };
  }
  const now = deps.now();
  // Each run its own owner: a run that overlaps a slow one finds the lock taken and does nothing.
  const owner = `${FOLLOWER}-${now.toISOString().replace(/[-:.]/g, '')}`;
  const lock = await deps.lock.acquire(
    owner,
    'follow the live color',
    now,
    new Date(now.getTime() + LEASE_MS),
  );
  if (!lock.acquired) {
    return {
      said: `${lock.holder} holds the release lock (since ${lock.since}): nothing changed`,
      changed: false,
    };
  }
  try {
    const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
    const live = record.liveColor;
    const idle = otherColor(live);
    if (!allTrafficTo(weights, live)) {
      return {
        said: `the record says ${live}, but the production listener sends ${listenerSays(weights)}: nothing changed`,
        changed: false,
      };
    }
    const [l, i] = await Promise.all([capacityOf(live, deps), capacityOf(idle, deps)]);
    if (i.min === l.desired && i.max === l.desired && i.desired === l.desired) {
      return { said: `${idle} already runs ${live}'s ${l.desired} task(s)`, changed: false };
    }
    // Never a color with production weight (read again just before).
    await scaleUnlessServing(idle, deps, `bring ${idle} to ${live}'s count`, async () => {
      await pinAt(idle, l.desired, deps, scaling);
    });
    return {
      said: `${idle} follows ${live}: ${i.desired} → ${l.desired} task(s) (pinned ${l.desired}..${l.desired})`,
      changed: true,
    };
  } finally {
    await deps.lock.release(owner);
  }
}

/** Prepare found the follower holding the lock for a moment: retried shortly, never a refusal. */
export function lockBusy(since: string): BluegreenError {
  return new BluegreenError(
    'LockBusy',
    `The idle color is being brought to the live color's count (${FOLLOWER} took the release lock at ${since} ` +
      'for a few seconds); Prepare is tried again shortly. This execution changed nothing.',
  );
}
