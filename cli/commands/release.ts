/**
 * `bluegreen release --image <repo:tag> [--strategy S] [--dry-run] [--wait]`: starts one execution of the app's
 * release state machine. With --wait it follows the execution as the console shows it (each state entered and
 * left, with durations; during a gradual shift each step's split and verdict) and exits 0 when the release is
 * live, 1 when it failed, rolled back or was refused.
 */
import { DescribeStateMachineCommand, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { causeMessage } from '../../lambda/shared/release';
import { describeStrategy, parseStrategy, type Strategy } from '../../lambda/shared/strategy';
import {
  eventsAfter,
  followEvents,
  releaseInFlight,
  type FollowEvent,
  type FollowMemory,
} from '../execution';
import { colorName, duration, EXIT, paint, refused, usage, type CliIo, type ExitCode } from '../io';
import { SHIFT_STATES, ShiftProgress, type ShiftNews } from '../shift';
import type { AwsSession } from '../target';

export interface ReleaseOptions {
  readonly image: string;
  readonly version?: string;
  /** How traffic moves for this release: "all-at-once", "canary:10:5m", "linear:25:2m" (default: the config's). */
  readonly strategy?: string;
  /** The analysis reports every verdict and acts on none. */
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly json?: boolean;
  /** Minutes to follow the execution before giving up (default: the state machine's timeout + 5 minutes). */
  readonly timeout?: number;
  /** Seconds between two reads of the execution's history while following it. */
  readonly pollSeconds?: number;
}

export async function release(session: AwsSession, io: CliIo, options: ReleaseOptions): Promise<ExitCode> {
  if (!/^[^\s:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/.test(options.image)) {
    throw usage(
      'InvalidImage',
      `--image must be "<repository>:<tag>" or "<repository>@sha256:<digest>" (got "${options.image}").`,
    );
  }
  const strategy = strategyOption(options);
  const target = await session.target();
  const who = await startedBy(session, io);
  // The state machine's lock is the authority; this check only says it sooner and more plainly.
  const flight = await releaseInFlight(session.sfn, target.stateMachineArn);
  if (flight) {
    throw refused(
      'ReleaseInProgress',
      `Release ${flight.name} (${flight.release?.image ?? 'image not known yet'}) is in flight for ${target.app}, in ` +
        `"${flight.state ?? '?'}"; ${options.image} was not started. Wait for it to end (bluegreen status), or ` +
        'answer it if it waits for approval (bluegreen approve | reject).',
      { inFlight: flight.name, state: flight.state },
    );
  }
  const lock = await (await session.ports()).lock.holder();
  if (lock && Date.parse(lock.expiresAt) > io.now().getTime()) {
    throw refused(
      'ReleaseInProgress',
      `${lock.owner} (${lock.image}, since ${lock.since}) holds ${target.app}'s release lock; ${options.image} was not ` +
        'started. Try again when it is done (bluegreen status).',
      { lockHolder: lock.owner },
    );
  }
  const name = executionName(options.image, io.now());
  const started = await session.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: target.stateMachineArn,
      name,
      input: JSON.stringify({
        image: options.image,
        ...(options.version ? { version: options.version } : {}),
        ...(strategy ? { strategy } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
        startedBy: who,
      }),
    }),
  );
  const executionArn = started.executionArn!;
  const console = consoleUrl(executionArn);
  if (options.json) {
    io.out(
      JSON.stringify({
        event: 'started',
        release: name,
        executionArn,
        image: options.image,
        ...(strategy ? { strategy } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
        startedBy: who,
        console,
      }),
    );
  } else {
    const how =
      (strategy ? `, ${describeStrategy(strategy)}` : '') +
      (options.dryRun ? ' (dry run: the analysis reports, never acts)' : '');
    io.out(`Release ${paint(io, 'bold', name)} started: ${options.image} for ${target.app}${how}`);
    io.out(`  console: ${console}`);
  }
  if (!options.wait) {
    if (!options.json) {
      io.out(`  follow it: bluegreen status, or bluegreen release ... --wait`);
    }
    return EXIT.ok;
  }
  const deadlineMs =
    (options.timeout ?? (await machineTimeoutMinutes(session, target.stateMachineArn)) + 5) * 60_000;
  return follow(session, io, executionArn, {
    json: options.json === true,
    deadline: io.now().getTime() + deadlineMs,
    pollMs: (options.pollSeconds ?? 2) * 1000,
  });
}

/**
 * ALB's metrics in AWS come in one-minute periods, and a shift step must bake at least two whole periods so its
 * window can be judged (the workflow checks the input again, with the app's settings).
 */
const MIN_BAKE_SECONDS = 2 * 60;

/** --strategy as the execution input takes it (the object form), checked before anything is started. */
function strategyOption(options: ReleaseOptions): Strategy | undefined {
  if (options.strategy === undefined) {
    return undefined;
  }
  const { strategy, problems } = parseStrategy(options.strategy, '--strategy', MIN_BAKE_SECONDS);
  if (!strategy) {
    throw usage('InvalidStrategy', `${problems.join('; ')}. Nothing was started.`);
  }
  if (options.dryRun && strategy.type === 'all-at-once') {
    throw usage(
      'InvalidStrategy',
      '--dry-run reports the analysis of shift steps, and --strategy all-at-once has none: use a canary or linear ' +
        'strategy with --dry-run. Nothing was started.',
    );
  }
  return strategy;
}

/** Follows an execution to its end, printing each state as it is entered and left. */
export async function follow(
  session: AwsSession,
  io: CliIo,
  executionArn: string,
  options: { json: boolean; deadline: number; pollMs: number },
): Promise<ExitCode> {
  const entered: FollowMemory = new Map();
  const shift = new ShiftProgress();
  let lastId = 0;
  let errors = 0;
  let spin = 0;
  for (;;) {
    let fresh: HistoryEvent[];
    try {
      fresh = await eventsAfter(session.sfn, executionArn, lastId);
      errors = 0;
    } catch (e) {
      // A throttled or dropped read is retried; five in a row means we cannot watch: say so (exit 2).
      if (++errors >= 5) {
        throw e;
      }
      fresh = [];
    }
    if (fresh.length > 0) {
      lastId = fresh[fresh.length - 1].id ?? lastId;
    }
    const events = followEvents(fresh, entered);
    for (const event of options.json ? events : readable(events)) {
      const news =
        event.type === 'entered' || event.type === 'left'
          ? shift.news(event.release, event.release?.shift)
          : [];
      if (options.json) {
        io.out(JSON.stringify(jsonEvent(event)));
        news.forEach((n) => io.out(JSON.stringify(jsonShiftNews(n, event.at))));
      } else {
        printEvent(io, event);
        news.forEach((n) => io.out(`  ${shiftStyle(io, n)}`));
      }
      if (event.type === 'finished') {
        return event.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
      }
    }
    if (io.now().getTime() > options.deadline) {
      throw usage(
        'WaitTimeout',
        `Stopped following ${executionArn} at the --timeout deadline; the release itself goes on (bluegreen status).`,
      );
    }
    if (io.tty && !options.json) {
      const [state, open] = [...entered.entries()].pop() ?? ['starting', { at: io.now() }];
      const since = open.at;
      const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
      io.status(
        `${paint(io, 'cyan', frames[spin++ % frames.length])} ${state}` +
          (SHIFT_STATES.includes(state) && shift.current ? ` (${shift.current})` : '') +
          ` ${paint(io, 'dim', duration(io.now().getTime() - since.getTime()))}`,
      );
    }
    await io.sleep(options.pollMs);
  }
}

/**
 * For people: a state entered and left within one read is one line (its exit, with the duration); a state still
 * running when the read ends is shown as entered, so a log shows what the release is waiting on.
 */
function readable(events: readonly FollowEvent[]): FollowEvent[] {
  return events.filter(
    (e, i) =>
      e.type !== 'entered' ||
      !events.slice(i + 1).some((later) => later.type === 'left' && later.state === e.state),
  );
}

function printEvent(io: CliIo, event: FollowEvent): void {
  const time = paint(io, 'dim', event.at.toISOString().slice(11, 19));
  switch (event.type) {
    case 'entered':
      if (!io.tty) {
        io.out(`${time} entered ${event.state}`);
      }
      break;
    case 'left':
      io.out(
        `${time} ${event.ok ? paint(io, 'green', '✓') : paint(io, 'red', '✗')} ${event.state} ${paint(io, 'dim', duration(event.ms))}`,
      );
      break;
    case 'failed':
      io.out(
        `${time} ${paint(io, 'yellow', '!')} ${event.state}: ${event.error}: ${causeMessage(event.cause)}`,
      );
      break;
    case 'finished': {
      if (event.status === 'SUCCEEDED') {
        const r = event.output?.release;
        io.out(
          `${time} ${paint(io, 'green', 'Released')}` +
            (r ? `: ${r.image} is live on ${colorName(io, r.idle)}` : ''),
        );
      } else {
        io.out(
          `${time} ${paint(io, 'red', `Release ${event.status === 'FAILED' ? 'failed' : event.status.toLowerCase().replace('_', ' ')}`)}: ${event.error ?? ''}`,
        );
        if (event.cause) {
          io.out(`  ${causeMessage(event.cause)}`);
        }
      }
      break;
    }
  }
}

function jsonEvent(event: FollowEvent): Record<string, unknown> {
  const base = { event: event.type, at: event.at.toISOString() };
  switch (event.type) {
    case 'entered':
      return { ...base, state: event.state };
    case 'left':
      return { ...base, state: event.state, seconds: event.ms / 1000, ok: event.ok };
    case 'failed':
      return { ...base, state: event.state, error: event.error, cause: causeMessage(event.cause) };
    case 'finished':
      return {
        ...base,
        status: event.status,
        ...(event.error ? { error: event.error } : {}),
        ...(event.cause ? { cause: causeMessage(event.cause) } : {}),
        ...(event.output?.release
          ? { image: event.output.release.image, liveColor: event.output.release.idle }
          : {}),
      };
  }
}

/** A shift's news for people: verdicts that roll back in red, the others as they are. */
function shiftStyle(io: CliIo, news: ShiftNews): string {
  if (news.type === 'verdict' && news.verdict.action === 'rollback') {
    return paint(io, 'red', news.line);
  }
  return news.type === 'step' ? paint(io, 'cyan', news.line) : news.line;
}

/** A shift's news for programs: `step` (the split it set), `verdict` (the analysis), `promoted`. */
function jsonShiftNews(news: ShiftNews, at: Date): Record<string, unknown> {
  const base = { event: news.type, at: at.toISOString() };
  switch (news.type) {
    case 'step':
      return { ...base, step: news.step, of: news.of, percent: news.percent, weights: news.weights };
    case 'verdict': {
      const v = news.verdict;
      return {
        ...base,
        step: v.step,
        percent: v.percent,
        result: v.result,
        action: v.action,
        ...(v.wouldHave ? { wouldHave: v.wouldHave } : {}),
        summary: v.summary,
      };
    }
    case 'promoted':
      return { ...base, by: news.by, promotedAt: news.at };
  }
}

/** Who starts the release: the AWS identity, and the CI run when there is one. */
async function startedBy(session: AwsSession, io: CliIo): Promise<string> {
  const me = await session.caller();
  const env = io.env;
  const ci = env.GITHUB_ACTIONS
    ? ` via GitHub Actions ${env.GITHUB_REPOSITORY ?? ''}@${(env.GITHUB_SHA ?? '').slice(0, 7)} run ${env.GITHUB_RUN_ID ?? '?'}`
    : env.CI
      ? ' via CI'
      : '';
  return `${me}${ci}`.slice(0, 300);
}

/** A readable, unique execution name (it is also the release id and the lock's owner): <tag>-<UTC time>. */
export function executionName(image: string, now: Date): string {
  const tag = image.includes('@')
    ? image.split('@sha256:')[1].slice(0, 12)
    : image.slice(image.lastIndexOf(':') + 1);
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${tag.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60)}-${stamp}`;
}

async function machineTimeoutMinutes(session: AwsSession, stateMachineArn: string): Promise<number> {
  const machine = await session.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
  const seconds = (JSON.parse(machine.definition ?? '{}') as { TimeoutSeconds?: number }).TimeoutSeconds;
  return Math.ceil((seconds ?? 24 * 3600) / 60);
}

export function consoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
