/**
 * `bluegreen rollback`: an operator sends production back to the other color, now.
 *
 * - During a release's bake (after its switch), or during a gradual shift's bake or analysis (traffic split
 *   between the colors, the record still on the old one): take the release's lock over (so nothing can start
 *   meanwhile, and the Stopped step, which only frees its own release's lock, leaves it alone), stop the
 *   execution (error ManualRollback), check on fresh reads that it really stopped after its switch (or in a shift
 *   step's bake or analysis) and before Finish, and that the old color is still warm, then run the state
 *   machine's own Roll back step (workflow/conclude.ts): traffic and record back to the old color (one listener
 *   change, which also switches a shift's stickiness off), the new color put back as it was, the outcome published.
 * - After a release, while the previous color is still warm: take the lock, check again on fresh reads, move
 *   traffic with the same code the switch uses (routeAllTo: listener, test rule, record), read back the result.
 * - Refused, with nothing changed: drift between record and listener, a release before its switch (nothing to
 *   roll back), mid-switch or finishing, or a previous color that cannot take the load (no half-switch).
 * - After a release whose previous color went cold (0 tasks): cold-rollback.ts brings it back first (a stack
 *   deployed before cold rollbacks, without their output, is refused as NotWarm).
 * Whatever it decided before asking for confirmation is decided again after, under the lock.
 */
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Release, ReleaseState } from '../../lambda/shared/release';
import { FLEET_BUSY, FLEET_BUSY_SCHEDULE, MANUAL_ROLLBACK } from '../../lambda/shared/errors';
import type { Color } from '../../lambda/shared/release-record';
import { phaseOf } from '../../lambda/shared/state-names';
import { describeTraffic, routedTraffic } from '../../lambda/shared/traffic';
import { rollback as rollbackRelease } from '../../lambda/workflow/conclude';
import { afterManualMove } from '../../lambda/workflow/capacity';
import { routeAllTo } from '../../lambda/workflow/switch';
import { positionNow, type InFlight } from '../execution';
import { SHIFT_STATES, stepLine } from '../shift';
import { colorName, confirm, EXIT, paint, refused, type CliIo, type ExitCode } from '../io';
import type { AwsSession, Ports } from '../target';
import { rollbackCold, wentCold, type ColdRollbackOptions } from './cold-rollback';
import { readStatus, type StatusReport } from './status';

/** How long a manual rollback holds the lock at most (it releases it as soon as it is done). */
const LEASE_MS = 10 * 60_000;

export interface RollbackOptions extends ColdRollbackOptions {
  readonly yes?: boolean;
  readonly reason?: string;
  readonly json?: boolean;
}

type Plan =
  | { readonly kind: 'stop-release'; readonly flight: InFlight; readonly release: Release }
  | { readonly kind: 'after-release'; readonly to: Color; readonly from: Color };

export async function rollback(session: AwsSession, io: CliIo, options: RollbackOptions): Promise<ExitCode> {
  const { report, flight } = await readStatus(session);
  let plan: Plan;
  try {
    plan = planRollback(report, flight, io.now());
  } catch (e) {
    // Not warm only because the idle color went cold (0 tasks): bring it back first (cold-rollback.ts).
    if (
      (e as Error).name === 'NotWarm' &&
      !flight &&
      wentCold(report) &&
      (await session.target()).coldRollback
    ) {
      return rollbackCold(session, io, options, report);
    }
    throw e;
  }
  const question =
    plan.kind === 'stop-release'
      ? `Stop release ${plan.flight.name} and move all production traffic from ${plan.release.idle} ` +
        `(${plan.release.image}${report.shift ? `, now ${stepLine(plan.release, report.shift)}` : ''}) ` +
        `back to ${plan.release.live} (${report.colors[plan.release.live].image})?`
      : `Move all production traffic from ${plan.from} (${report.colors[plan.from].image}) back to ${plan.to} ` +
        `(${report.colors[plan.to].image})?`;
  await confirm(io, options, question);

  const me = await session.caller();
  const why = `Rolled back by ${me} with bluegreen rollback: ${options.reason ?? 'no reason given'}.`;
  const ports = await session.ports();
  // With auto scaling, the colors' bounds follow the move (the configured ones for the color taking traffic).
  const scaling = (await session.target()).scaling;
  const owner = `manual-rollback-${io.now().toISOString().replace(/[-:.]/g, '')}`;
  const now = io.now();
  const lease = new Date(now.getTime() + LEASE_MS);

  if (plan.kind === 'stop-release') {
    const { flight: f, release } = plan;
    if (!(await ports.lock.handOver(f.name, owner, now, lease))) {
      throw refused(
        'ReleaseEnded',
        `Release ${f.name} no longer holds the release lock (it ended meanwhile); nothing was changed. ` +
          'See bluegreen status, then run bluegreen rollback again.',
      );
    }
    try {
      // It may have ended its release by itself while the question was asked (a failed bake check rolls back, and
      // its rollback hook holds the lock meanwhile): then it is not stopped, and its lock goes back to it.
      const moved = await positionNow(session.sfn, f.executionArn);
      if (phaseOf(moved.state ?? '') === 'ending') {
        await ports.lock.handOver(owner, f.name, now, new Date(report.lock?.expiresAt ?? lease));
        // If it ended meanwhile, its own release of the lock found it ours and did nothing: freed here (only if it
        // is still the release's), never left held until its lease ends.
        const after = await session.sfn.send(new DescribeExecutionCommand({ executionArn: f.executionArn }));
        if (after.status !== 'RUNNING') {
          await ports.lock.release(f.name);
        }
        throw refused('ReleaseEnding', endingUnderWay(f.name, moved.state, after.status));
      }
      await session.sfn.send(
        new StopExecutionCommand({ executionArn: f.executionArn, error: MANUAL_ROLLBACK, cause: why }),
      );
      const stopped = await session.sfn.send(new DescribeExecutionCommand({ executionArn: f.executionArn }));
      if (stopped.status !== 'ABORTED') {
        throw refused(
          'ReleaseEnded',
          `Release ${f.name} ended ${stopped.status ?? '?'} before it could be stopped; this command changed nothing. ` +
            'See bluegreen status, then run bluegreen rollback again.',
        );
      }
      // Nothing moves any more: decide again on fresh reads.
      const position = await positionNow(session.sfn, f.executionArn);
      const last = position.release ?? release;
      if (phaseOf(position.state ?? '') === 'ending') {
        // Its bake failed between the look above and the stop: stopped while ending by itself.
        throw refused(
          'ReleaseEnding',
          `Release ${f.name} was stopped in "${position.state ?? '?'}", while it was ending by itself (its own ` +
            `rollback or report had begun); the Stopped step reports it. See bluegreen status: if traffic is not all ` +
            `on ${release.live}, run bluegreen rollback again.`,
        );
      }
      if (phaseOf(position.state ?? '') !== 'after-switch') {
        throw refused(
          'ReleaseBusy',
          `Release ${f.name} was stopped in "${position.state ?? '?'}", whose step may still be running; traffic ` +
            `stays where it is (${SHIFT_STATES.includes(position.state ?? '') ? `part of it on ${release.idle}` : release.idle}). ` +
            'See bluegreen status, then run bluegreen rollback again.',
        );
      }
      // Its last state says where it left traffic (all on the new color, or a shift's split).
      const again = (await readStatus(session, { ...f, ...position, release: last })).report;
      requireSafe(
        again,
        release.live,
        release.idle,
        `release ${f.name} was stopped, and traffic stays ${again.shift ? `split (${again.traffic})` : `on ${release.idle}`}`,
      );
      const state: ReleaseState = {
        execution: f.name,
        release: last,
        failure: { Error: MANUAL_ROLLBACK, Cause: why },
      };
      let out: ReleaseState;
      try {
        // The state machine's own Roll back step; its moves are absolute, so a retry after a partial failure is safe.
        out = await retried(io, () => rollbackRelease(state, ports, { appName: again.app, scaling }));
      } catch (e) {
        throw failedMove(`Release ${f.name} was stopped, but rolling back failed`, e);
      }
      return done(io, options, {
        release: f.name,
        stopped: true,
        liveColor: release.live,
        image: again.colors[release.live].image,
        message: out.outcome?.cause ?? '',
      });
    } finally {
      await releaseQuietly(ports, owner, io);
    }
  }

  const { to, from } = plan;
  const lock = await ports.lock.acquire(owner, report.colors[to].image, now, lease);
  if (!lock.acquired) {
    throw refused(
      'ReleaseInProgress',
      `${lock.holder} (${lock.image}) took ${report.app}'s release lock at ${lock.since}; nothing was changed.`,
    );
  }
  try {
    const again = (await readStatus(session)).report;
    requireSafe(again, to, from, 'nothing was changed');
    try {
      await retried(io, () => routeAllTo(to, ports));
    } catch (e) {
      throw failedMove('Moving traffic back failed', e);
    }
    const [record, weights] = await Promise.all([ports.record.read(), ports.router.productionWeights()]);
    const routed = routedTraffic(weights);
    if (record.liveColor !== to || routed.kind !== 'live' || routed.color !== to) {
      throw refused(
        'RollbackIncomplete',
        `After the rollback the record says ${record.liveColor} and the listener sends ${describeTraffic(routed)}; ` +
          'check bluegreen status and the production listener.',
      );
    }
    let bounds = '';
    if (scaling) {
      try {
        bounds = ` Scaling: ${await retried(io, () => afterManualMove(to, from, ports, scaling))}.`;
      } catch (e) {
        bounds =
          ` Scaling: the colors' bounds could not be set (${(e as Error).name}: ${(e as Error).message}); ` +
          `${to} may keep the bounds it had while idle: check bluegreen status.`;
        io.err(`warning: the rollback is done, but${bounds.slice(' Scaling:'.length)}`);
      }
    }
    const message =
      `${why} All production traffic is on ${to} (${again.colors[to].image}) and the record says so; ${from} keeps ` +
      `running ${again.colors[from].image}, idle.${bounds}`;
    await ports.notifier
      .publish({
        app: again.app,
        release: owner,
        status: 'ROLLED_BACK',
        image: again.colors[from].image,
        liveColor: to,
        error: MANUAL_ROLLBACK,
        cause: message,
      })
      .catch((e: unknown) =>
        io.err(`warning: the rollback is done, but publishing it failed: ${(e as Error).message}`),
      );
    return done(io, options, {
      release: owner,
      stopped: false,
      liveColor: to,
      image: again.colors[to].image,
      message,
    });
  } finally {
    await releaseQuietly(ports, owner, io);
  }
}

/** A release found ending by itself (rolled back, aborted, ...): nothing for this command to do. */
function endingUnderWay(name: string, state: string | undefined, status = 'RUNNING'): string {
  return (
    (status === 'RUNNING'
      ? `Release ${name} is ending by itself (in "${state ?? '?'}": its rollback, abort or report runs)`
      : `Release ${name} ended by itself (${status}, after "${state ?? '?'}")`) +
    ', so this command changed nothing; its ending moves traffic itself, and the Stopped step finishes it if it ' +
    'cannot. See bluegreen status.'
  );
}

/** What a rollback would do now, or why it must not (a refusal, nothing changed). */
export function planRollback(report: StatusReport, flight: InFlight | undefined, now: Date): Plan {
  if (report.drift) {
    throw refused(
      'Drift',
      `${report.drift} Nothing was changed: rolling back now would be a guess. Reconcile record and listener first.`,
    );
  }
  if (report.migrations?.blocksRollback) {
    throw refused('ContractRan', `${report.migrations.blocksRollback} Nothing was changed.`);
  }
  if (flight) {
    const phase = phaseOf(flight.state ?? '');
    if (phase === 'before-switch') {
      throw refused(
        'NothingToRollBack',
        `Release ${flight.name} is in "${flight.state ?? '?'}": production traffic has not moved (${report.traffic}), ` +
          'so there is nothing to roll back. It aborts by itself if it fails' +
          (flight.approval ? '; to stop it at the gate: bluegreen reject --reason "..."' : '.'),
      );
    }
    if (phase === 'ending') {
      throw refused('ReleaseEnding', endingUnderWay(flight.name, flight.state));
    }
    if (phase !== 'after-switch' || !flight.release) {
      throw refused(
        'ReleaseBusy',
        `Release ${flight.name} is in "${flight.state ?? '?'}" right now; nothing was changed. Run bluegreen rollback ` +
          'again in a few seconds (bluegreen status shows where it stands).',
      );
    }
    const release = flight.release;
    if (!report.rollback.possible || report.rollback.to !== release.live) {
      throw refused(
        'NotWarm',
        `Cannot roll back release ${flight.name}: ${report.rollback.reason ?? `${release.live} is not the idle color`}. Nothing was changed.`,
      );
    }
    return { kind: 'stop-release', flight, release };
  }
  if (report.lock && Date.parse(report.lock.expiresAt) > now.getTime()) {
    throw refused(
      'ReleaseInProgress',
      `${report.lock.owner} (${report.lock.image}) holds ${report.app}'s release lock since ${report.lock.since}; nothing was changed.`,
    );
  }
  const to = report.rollback.to;
  const from = report.liveColor;
  if (!report.rollback.possible) {
    throw refused(
      'NotWarm',
      `Cannot roll back to ${to}: ${report.rollback.reason ?? ''}. Nothing was changed: switching to a color that ` +
        `cannot take the load would be an outage. ${from} keeps serving; release the previous image again instead ` +
        `(bluegreen release --image ${report.colors[to].image}).`,
    );
  }
  return { kind: 'after-release', to, from };
}

/** Under the lock, on fresh reads: `from` is live per record and listener, and `to` can take all of its traffic. */
function requireSafe(report: StatusReport, to: Color, from: Color, outcome: string): void {
  if (report.drift) {
    throw refused('Drift', `${report.drift} The rollback did not go ahead (${outcome}).`);
  }
  if (report.migrations?.blocksRollback) {
    throw refused(
      'ContractRan',
      `${report.migrations.blocksRollback} The rollback did not go ahead (${outcome}).`,
    );
  }
  // During a gradual shift the record still says the old color (`to`), and the listener sends it the rest.
  const recorded = report.shift ? to : from;
  if (report.liveColor !== recorded || report.idleWarm.color !== to) {
    throw refused(
      'ReleaseEnded',
      `${from} is no longer the live color (${report.traffic}); the rollback did not go ahead (${outcome}).`,
    );
  }
  if (!report.idleWarm.warm) {
    throw refused('NotWarm', `${report.idleWarm.reason ?? ''}; the rollback did not go ahead (${outcome}).`);
  }
}

function failedMove(what: string, e: unknown) {
  const error = e as Error;
  return refused(
    'RollbackFailed',
    `${what}: ${error.name}: ${error.message} The listener may have moved without the record: bluegreen status shows ` +
      'both and how to reconcile them.',
  );
}

async function releaseQuietly(ports: Ports, owner: string, io: CliIo): Promise<void> {
  try {
    await ports.lock.release(owner);
  } catch (e) {
    io.err(
      `warning: could not release the lock ${owner} (${(e as Error).message}); it expires in ${LEASE_MS / 60_000} minutes.`,
    );
  }
}

function done(
  io: CliIo,
  options: RollbackOptions,
  result: { release: string; stopped: boolean; liveColor: string; image: string; message: string },
): ExitCode {
  if (options.json) {
    io.out(JSON.stringify({ rolledBack: true, ...result }));
  } else {
    io.out(
      `${paint(io, 'green', 'Rolled back')}: ${colorName(io, result.liveColor)} (${result.image}) serves all production traffic.`,
    );
    io.out(`  ${result.message}`);
  }
  return EXIT.ok;
}

/**
 * The moves set absolute values, so a partial failure is retried as a whole (3 tries). An instance refresh still
 * stopping (asg: RefreshStillActive) is waited for as the state machine would (FLEET_BUSY_SCHEDULE), saying so.
 */
async function retried<T>(io: CliIo, action: () => Promise<T>): Promise<T> {
  let failures = 0;
  let busy = 0;
  for (;;) {
    try {
      return await action();
    } catch (e) {
      const error = e as Error;
      if (error.name === FLEET_BUSY && busy < FLEET_BUSY_SCHEDULE.maxAttempts) {
        const seconds = Math.round(
          FLEET_BUSY_SCHEDULE.intervalSeconds * FLEET_BUSY_SCHEDULE.backoffRate ** busy,
        );
        busy += 1;
        io.err(`waiting ${seconds} s (${busy}/${FLEET_BUSY_SCHEDULE.maxAttempts}): ${error.message}`);
        await io.sleep(seconds * 1000);
        continue;
      }
      if (error.name === FLEET_BUSY || ++failures >= 3) {
        throw e;
      }
    }
  }
}
