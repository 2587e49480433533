/**
 * The Stopped step's core: runs for every execution that did not succeed (an EventBridge rule on the state
 * machine: FAILED, TIMED_OUT, ABORTED), whether or not the execution's own ending step ran. See `stopped`.
 */
import { BluegreenError, MANUAL_ROLLBACK } from '../shared/errors';
import type { ReleaseOutcome, WorkflowDeps } from '../shared/ports';
import { causeMessage, type WorkflowSettings } from '../shared/release';
import { COLORS, otherColor, recordParameterNames, type Color } from '../shared/release-record';
import { STATES } from '../shared/state-names';
import { recoveryAfterStop, type ColorCondition } from '../shared/stop-recovery';
import { describeTraffic, findDrift, routedTraffic } from '../shared/traffic';
import { heldAt } from '../shared/scaling';
import { capacityOf, pinAt, resumeLive, settle } from './capacity';
import { isFollower } from './follow-live';
import { attempt, withNotes } from './attempt';
import { afterRelease } from './migrations';
import { routeAllTo } from './switch';

/** How an execution ended, as its status-change event and its history tell it. */
export interface ExecutionEnding {
  readonly execution: string;
  /** FAILED, TIMED_OUT or ABORTED. */
  readonly status: string;
  /** The execution's error and cause (the Fail state's, a timeout's, or the ones given to StopExecution). */
  readonly error?: string | null;
  readonly cause?: string | null;
  /** The last state it entered (its history), when that could be read. */
  readonly endedIn?: string;
  /**
   * The release as the last state it entered saw it (its history): the color live when it started, its image and
   * migration task. Absent when it never got past Prepare.
   */
  readonly release?: { readonly live: Color; readonly image?: string; readonly migrationTask?: string };
  /**
   * The Roll back step's outcome, still unpublished in the last state's input (its history): the rollback moved
   * traffic back, then the rollback hook or "Report rollback" did not finish.
   */
  readonly unpublished?: { readonly error: string; readonly cause: string };
  /** The outcome the execution's ending step could not publish (its last state carries it). */
  readonly unsent?: ReleaseOutcome;
}

/** Fail states reached only once the execution's own ending step ran: it let scaling act, released and published. */
const REPORTED_ENDINGS: readonly string[] = [
  STATES.releasedUnsent,
  STATES.refused,
  STATES.aborted,
  STATES.rolledBack,
  STATES.rollbackFailed,
  STATES.liveContractFailed,
];

/** The ending steps (Tasks): an execution stopped while one ran may have had part of its work done. */
const ENDING_STEPS: readonly string[] = [
  STATES.finish,
  STATES.refuse,
  STATES.abort,
  STATES.rollback,
  STATES.reportRollback,
  STATES.reportRollbackFailure,
  STATES.reportContractFailure,
];

/** Fail states reached when an ending step itself failed: what the release came to, and what to check. */
const FAILED_ENDINGS: Readonly<
  Record<string, { status: ReleaseOutcome['status']; check: string; live?: boolean }>
> = {
  [STATES.refusedCleanupFailed]: { status: 'REFUSED', check: 'The release changed nothing.' },
  [STATES.abortFailed]: {
    status: 'ABORTED',
    check:
      'Traffic never moved; the idle color may not be back on what it ran before (bluegreen status shows what it ' +
      'runs); the next release replaces it.',
  },
  [STATES.finishFailed]: {
    status: 'SUCCEEDED',
    live: true,
    check: 'The new color is live; the old color may not be scaled down yet (bluegreen status).',
  },
  [STATES.rolledBackReportFailed]: {
    status: 'ROLLED_BACK',
    check:
      'Traffic went back to the old color before the rollback hook ran (bluegreen status shows where it is now).',
  },
  [STATES.rollbackReportFailed]: {
    status: 'ROLLBACK_FAILED',
    check:
      'The rollback failed: check the production listener and the record (bluegreen status), then switch back by ' +
      'hand.',
  },
  [STATES.contractReportFailed]: {
    status: 'CONTRACT_FAILED',
    live: true,
    check:
      'The new color is live; its contract migrations failed and may not be recorded as pending: check bluegreen ' +
      'status before the next release.',
  },
};

/**
 * Runs for every execution that did not succeed, so that every ending leaves the lock free, scaling acting, the
 * outcome published and traffic on a color fit to serve, whether or not the execution's own ending step ran:
 *
 * - when the execution did not reach an ending of its own, and no other release holds the lock now: an unfinished
 *   release is undone where it can be (shared/stop-recovery.ts: all traffic back on the old color if it is fit to
 *   serve, the record following), from fresh reads of the listener, both colors' targets and alarms. Never for a
 *   ManualRollback stop: the operator's `bluegreen rollback` does that itself;
 * - scaling acts again, unless another release holds the lock now (its hold is its own), before
 * - the lock is released if this execution still holds it (never another release's);
 * - the outcome is published, with where traffic and the record stand now, unless the execution ended in a Fail
 *   state reached only after its own ending step published it (Aborted, Rolled back, ...): never twice.
 */
export async function stopped(
  ending: ExecutionEnding,
  deps: Pick<
    WorkflowDeps,
    'lock' | 'notifier' | 'record' | 'router' | 'fleet' | 'alarms' | 'now' | 'migrations'
  >,
  settings: WorkflowSettings,
): Promise<{ outcome: ReleaseOutcome; published: boolean }> {
  const { execution, status, endedIn } = ending;
  const reported = status === 'FAILED' && endedIn !== undefined && REPORTED_ENDINGS.includes(endedIn);
  const notes: string[] = [];
  const failed = status === 'FAILED' && endedIn !== undefined ? FAILED_ENDINGS[endedIn] : undefined;
  const recovered =
    reported || ending.error === MANUAL_ROLLBACK
      ? undefined
      : await recoverTraffic(ending, deps, notes, failed?.live === true);
  const pending = endedIn === STATES.contractReportFailed ? await contractPending(ending, deps, notes) : '';
  let where = 'traffic and record could not be read.';
  await attempt(notes, 'read traffic and record', async () => {
    const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
    const drift = findDrift(record.liveColor, weights, recordParameterNames(settings.appName).liveColor);
    where = drift ? drift.message : `${describeTraffic(routedTraffic(weights))}, and the record agrees.`;
  });
  if (recovered) {
    where = `${recovered.said} Now: ${where}`;
  }
  // Scaling first, then the lock: while this execution still holds it, no new release can start and hold
  // scaling of its own, which this resume would then undo.
  // An ending step that reported it gave the colors their bounds back already (and freed the lock: another release
  // may hold both colors now), so only the unreported endings set bounds here.
  const scaling = await letScalingAct(execution, deps, notes, reported ? {} : settings);
  const freed = await attempt(notes, 'release the lock', () => deps.lock.release(execution));
  const why = ending.error
    ? ` (${ending.error}${ending.cause ? `: ${causeMessage(ending.cause)}` : ''})`
    : '';
  const lock = freed ? 'its lock is free' : 'its lock could not be released';
  let cause: string;
  let outcomeStatus: ReleaseOutcome['status'] = 'STOPPED';
  const rolledBack = reported ? undefined : ending.unpublished;
  if (rolledBack) {
    // The Roll back step had moved traffic back and was waiting for the rollback hook to publish: a rollback,
    // whatever stopped the execution after it.
    outcomeStatus = 'ROLLED_BACK';
    const at = endedIn === undefined ? '' : ` in "${endedIn}"`;
    const unfinished =
      endedIn === STATES.rolledBackReportFailed
        ? `"Report rollback" failed${why} before it published this (release ${execution} ended ${status}${at})`
        : `The rollback hook did not finish: release ${execution} ended ${status}${at}${why} before "Report ` +
          'rollback" published this';
    cause =
      `${causeMessage(rolledBack.cause)} ${unfinished}, so the Stopped step reports it: ${lock} and ${scaling}. ` +
      `${recovered ? '' : 'Now: '}${where}`;
  } else if (reported) {
    cause = `Release ${execution} ended in "${endedIn}", whose step reported it; ${lock} and ${scaling}.`;
  } else if (status === 'FAILED') {
    // Once traffic went back to the old color, a release that had gone live is not reported live, and a failed
    // rollback (whose report failed too) is a rollback after all.
    outcomeStatus = !failed
      ? 'STOPPED'
      : !recovered?.moved
        ? failed.status
        : failed.live
          ? 'STOPPED'
          : failed.status === 'ROLLBACK_FAILED'
            ? 'ROLLED_BACK'
            : failed.status;
    const at = endedIn === undefined ? ' (its history could not be read)' : ` in "${endedIn}"`;
    cause =
      `Release ${execution} ended FAILED${at}${why}: its ending step did not finish, so the Stopped step reports ` +
      `it: ${lock} and ${scaling}. ${recovered ? '' : 'Now: '}${where} ` +
      (pending ||
        (recovered?.moved
          ? ''
          : (failed?.check ??
            "The idle color may still run the release's revision; the next release replaces it.")));
  } else {
    const at = endedIn === undefined ? '' : ` in "${endedIn}"`;
    // Stopped while one of its ending steps ran, that step may have done part of its work (the fresh reads below
    // say where traffic is); before any, nothing of its own was undone.
    const inEnding = endedIn !== undefined && ENDING_STEPS.includes(endedIn);
    cause =
      `Release ${execution} ended ${status}${inEnding ? '' : at}${why} ` +
      (inEnding
        ? `while its "${endedIn}" step ran, which may have done part of its work`
        : 'before its last step (no rollback or cleanup of its own ran)') +
      `; ${lock} and ${scaling}. ${recovered ? '' : 'Now: '}${where} ` +
      (ending.error === MANUAL_ROLLBACK
        ? 'The operator who stopped it rolls traffic, record and idle color back (bluegreen rollback).'
        : "The idle color may still run the release's revision; the next release replaces it.");
  }
  const outcome: ReleaseOutcome = {
    app: settings.appName,
    release: execution,
    status: outcomeStatus,
    error: rolledBack?.error ?? ending.error ?? status,
    cause: withNotes(cause, notes),
  };
  if (reported && !ending.unsent) {
    return { outcome, published: false };
  }
  // An ending step that did everything but publish (its tries failed) left its outcome for this step.
  const toPublish: ReleaseOutcome =
    reported && ending.unsent
      ? {
          ...ending.unsent,
          cause: withNotes(
            `${ending.unsent.cause ?? ''} (Published by the Stopped step: "${endedIn}" could not publish it; ` +
              `since then ${lock} and ${scaling}.)`.trim(),
            notes,
          ),
        }
      : outcome;
  // Tried like the other chores; if it still fails, the step fails and EventBridge invokes it again (its target's
  // retry policy): an outcome is never dropped in silence.
  const unsent: string[] = [];
  if (!(await attempt(unsent, 'publish the outcome', () => deps.notifier.publish(toPublish)))) {
    throw new BluegreenError('OutcomeNotPublished', `Release ${execution}: ${unsent.join('; ')}.`);
  }
  return { outcome: toPublish, published: true };
}

/**
 * "Report contract failure" failed before it could record the contract as pending: record it here (the same
 * write, idempotent), so the next release runs it first. Returns a sentence for the cause.
 */
async function contractPending(
  ending: ExecutionEnding,
  deps: Pick<WorkflowDeps, 'migrations' | 'now'>,
  notes: string[],
): Promise<string> {
  const { release } = ending;
  if (!deps.migrations || !release?.image) {
    return '';
  }
  const { record } = deps.migrations;
  const image = release.image;
  const done = await attempt(notes, 'record the contract as pending', async () =>
    record.write(
      afterRelease(
        await record.read(),
        { image, execution: ending.execution, taskDefinition: release.migrationTask },
        false,
        deps.now(),
      ),
    ),
  );
  return done
    ? `The new color is live; the contract migrations of ${image} failed and are recorded as pending: the next ` +
        'release runs them first, before its expand.'
    : '';
}

/**
 * Puts production traffic on a color fit to serve after an unfinished release (shared/stop-recovery.ts), from
 * fresh reads; says what it found and did. Nothing moves while another release holds the lock (its traffic is its
 * own) or when the state could not be read.
 */
async function recoverTraffic(
  ending: ExecutionEnding,
  deps: Pick<WorkflowDeps, 'lock' | 'record' | 'router' | 'alarms' | 'now'>,
  notes: string[],
  wentLive: boolean,
): Promise<{ said: string; moved: boolean } | undefined> {
  const release = ending.release;
  if (!release) {
    return undefined; // it never got past Prepare (or its history could not be read): it changed nothing known
  }
  let observed: Parameters<typeof recoveryAfterStop>[0] | undefined;
  let other: string | undefined;
  const read = await attempt(notes, 'read the lock, the listener and both colors', async () => {
    const holder = await deps.lock.holder();
    other =
      holder && holder.owner !== ending.execution && Date.parse(holder.expiresAt) > deps.now().getTime()
        ? holder.owner
        : undefined;
    const [record, weights, ...conditions] = await Promise.all([
      deps.record.read(),
      deps.router.productionWeights(),
      ...COLORS.map((c) => condition(c, deps)),
    ]);
    observed = {
      weights,
      recordedLive: record.liveColor,
      condition: { blue: conditions[0], green: conditions[1] },
      release,
      wentLive,
    };
  });
  if (!read || !observed) {
    return undefined;
  }
  if (other) {
    return {
      said: `${other} holds the lock now: its traffic is its own, and nothing is moved.`,
      moved: false,
    };
  }
  const decision = recoveryAfterStop(observed);
  if (decision.act === 'none') {
    return decision.why ? { said: decision.why, moved: false } : undefined;
  }
  const to = decision.to;
  const moved = await attempt(notes, `send all traffic back to ${to}`, () => routeAllTo(to, deps));
  return {
    said: moved
      ? `${decision.why} Done: all production traffic is on ${to}, and the record says so.`
      : `${decision.why} Sending it there failed: check the listener and the record (bluegreen status).`,
    moved,
  };
}

async function condition(
  color: Color,
  deps: Pick<WorkflowDeps, 'router' | 'alarms'>,
): Promise<ColorCondition> {
  const [health, alarms] = await Promise.all([deps.router.targetHealth(color), deps.alarms.firing(color)]);
  return { ...health, alarms: alarms.map((a) => a.name) };
}

/**
 * Lets scaling act again, unless another release holds the lock now (an unexpired lease): its hold is its own, and
 * its ending lets it go. With auto scaling, the color the record names live gets its configured bounds back, and
 * the other one is pinned at the count it runs (nothing is scaled here: the next release, or an operator, decides
 * about it). Says what it did.
 */
async function letScalingAct(
  execution: string,
  deps: Pick<WorkflowDeps, 'lock' | 'fleet' | 'record' | 'router' | 'now'>,
  notes: string[],
  settings: Pick<WorkflowSettings, 'scaling'>,
): Promise<string> {
  let other: string | undefined;
  const read = await attempt(notes, 'read the lock', async () => {
    const holder = await deps.lock.holder();
    // The idle color's follower (follow-live) holds it for seconds, and never holds scaling: not another release.
    other =
      holder &&
      holder.owner !== execution &&
      !isFollower(holder.owner) &&
      Date.parse(holder.expiresAt) > deps.now().getTime()
        ? holder.owner
        : undefined;
  });
  if (!read) {
    return 'scaling was left as it is (the lock could not be read: another release may hold it)';
  }
  if (other) {
    return `scaling stays held for ${other}, which holds the lock now`;
  }
  const resumed = await attempt(notes, 'let scaling act again', () => deps.fleet.holdCapacity(false));
  const scaling = settings.scaling;
  if (!scaling) {
    return resumed ? 'scaling acts again' : 'scaling could not be let act again';
  }
  let said = '';
  const bounds = await attempt(notes, 'give both colors their scaling bounds back', async () => {
    const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
    const live = record.liveColor;
    const idle = otherColor(live);
    await resumeLive(live, deps, scaling);
    const count = (await capacityOf(idle, deps)).desired;
    if (weights[idle] > 0) {
      // The listener sends it traffic though the record does not name it (drift, or a split left behind): it keeps
      // a floor at its count and may scale out, until an operator reconciles.
      await settle(idle, heldAt(count, scaling), false, deps, scaling);
      said =
        `${live} scales within ${scaling.minCount}..${scaling.maxCount} again; ${idle}, which takes production ` +
        `traffic though the record names ${live}, is held at ${count} task(s) or more`;
      return;
    }
    await pinAt(idle, count, deps, scaling);
    said =
      `${live} scales within ${scaling.minCount}..${scaling.maxCount} again; ` +
      (count > 0 ? `${idle} is pinned at the ${count} task(s) it runs` : `${idle} is held at 0`);
  });
  return resumed && bounds ? `scaling acts again (${said})` : 'scaling could not be let act again';
}
