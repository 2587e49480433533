/**
 * The invariant every chaos release must keep (test/support/chaos.ts runs them), judging health from the world
 * (the image's behaviour and running tasks), never from what the workflow believed:
 *
 * 1. the lock is free; scaling acts again (or a published cause says it could not);
 * 2. the outcome is published: at least once; the workflow's own steps publish at most once, except when a Lambda
 *    timed out right after publishing (its retry publishes again: SNS is at-least-once anyway); the Stopped step
 *    adds its own report only when the execution did not end in a Fail state its ending step reached after
 *    publishing (then the operator reads the ending step's report and the Stopped step's, which says where
 *    traffic and the record stand now);
 * 3. never SUCCEEDED (the execution, or the Stopped step's SUCCEEDED for a Finish that failed after the release
 *    went live) unless all production traffic goes to the new color, which runs the new image, healthy;
 * 4. when the workflow reached an ending of its own (Released or one of its Fail states): all production traffic
 *    on one color, which runs a healthy version with tasks; the record names that color and the image it runs.
 *    Exceptions, where the world makes it impossible:
 *    - someone else moved the listener (split it, or sent it to the idle color) before the release changed
 *      anything: the release refuses (Drift, or whatever else refused it first) and changes nothing, by design (it
 *      never guesses whether listener or record is right); expected instead: REFUSED published, a Drift's cause
 *      naming the drift as the world shows it;
 *    - the "Roll back" state's own Lambda fails on every attempt (lambda-fails): nothing can move traffic back;
 *      expected instead, ROLLBACK_FAILED published, its cause telling the operator to switch back by hand;
 *    - someone moved the listener after the workflow's last look at it (its last read or write of the production
 *      listener, e.g. while the ending step released the lock), or the new color lost its tasks after the
 *      workflow's last look at its health: no workflow can see that, as with a change made after the release
 *      ended. Rules 3 and 4 then judge the listener, or the new color's tasks, as they were just before;
 * 5. when it did not (stopped, timed out, or failed in a state whose ending step did not finish), the Stopped step
 *    undoes the unfinished release where it can: if the release got past Prepare and its old color is healthy,
 *    all production traffic is on that color and the record says so (and the image it runs); except a release
 *    that had gone live (its Finish failed), which stays on the new color while that color is healthy. Otherwise it moves
 *    nothing, and `unhealthyAfterStop` counts the endings that leave traffic on a color that is not healthy.
 *    Either way the published cause tells the truth: where production traffic goes now and whether the record
 *    agrees (the drift, when it does not).
 * 6. scaling (see scalingProblems);
 * 7. the outcome published tells what the release came to, and the lifecycle hooks are obeyed (chaos-hooks.ts,
 *    hookProblems): a refusal is REFUSED, a rollback ROLLED_BACK even when the rollback hook, "Report rollback" or
 *    a stop cut it short, whoever published it (an ending step that could not publish leaves it `unsent` to the
 *    Stopped step).
 */
import type { ReleaseOutcome } from '../../lambda/shared/ports';
import { boundsFor, type ScalingSettings } from '../../lambda/shared/scaling';
import { recordParameterNames, type Color } from '../../lambda/shared/release-record';
import { STATES } from '../../lambda/shared/state-names';
import { describeTraffic, findDrift, routedTraffic, type TrafficWeights } from '../../lambda/shared/traffic';
import type { ExecutionResult } from '../../rehearsal/workflow-runner';
import type { FakeWorld } from './fake-world';
import { SETTINGS } from './run-workflow';

/**
 * The Fail states reached only once the release's own ending step ran to the end (it let scaling act, released
 * the lock, and published its outcome or handed it to the Stopped step as `unsent`).
 */
const OWN_ENDINGS: readonly string[] = [
  // Finish ran to the end; only its publish failed (the Stopped step publishes it).
  STATES.releasedUnsent,
  STATES.refused,
  STATES.aborted,
  STATES.rolledBack,
  STATES.rollbackFailed,
  STATES.liveContractFailed,
];

/** The release reached an ending of its own: Released, or one of OWN_ENDINGS. */
export function ownEnding(result: ExecutionResult): boolean {
  return (
    result.status === 'SUCCEEDED' ||
    (result.status === 'FAILED' && OWN_ENDINGS.includes(result.states[result.states.length - 1] ?? ''))
  );
}

/** Judged from the world: the color runs an image that behaves, with tasks running. */
export function healthy(world: FakeWorld, color: Color): boolean {
  return world.behaviourOf(color) === 'good' && world.services[color].running > 0;
}

/** All production traffic's color, or undefined when it is split or goes nowhere. */
export function liveIn(weights: TrafficWeights): Color | undefined {
  const routed = routedTraffic(weights);
  return routed.kind === 'live' ? routed.color : undefined;
}

export interface JudgedRun {
  readonly execution: string;
  /** The release's new color, and the image it releases. */
  readonly newColor: Color;
  readonly newImage: string;
  readonly result: ExecutionResult;
  readonly stoppedOutcome?: { outcome: ReleaseOutcome; published: boolean };
  readonly byWorkflow: number;
  readonly publishedBeforeTimeout: boolean;
  readonly reachedOwnEnding: boolean;
  /** The "Roll back" state's Lambda fails on every attempt (a lambda-fails event). */
  readonly rollbackBroken: boolean;
  /** It failed after going live (its Finish, or the report of its contract, failed): rule 5 keeps it live. */
  readonly wentLive: boolean;
  /** Someone else moved the production listener during the release. */
  readonly listenerMoved: boolean;
  /** The new color's running tasks as the workflow last could have seen them, when it lost them after that. */
  readonly newRunningAtLastLook?: number;
  /** The listener as the workflow last could have seen it, when someone moved it after that (rules 3 and 4). */
  readonly weightsAtLastLook?: TrafficWeights;
}

export function violations(world: FakeWorld, run: JudgedRun): string[] {
  const v: string[] = [];
  const NEW = run.newColor;
  const published = world.published.filter((p) => p.release === run.execution);
  const judged = run.weightsAtLastLook ?? world.weights;
  const live = liveIn(judged);
  const serves = (c: Color) =>
    healthy(world, c) ||
    (c === NEW && world.behaviourOf(c) === 'good' && (run.newRunningAtLastLook ?? 0) > 0);
  if (world.lock) {
    v.push(`the lock is still held by ${world.lock.owner}`);
  }
  const couldNotScale = /could not let scaling act again|scaling could not be let act again|scaling was left/;
  if (world.capacityHeld && !published.some((p) => couldNotScale.test(p.cause ?? ''))) {
    v.push('scaling is still held, and no published cause says so');
  }
  if (published.length === 0) {
    v.push('no outcome was published');
  }
  if (run.byWorkflow > 1 && !run.publishedBeforeTimeout) {
    v.push(`the workflow published ${run.byWorkflow} times: ${published.map((p) => p.status).join(', ')}`);
  }
  const released =
    run.result.status === 'SUCCEEDED' ||
    (run.stoppedOutcome?.published === true && run.stoppedOutcome.outcome.status === 'SUCCEEDED');
  if (released && !(live === NEW && world.imageOf(NEW) === run.newImage && serves(NEW))) {
    v.push(
      `declared SUCCEEDED but production traffic ${JSON.stringify(judged)} is not all on ${NEW} ` +
        `running ${run.newImage} healthy (${NEW} runs ${world.imageOf(NEW)}, ${world.behaviourOf(NEW)}, ` +
        `${world.services[NEW].running} tasks)`,
    );
  }
  const drift = findDrift(
    world.record.liveColor,
    world.weights,
    recordParameterNames(SETTINGS.appName).liveColor,
  );
  const refused = published.find((p) => p.status === 'REFUSED');
  if (refused && (refused.error === 'Drift' || run.listenerMoved)) {
    // Someone else moved the listener before the release changed anything: it refuses (Drift, or whatever else
    // stopped it first) and changes nothing, never guessing which of listener and record is right; a Drift's
    // cause must say what it found.
    if (refused.error === 'Drift' && drift && !(refused.cause ?? '').includes(drift.message)) {
      v.push(`refused for drift, but its cause does not say "${drift.message}": ${refused.cause}`);
    }
  } else if (run.rollbackBroken && published.some((p) => p.status === 'ROLLBACK_FAILED')) {
    // The rollback's own Lambda fails on every attempt: nothing can move traffic back. Expected instead: the
    // loud ROLLBACK_FAILED, whose cause tells the operator to check the listener and switch back by hand.
    if (
      !published.some((p) => p.status === 'ROLLBACK_FAILED' && /switch to \w+ by hand/.test(p.cause ?? ''))
    ) {
      v.push('the rollback failed, and no published cause says to switch back by hand');
    }
  } else if (run.reachedOwnEnding) {
    if (!live) {
      v.push(`traffic is split or nowhere: ${JSON.stringify(judged)}`);
    } else {
      if (!serves(live)) {
        v.push(
          `traffic is on ${live}, which is not healthy (${world.imageOf(live)}, ${world.behaviourOf(live)}, ` +
            `${world.services[live].running} tasks)`,
        );
      }
      if (world.record.liveColor !== live || world.record.images[live] !== world.imageOf(live)) {
        v.push(`the record ${JSON.stringify(world.record)} disagrees with the listener (${live})`);
      }
    }
  } else {
    const old = run.result.lastInput?.release?.live;
    const now = world.liveTarget();
    const keptLive = run.wentLive && now !== undefined && healthy(world, now);
    if (old && healthy(world, old) && !keptLive && !(now === old && world.record.liveColor === old)) {
      v.push(
        `stopped with ${old}, live before the release, healthy, but production traffic ` +
          `${JSON.stringify(world.weights)} and the record (${world.record.liveColor}) are not all back on it`,
      );
    }
    if (now && world.record.liveColor === now && world.record.images[now] !== world.imageOf(now)) {
      v.push(`the record names ${world.record.images[now]} for ${now}, which runs ${world.imageOf(now)}`);
    }
    const cause = run.stoppedOutcome?.outcome.cause ?? '';
    const truth = drift
      ? drift.message
      : `${describeTraffic(routedTraffic(world.weights))}, and the record agrees.`;
    if (!cause.includes(truth)) {
      v.push(
        `the Stopped step's cause does not say where traffic and the record stand ("${truth}"): ${cause}`,
      );
    }
  }
  return v;
}

/**
 * 6. With auto scaling, every ending (the workflow's own, or the Stopped step's) lets scaling act again: the color
 *    the record names live scales within the configured bounds with scale-in free, the other one is pinned (held
 *    at 0, or at the count it runs; held at that count or more while the listener still sends it production
 *    traffic), and the record's bounds are what the fleet has. Exceptions: a published cause
 *    says scaling could not be given back, or the rollback failed (operators must act; the color that may serve
 *    keeps its floor).
 */
export function scalingProblems(
  world: FakeWorld,
  settings: ScalingSettings,
  published: readonly ReleaseOutcome[],
): string[] {
  if (!world.scaling) {
    return [];
  }
  const excused = published.some(
    (p) =>
      p.status === 'ROLLBACK_FAILED' ||
      // Housekeeping that kept failing is reported, not thrown: putting the idle color back (its restore and the
      // listener check before it share one attempt's three tries), giving bounds back, letting scaling act.
      /could not put \w+ back|could not give|scaling could not be let act again|scaling was left|could not let scaling act again/.test(
        p.cause ?? '',
      ),
  );
  if (excused) {
    return [];
  }
  const v: string[] = [];
  const live = world.record.liveColor;
  const idle: Color = live === 'blue' ? 'green' : 'blue';
  const recorded = world.recordedCapacity ?? { blue: 'auto', green: 'auto' };
  const liveBounds = world.scaling[live];
  if (
    liveBounds.min !== settings.minCount ||
    liveBounds.max !== settings.maxCount ||
    liveBounds.scaleInSuspended
  ) {
    v.push(`the live color ${live} does not scale freely within its bounds: ${JSON.stringify(liveBounds)}`);
  }
  const idleBounds = world.scaling[idle];
  const desired = world.services[idle].desired;
  // Pinned; or, while the listener still sends it production traffic (someone else's change the release left
  // alone), held at the count it runs or more (it serves: the Stopped step never pins it).
  const atRest =
    (idleBounds.min === idleBounds.max && desired === idleBounds.max) ||
    (world.weights[idle] > 0 && idleBounds.min === desired && idleBounds.max >= settings.maxCount);
  if (!atRest) {
    v.push(
      `the idle color ${idle} is not at rest: bounds ${JSON.stringify(idleBounds)}, ` +
        `${world.services[idle].desired} desired`,
    );
  }
  for (const color of [live, idle]) {
    const meant = boundsFor(recorded[color], color === live, settings);
    if (JSON.stringify(meant) !== JSON.stringify(world.scaling[color])) {
      v.push(
        `the record's bounds for ${color} (${JSON.stringify(recorded[color])}) are not the fleet's ` +
          `(${JSON.stringify(world.scaling[color])})`,
      );
    }
  }
  return v;
}
