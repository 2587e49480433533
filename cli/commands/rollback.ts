/**
 * `bluegreen rollback`: an operator sends production back to the other color, now.
 *
 * - During a release's watch (after its switch): stop the execution (error ManualRollback), then run the state
 *   machine's own Roll back step (workflow/conclude.ts): traffic and record back to the old color, the new
 *   color put back as it was, the lock released, the outcome published.
 * - After a release, while the previous color is still warm: take the lock, move traffic with the same code
 *   the switch uses (routeAllTo: listener, test rule, record), check the result, release the lock.
 * - Refused, with nothing changed: drift between record and listener, a release before its switch (nothing to
 *   roll back), mid-switch or finishing, or a previous color that cannot take the load (no half-switch).
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { ReleaseState } from '../../lambda/shared/release';
import { phaseOf } from '../../lambda/shared/state-names';
import { describeTraffic, routedTraffic } from '../../lambda/shared/traffic';
import { rollback as rollbackRelease } from '../../lambda/workflow/conclude';
import { routeAllTo } from '../../lambda/workflow/switch';
import { colorName, EXIT, paint, refused, usage, type CliIo, type ExitCode } from '../io';
import type { AwsSession } from '../target';
import { readStatus } from './status';

export const MANUAL_ROLLBACK = 'ManualRollback';

export interface RollbackOptions {
  readonly yes?: boolean;
  readonly reason?: string;
  readonly json?: boolean;
}

export async function rollback(session: AwsSession, io: CliIo, options: RollbackOptions): Promise<ExitCode> {
  const { report, flight } = await readStatus(session);
  const app = report.app;
  if (report.drift) {
    throw refused(
      'Drift',
      `${report.drift} Nothing was changed: rolling back now would be a guess. Reconcile record and listener first.`,
    );
  }
  const me = (await session.sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
  const why = `Rolled back by ${me} with bluegreen rollback: ${options.reason ?? 'no reason given'}.`;
  const ports = await session.ports();

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
    await confirm(
      io,
      options,
      `Stop release ${flight.name} and move all production traffic from ${release.idle} (${release.image}) back to ` +
        `${release.live} (${report.colors[release.live].image})?`,
    );
    await session.sfn.send(
      new StopExecutionCommand({ executionArn: flight.executionArn, error: MANUAL_ROLLBACK, cause: why }),
    );
    const state: ReleaseState = {
      execution: flight.name,
      release,
      failure: { Error: MANUAL_ROLLBACK, Cause: why },
    };
    let out: ReleaseState;
    try {
      // The state machine's own Roll back step; its moves are absolute, so a retry after a partial failure is safe.
      out = await retried(() => rollbackRelease(state, ports, { appName: app }));
    } catch (e) {
      throw usage(
        'RollbackFailed',
        `Release ${flight.name} was stopped, but rolling back failed: ${(e as Error).name}: ${(e as Error).message} ` +
          'Traffic and record may disagree now: bluegreen status shows both and how to reconcile them.',
      );
    }
    return done(io, options, {
      release: flight.name,
      stopped: true,
      liveColor: release.live,
      image: report.colors[release.live].image,
      message: out.outcome?.cause ?? '',
    });
  }

  if (report.lock && Date.parse(report.lock.expiresAt) > io.now().getTime()) {
    throw refused(
      'ReleaseInProgress',
      `${report.lock.owner} (${report.lock.image}) holds ${app}'s release lock since ${report.lock.since}; nothing was changed.`,
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
  await confirm(
    io,
    options,
    `Move all production traffic from ${from} (${report.colors[from].image}) back to ${to} (${report.colors[to].image})?`,
  );
  const owner = `manual-rollback-${io.now().toISOString().replace(/[-:.]/g, '')}`;
  const now = io.now();
  const lock = await ports.lock.acquire(
    owner,
    report.colors[to].image,
    now,
    new Date(now.getTime() + 10 * 60_000),
  );
  if (!lock.acquired) {
    throw refused(
      'ReleaseInProgress',
      `${lock.holder} (${lock.image}) took ${app}'s release lock at ${lock.since}; nothing was changed.`,
    );
  }
  try {
    await retried(() => routeAllTo(to, ports));
    const [record, weights] = await Promise.all([ports.record.read(), ports.router.productionWeights()]);
    const routed = routedTraffic(weights);
    if (record.liveColor !== to || routed.kind !== 'live' || routed.color !== to) {
      throw usage(
        'RollbackIncomplete',
        `After the rollback the record says ${record.liveColor} and the listener sends ${describeTraffic(routed)}; ` +
          'check bluegreen status and the production listener.',
      );
    }
    const message = `${why} All production traffic is on ${to} (${report.colors[to].image}) and the record says so; ${from} keeps running ${report.colors[from].image}, idle.`;
    await ports.notifier
      .publish({
        app,
        release: owner,
        status: 'ROLLED_BACK',
        image: report.colors[from].image,
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
      image: report.colors[to].image,
      message,
    });
  } finally {
    await ports.lock.release(owner);
  }
}

async function confirm(io: CliIo, options: RollbackOptions, question: string): Promise<void> {
  if (options.yes) {
    return;
  }
  if (!io.tty || options.json) {
    throw usage(
      'ConfirmationNeeded',
      `${question} This changes production: confirm with --yes when not on a terminal.`,
    );
  }
  if (!(await io.confirm(question))) {
    throw refused('NotConfirmed', 'Not confirmed; nothing was changed.');
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

/** The moves set absolute values, so a partial failure is retried as a whole (3 tries). */
async function retried<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (e) {
      if (attempt >= 3) {
        throw e;
      }
    }
  }
}
