/**
 * `bluegreen promote [--yes]`: the release in flight skips the remaining steps of its gradual shift (canary,
 * linear) and goes to 100%. The CLI moves no traffic itself: it records the request, with who made it and when,
 * on the release lock's item, only while that release holds the lock; the release's next analysis reads it and
 * goes on to "Switch traffic" (re-checking the new color first, as every switch does).
 */
import { STATES } from '../../lambda/shared/state-names';
import { describeStrategy } from '../../lambda/shared/strategy';
import { releaseInFlight } from '../execution';
import { colorName, confirm, duration, EXIT, paint, refused, type CliIo, type ExitCode } from '../io';
import { SHIFT_STATES, shiftOf, stepLine, strategyOf } from '../shift';
import type { AwsSession } from '../target';

export interface PromoteOptions {
  readonly yes?: boolean;
  readonly json?: boolean;
}

export async function promote(session: AwsSession, io: CliIo, options: PromoteOptions): Promise<ExitCode> {
  const target = await session.target();
  const ports = await session.ports();
  const lock = await ports.lock.holder();
  const flight = await releaseInFlight(session.sfn, target.stateMachineArn, lock?.owner);
  if (!flight) {
    throw refused(
      'NothingInFlight',
      `No release of ${target.app} is in flight, so there is nothing to promote.`,
    );
  }
  const release = flight.release;
  const strategy = strategyOf(release);
  if (release && strategy.type === 'all-at-once') {
    throw refused(
      'NotShifting',
      `Release ${flight.name} moves production traffic all at once (strategy all-at-once): it has no shift steps ` +
        'to skip; nothing was requested.',
    );
  }
  const shift = shiftOf(flight.state, release);
  if (!release || !shift) {
    throw refused(
      'NotShifting',
      `Release ${flight.name} is in "${flight.state ?? '?'}", not in a gradual shift: promote skips the remaining ` +
        `steps between "${SHIFT_STATES[0]}" and "${STATES.switch}"; nothing was requested.`,
    );
  }
  const already = shift.promotedBy ?? (await ports.lock.promotion(flight.name));
  if (already) {
    if (options.json) {
      io.out(JSON.stringify({ release: flight.name, promoted: true, by: already.by, at: already.at }));
    } else {
      io.out(
        `Release ${flight.name} was already promoted by ${already.by} at ${already.at}; nothing was changed.`,
      );
    }
    return EXIT.ok;
  }
  const now = stepLine(release, shift);
  await confirm(
    io,
    options,
    `Skip the remaining steps of release ${flight.name} (${describeStrategy(strategy)}; now ${now}) and move ` +
      `all production traffic to ${release.idle} (${release.image}) at its next analysis?`,
  );
  const me = await session.caller();
  const at = io.now();
  if (!(await ports.lock.requestPromotion(flight.name, me, at))) {
    throw refused(
      'ReleaseEnded',
      `Release ${flight.name} no longer holds the release lock (it ended, or is ending); nothing was requested. ` +
        'See bluegreen status.',
    );
  }
  // The next analysis comes when the current bake's wait ends; from the other shift states, after a bake at most.
  const withinMs =
    flight.state === STATES.stepBake && flight.enteredAt
      ? Math.max(0, flight.enteredAt.getTime() + shift.waitSeconds * 1000 - at.getTime())
      : (strategy.type === 'all-at-once' ? 0 : strategy.bakeSeconds) * 1000;
  if (options.json) {
    io.out(
      JSON.stringify({
        release: flight.name,
        promoted: true,
        by: me,
        at: at.toISOString(),
        state: flight.state,
        step: shift.step + 1,
        of: shift.steps.length,
        nextAnalysisWithinSeconds: Math.ceil(withinMs / 1000),
      }),
    );
  } else {
    io.out(
      `${paint(io, 'green', 'Promotion requested')} for release ${flight.name} (${release.image}) by ${me}, at ${now}.`,
    );
    io.out(
      `  The next analysis (within ${duration(withinMs)}) skips the remaining steps to 100%: all production traffic ` +
        `moves to ${colorName(io, release.idle)} once it is re-checked. Follow it with bluegreen status.`,
    );
  }
  return EXIT.ok;
}
