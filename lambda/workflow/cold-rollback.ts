/**
 * `bluegreen rollback` after the previous version's color went cold (scaled to 0 after the release that replaced
 * it): start it again on the revision it ran, wait until it is stable and every target healthy (a deadline), run
 * the smoke checks through the test listener, then move all production traffic to it with the switch's own move
 * (routeAllTo). All of it under the release lock (its lease covers the whole wait); refused with nothing changed
 * on drift, a release in flight, the live version's contract having run, a revision that can no longer run, or a
 * last release older than the window (cold-rollback-plan.ts). Anything that fails before the switch puts the color
 * back to 0 (its bounds as they were) and leaves traffic where it was. Ports only: the CLI runs it with the AWS
 * adapters, the rehearsal with its own.
 */
import { deployVerdict, idleNotReadyBecause, shortRevision } from '../shared/decisions';
import { BluegreenError, MANUAL_ROLLBACK } from '../shared/errors';
import type { FleetStatus, TargetHealth } from '../shared/ports';
import type { CheckResult } from '../shared/release';
import type { Color } from '../shared/release-record';
import { heldAt, type ColorBounds, type RecordedCapacity } from '../shared/scaling';
import { describeTraffic, findDrift, routedTraffic } from '../shared/traffic';
import { afterManualMove, capacityOf, heldBounds } from './capacity';
import {
  COLD_LEASE_SECONDS,
  planColdRollback,
  refusal,
  type ColdPhase,
  type ColdPlan,
  type ColdProgress,
  type ColdRollbackDeps,
  type ColdRollbackRequest,
  type ColdRollbackResult,
  type ColdRollbackSettings,
} from './cold-rollback-plan';
import { allTo, routeAllTo } from './switch';

export async function coldRollback(
  request: ColdRollbackRequest,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
  onProgress: (p: ColdProgress) => void = () => undefined,
): Promise<ColdRollbackResult> {
  const say = (phase: ColdPhase, line: string, counts?: ColdProgress['counts']) =>
    onProgress({ at: deps.now(), phase, line, ...(counts ? { counts } : {}) });
  const asked = request.plan;
  const start = deps.now();
  const lease = new Date(start.getTime() + (COLD_LEASE_SECONDS + settings.pollSeconds) * 1000);
  const lock = await deps.lock.acquire(request.owner, asked.image, start, lease);
  if (!lock.acquired) {
    throw refusal(
      'ReleaseInProgress',
      `${lock.holder} (${lock.image}) took ${settings.appName}'s release lock at ${lock.since}; nothing was changed.`,
    );
  }
  try {
    say(
      'locked',
      `took the release lock as ${request.owner} (until ${lease.toISOString()}, renewed while it runs)`,
    );
    // First what the operator confirmed: another rollback may have run meanwhile (another operator); its color
    // is live now, and running this one again would undo it.
    const now = await deps.record.read();
    if (now.liveColor !== asked.from) {
      throw refusal(
        'StateChanged',
        `Since you confirmed, ${now.liveColor} became live (${now.images[now.liveColor]}), not ${asked.from}: ` +
          'someone else rolled back or released meanwhile. Nothing was changed; check bluegreen status.',
      );
    }
    const plan = await planColdRollback(deps, settings, {
      liveSince: request.liveSince,
      owner: request.owner,
    });
    if (plan.to !== asked.to || plan.image !== asked.image || plan.revision !== asked.revision) {
      throw refusal(
        'StateChanged',
        `Since you confirmed, ${plan.to} became the cold color with ${plan.image} (${shortRevision(plan.revision)}), ` +
          `not ${asked.to} with ${asked.image} (${shortRevision(asked.revision)}). Nothing was changed; run ` +
          'bluegreen rollback again.',
      );
    }
    return await restoreAndSwitch(request, plan, deps, settings, say);
  } finally {
    await deps.lock.release(request.owner);
  }
}

/** Under the lock, from fresh reads (`plan`): scale up, wait, smoke, switch. */
async function restoreAndSwitch(
  request: ColdRollbackRequest,
  plan: ColdPlan,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
  say: (phase: ColdPhase, line: string, counts?: ColdProgress['counts']) => void,
): Promise<ColdRollbackResult> {
  const { to, from, image, revision } = plan;
  const unit = settings.unit ?? 'task';
  const scaling = settings.scaling;
  // The cold color's bounds as they are, to put back if it does not come up.
  const before: { bounds: ColorBounds; recorded: RecordedCapacity } | undefined = scaling
    ? {
        bounds: await capacityOf(to, deps).then(({ min, max, scaleInSuspended }) => ({
          min,
          max,
          scaleInSuspended,
        })),
        recorded: (await deps.record.read()).capacity?.[to] ?? 'auto',
      }
    : undefined;
  let count = plan.count;
  const scaleStart = deps.now();
  const deadline = new Date(scaleStart.getTime() + settings.timeoutSeconds * 1000);
  let scaleUpMs: number;
  let smokeMs: number;
  let checks: CheckResult[];
  // Failures the fleet already counts for this revision (an asg counts launches failed since the version was made,
  // possibly days ago): only new ones say the color crash-loops now.
  const baseline = (await deps.fleet.describe(to, revision)).failedTasks;
  try {
    await scaleTo(to, count, revision, deps, settings);
    say(
      'scale-up',
      `starting ${count} ${unit}(s) of ${image} on ${to} (${shortRevision(revision)}), healthy by ` +
        `${deadline.toISOString()} at the latest`,
    );
    count = await waitUntilReady(plan, count, deadline, baseline, request, deps, settings, say);
    scaleUpMs = deps.now().getTime() - scaleStart.getTime();
    say('healthy', `${to}: ${count}/${count} ${unit}(s) running, all ${count} targets healthy`);

    const smokeStart = deps.now();
    await keepLock(request, plan, deps, settings);
    await deps.router.setTestWeights(allTo(to));
    const validation = await deps.validateColor({
      owner: request.owner,
      color: to,
      image,
      revision,
      version: request.version ?? '',
      count,
    });
    checks = [...validation.checks];
    smokeMs = deps.now().getTime() - smokeStart.getTime();
    if (!validation.passed) {
      throw refusal('SmokeChecksFailed', validation.problems.join(' '));
    }
    say(
      'smoke',
      `smoke checks passed (${checks.map((c) => `${c.name}: ${c.value}`).join('; ')})` +
        (request.version ? '' : '; the previous version is not known, so /version was not checked'),
    );
    // Just before traffic moves: the lock, record, listener and both colors again. If the live color scaled out
    // meanwhile, the cold color follows it (within the same deadline) and is looked at again.
    for (;;) {
      cancelled(request);
      await keepLock(request, plan, deps, settings);
      const more = await readyToSwitch(plan, count, deps, settings);
      if (more === undefined) {
        break;
      }
      say('scale-up', `${from} now runs ${more}: ${to} follows it from ${count}`);
      count = more;
      await scaleTo(to, count, revision, deps, settings);
      count = await waitUntilReady(plan, count, deadline, baseline, request, deps, settings, say);
    }
  } catch (e) {
    const error = e as Error;
    // Without the lock, the cold color may be another release's now: touch nothing.
    const lost =
      error.name === 'LockLost'
        ? error.message
        : await lockLostBecause(request.owner, deps).catch(() => undefined);
    if (lost) {
      say('undo', `${lost} Nothing was undone: ${to} is left as it is.`);
      throw new BluegreenError(
        'LockLost',
        `Cold rollback to ${to} (${image}) stopped: ${lost} ${to} was left as it is (another release may use it ` +
          `now); production traffic was not touched by this rollback. Check bluegreen status.`,
      );
    }
    const undone = await putBack(to, before, deps);
    say('undo', undone);
    const name = error instanceof BluegreenError ? error.name : 'ColdRollbackFailed';
    throw new BluegreenError(
      name,
      `Cold rollback to ${to} (${image}) did not switch: ${error.message} ${undone} Production traffic was not ` +
        `touched: ${from} keeps serving ${plan.fromImage}.`,
    );
  }

  const switchStart = deps.now();
  try {
    await routeAllTo(to, deps);
  } catch (e) {
    throw refusal(
      'ColdRollbackFailed',
      `Moving traffic to ${to} failed: ${(e as Error).name}: ${(e as Error).message} The listener may have moved ` +
        'without the record: bluegreen status shows both and how to reconcile them.',
    );
  }
  const switchMs = deps.now().getTime() - switchStart.getTime();
  const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
  const routed = routedTraffic(weights);
  if (record.liveColor !== to || routed.kind !== 'live' || routed.color !== to) {
    throw refusal(
      'RollbackIncomplete',
      `After the cold rollback the record says ${record.liveColor} and the listener sends ${describeTraffic(routed)}; ` +
        'check bluegreen status and the production listener.',
    );
  }
  const restoreMs = deps.now().getTime() - request.confirmedAt.getTime();
  say('switched', `all production traffic on ${to} (${image}), read back from the record and the listener`);
  const warnings: string[] = [];
  let bounds = '';
  if (scaling) {
    try {
      bounds = ` Scaling: ${await afterManualMove(to, from, deps, scaling)}.`;
    } catch (e) {
      warnings.push(
        `the colors' bounds could not be set (${(e as Error).name}: ${(e as Error).message}); check bluegreen status`,
      );
    }
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const message =
    `Cold rollback by ${request.by}: ${request.reason ?? 'no reason given'}. ${to} was at 0 ${unit}s: ` +
    `${count} ${unit}(s) of ${image} (${shortRevision(revision)}) were started and healthy in ` +
    `${seconds(scaleUpMs)} s, the smoke checks passed in ${seconds(smokeMs)} s` +
    `${request.version ? ` (version ${request.version})` : ' (version not checked: unknown)'}, and all production ` +
    `traffic moved to ${to} in ${switchMs} ms: restored in ${seconds(restoreMs)} s from the confirmation. ` +
    `${from} keeps running ${plan.fromImage}, idle and warm: the fast way forward.${bounds}`;
  try {
    await deps.notifier.publish({
      app: settings.appName,
      release: request.owner,
      status: 'ROLLED_BACK',
      image: plan.fromImage,
      liveColor: to,
      error: MANUAL_ROLLBACK,
      cause: message,
    });
  } catch (e) {
    warnings.push(`publishing the outcome failed: ${(e as Error).message}`);
  }
  return {
    to,
    from,
    image,
    revision,
    count,
    ...(request.version ? { version: request.version } : {}),
    checks,
    timings: { restoreMs, scaleUpMs, smokeMs, switchMs },
    message,
    warnings,
  };
}

/** The cold color on its revision with `count`; with auto scaling held at that count (bounds and record). */
async function scaleTo(
  color: Color,
  count: number,
  revision: string,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
): Promise<void> {
  const scaling = settings.scaling;
  const [restored] = await Promise.all([
    deps.fleet.restore(color, count, revision, scaling ? heldBounds(count, scaling) : undefined),
    scaling ? deps.record.writeCapacity(color, heldAt(count, scaling)) : undefined,
  ]);
  if (restored.count !== count || (restored.revision && restored.revision !== revision)) {
    throw refusal(
      'ColdRollbackFailed',
      `${color} could not be put back on ${shortRevision(revision)} with ${count}: ${restored.note ?? `it runs ${restored.count}`}.`,
    );
  }
}

/**
 * Waits until the cold color runs `count` of its revision, its rollout completed and every target healthy, or the
 * deadline (NotHealthy); a crash loop (failures beyond `baseline`) ends it sooner. If the live color scales out
 * meanwhile, the cold color follows it. Returns the count.
 */
async function waitUntilReady(
  plan: ColdPlan,
  initial: number,
  deadline: Date,
  baseline: number,
  request: ColdRollbackRequest,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
  say: (phase: ColdPhase, line: string, counts?: ColdProgress['counts']) => void,
): Promise<number> {
  const { to, from, revision } = plan;
  const unit = settings.unit ?? 'task';
  let count = initial;
  let last = '';
  for (;;) {
    cancelled(request);
    await keepLock(request, plan, deps, settings);
    const [described, health, live] = await Promise.all([
      deps.fleet.describe(to, revision),
      deps.router.targetHealth(to),
      deps.fleet.describe(from),
    ]);
    const status = { ...described, failedTasks: Math.max(described.failedTasks - baseline, 0) };
    const counts = { running: status.running, desired: count, healthy: health.healthy };
    const line = `${to}: ${status.running}/${count} ${unit}s running, ${health.healthy} healthy`;
    if (line !== last) {
      say('waiting', line, counts);
      last = line;
    }
    const verdict = deployVerdict({ status, health, revision, count, now: deps.now(), deadline });
    if (verdict.kind === 'failed' || verdict.kind === 'timeout') {
      throw refusal('NotHealthy', `${to} did not become healthy: ${verdict.reason}.`);
    }
    if (verdict.kind === 'ready') {
      if (live.desired <= count) {
        return count;
      }
      // The live color scaled out since: the cold color must take all of it.
      say('scale-up', `${from} now runs ${live.desired}: ${to} follows it from ${count}`);
      count = live.desired;
      await scaleTo(to, count, revision, deps, settings);
      continue;
    }
    // Never past the deadline: the last look is at it.
    const left = Math.max(deadline.getTime() - deps.now().getTime(), 0);
    await pause(Math.min(settings.pollSeconds * 1000, left), request.signal, deps);
  }
}

/** The operator stopped it (Ctrl-C): a named error, so the color is put back and the lock freed. */
function cancelled(request: ColdRollbackRequest): void {
  if (request.signal?.aborted) {
    throw refusal('Cancelled', 'Stopped by the operator (Ctrl-C) before the switch.');
  }
}

/** Sleeps `ms`, or less when `signal` aborts meanwhile. */
async function pause(ms: number, signal: AbortSignal | undefined, deps: ColdRollbackDeps): Promise<void> {
  if (!signal) {
    return deps.sleep(ms);
  }
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([deps.sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Why the lock is not ours any more (another holder, or none); undefined while it is. */
async function lockLostBecause(owner: string, deps: ColdRollbackDeps): Promise<string | undefined> {
  const holder = await deps.lock.holder();
  if (holder?.owner === owner) {
    return undefined;
  }
  return holder
    ? `the release lock is now held by ${holder.owner} (until ${holder.expiresAt}), not by ${owner}.`
    : `the release lock is no longer held by ${owner} (its lease ran out).`;
}

/** Still our lock (LockLost otherwise), its lease renewed from now. */
async function keepLock(
  request: ColdRollbackRequest,
  plan: ColdPlan,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
): Promise<void> {
  const lost = await lockLostBecause(request.owner, deps);
  const now = deps.now();
  const renewed =
    !lost &&
    (
      await deps.lock.acquire(
        request.owner,
        plan.image,
        now,
        new Date(now.getTime() + (COLD_LEASE_SECONDS + settings.pollSeconds) * 1000),
      )
    ).acquired;
  if (!renewed) {
    throw refusal('LockLost', lost ?? `the release lock was taken by another release just now.`);
  }
}

/**
 * On fresh reads, just before the switch: no drift, the live color unchanged, the cold color still ready with
 * `count`. Returns the live color's count when it scaled out past `count` (the cold color must follow first).
 */
async function readyToSwitch(
  plan: ColdPlan,
  count: number,
  deps: ColdRollbackDeps,
  settings: ColdRollbackSettings,
): Promise<number | undefined> {
  const [record, weights, status, health, live] = await Promise.all([
    deps.record.read(),
    deps.router.productionWeights(),
    deps.fleet.describe(plan.to, plan.revision),
    deps.router.targetHealth(plan.to),
    deps.fleet.describe(plan.from),
  ]);
  const drift = findDrift(record.liveColor, weights, settings.recordParameter, record.weights);
  if (drift || record.liveColor !== plan.from) {
    throw refusal(
      'StateChanged',
      drift ? drift.message : `The record now says ${record.liveColor} is live, not ${plan.from}.`,
    );
  }
  const why = notReady(status, health, plan.revision, count);
  if (why) {
    throw refusal('NotHealthy', `Re-checked just before the switch, ${plan.to} is no longer ready: ${why}.`);
  }
  return live.desired > count ? live.desired : undefined;
}

function notReady(status: FleetStatus, health: TargetHealth, revision: string, count: number) {
  return idleNotReadyBecause({ status, health, revision, count });
}

/** The cold color back to 0, its bounds and record as they were. Says what it did (or that it could not). */
async function putBack(
  color: Color,
  before: { bounds: ColorBounds; recorded: RecordedCapacity } | undefined,
  deps: ColdRollbackDeps,
): Promise<string> {
  try {
    await Promise.all([
      deps.fleet.restore(color, 0, undefined, before?.bounds),
      before ? deps.record.writeCapacity(color, before.recorded) : undefined,
    ]);
    return `${color} was put back to 0${before ? ` (bounds ${before.bounds.min}..${before.bounds.max} as before)` : ''}.`;
  } catch (e) {
    return (
      `Putting ${color} back to 0 failed too (${(e as Error).name}: ${(e as Error).message}): it may still run; ` +
      'bluegreen status shows it.'
    );
  }
}
