/**
 * Reading releases from Step Functions: the release in flight and where it stands (which state, the release it
 * carries, the manual gate's task token), new history events to follow an execution live, and past releases.
 * The parts that interpret history events are pure functions over the SDK's HistoryEvent, tested directly.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ExecutionListItem,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { Release, ReleaseState } from '../lambda/shared/release';
import { STATES } from '../lambda/shared/state-names';
import { jsonOrUndefined } from '../lib/json';
import { SHIFT_STATES } from './shift';

/** Where an execution stands, read from its newest history events. */
export interface Position {
  /** The state it is in (or last left). */
  readonly state?: string;
  readonly enteredAt?: Date;
  /** The release it carries (after Prepare). */
  readonly release?: Release;
  /** Set while it waits at the manual gate. */
  readonly approval?: { readonly token: string; readonly since: Date };
}

/** Interprets history events, newest first (GetExecutionHistory with reverseOrder). */
export function positionOf(newestFirst: readonly HistoryEvent[]): Position {
  let state: string | undefined;
  let enteredAt: Date | undefined;
  let release: Release | undefined;
  let token: { token: string; since: Date } | undefined;
  for (const event of newestFirst) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (!state && exited?.name) {
      state = exited.name;
    }
    if (entered?.name && (!state || (state === entered.name && !enteredAt))) {
      state = entered.name;
      enteredAt = event.timestamp;
    }
    if (!enteredAt && !token && event.type === 'TaskScheduled') {
      const scheduled = event.taskScheduledEventDetails;
      if (scheduled?.resource?.endsWith('waitForTaskToken')) {
        const payload = jsonOrUndefined<{ Payload?: { taskToken?: unknown } }>(scheduled.parameters);
        if (typeof payload?.Payload?.taskToken === 'string') {
          token = { token: payload.Payload.taskToken, since: event.timestamp ?? new Date(0) };
        }
      }
    }
    if (!release) {
      release = jsonOrUndefined<ReleaseState>(entered?.input ?? exited?.output)?.release;
    }
    if (state && enteredAt && release) {
      break;
    }
  }
  const waiting = state === STATES.approval && token ? { approval: token } : {};
  return { state, enteredAt, release, ...waiting };
}

/** A release in flight: its execution and where it stands. */
export interface InFlight extends Position {
  readonly name: string;
  readonly executionArn: string;
  readonly startDate?: Date;
}

/**
 * The release in flight, with its position: the running execution that holds the lock when there is one (another
 * may be running briefly, only to be refused by Prepare), else the newest running one.
 */
export async function releaseInFlight(
  sfn: SFNClient,
  stateMachineArn: string,
  lockOwner?: string,
): Promise<InFlight | undefined> {
  const running = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 10 }),
  );
  const executions = running.executions ?? [];
  const chosen = executions.find((e) => e.name === lockOwner) ?? executions[0];
  if (!chosen?.executionArn) {
    return undefined;
  }
  return { ...(await positionNow(sfn, chosen.executionArn)), ...executionIdentity(chosen) };
}

export async function positionNow(sfn: SFNClient, executionArn: string): Promise<Position> {
  const history = await sfn.send(
    new GetExecutionHistoryCommand({
      executionArn,
      reverseOrder: true,
      maxResults: 100,
      includeExecutionData: true,
    }),
  );
  return positionOf(history.events ?? []);
}

function executionIdentity(item: ExecutionListItem): {
  name: string;
  executionArn: string;
  startDate?: Date;
} {
  return { name: item.name ?? '?', executionArn: item.executionArn ?? '?', startDate: item.startDate };
}

/** What following an execution reports, in order. */
export type FollowEvent =
  | {
      readonly type: 'entered';
      readonly state: string;
      readonly at: Date;
      /** The release the state received, for the states of a gradual shift (where it carries `shift`). */
      readonly release?: Release;
    }
  | {
      readonly type: 'left';
      readonly state: string;
      readonly at: Date;
      readonly ms: number;
      /** False when the state left on an error (caught, on to another path), not on success. */
      readonly ok: boolean;
      /** The release the state returned, for the states of a gradual shift. */
      readonly release?: Release;
    }
  | {
      readonly type: 'failed';
      readonly state: string;
      readonly at: Date;
      readonly error: string;
      readonly cause: string;
    }
  | {
      readonly type: 'finished';
      readonly at: Date;
      readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
      readonly error?: string;
      readonly cause?: string;
      readonly output?: ReleaseState;
    };

/** What following remembers between two reads: the states entered and not left yet, and whether they failed. */
export type FollowMemory = Map<string, { readonly at: Date; failed: boolean }>;

/** Turns history events (oldest first) into follow events; `memory` carries over from one read to the next. */
export function followEvents(oldestFirst: readonly HistoryEvent[], memory: FollowMemory): FollowEvent[] {
  const out: FollowEvent[] = [];
  let current = [...memory.keys()].pop() ?? '';
  for (const e of oldestFirst) {
    const at = e.timestamp ?? new Date(0);
    if (e.type === 'TaskSucceeded' || e.type === 'LambdaFunctionSucceeded') {
      const open = memory.get(current);
      if (open) {
        open.failed = false; // a retry that worked
      }
    }
    if (e.stateEnteredEventDetails?.name) {
      current = e.stateEnteredEventDetails.name;
      memory.delete(current);
      memory.set(current, { at, failed: false });
      out.push({
        type: 'entered',
        state: current,
        at,
        ...shiftRelease(current, e.stateEnteredEventDetails.input),
      });
    } else if (e.stateExitedEventDetails?.name) {
      const state = e.stateExitedEventDetails.name;
      const open = memory.get(state) ?? { at, failed: false };
      memory.delete(state);
      out.push({
        type: 'left',
        state,
        at,
        ms: at.getTime() - open.at.getTime(),
        ok: !open.failed,
        ...shiftRelease(state, e.stateExitedEventDetails.output),
      });
    } else {
      const failure =
        e.taskFailedEventDetails ?? e.lambdaFunctionFailedEventDetails ?? e.taskTimedOutEventDetails;
      if (failure) {
        const open = memory.get(current);
        if (open) {
          open.failed = true;
        }
        out.push({
          type: 'failed',
          state: current,
          at,
          error: failure.error ?? 'Error',
          cause: failure.cause ?? '',
        });
      }
      const ended = finished(e, at);
      if (ended) {
        out.push(ended);
      }
    }
  }
  return out;
}

/** The release in a shift state's data (only those are parsed: the others' data is not shown while following). */
function shiftRelease(state: string, data: string | undefined): { release?: Release } {
  if (!SHIFT_STATES.includes(state)) {
    return {};
  }
  const release = jsonOrUndefined<ReleaseState>(data)?.release;
  return release ? { release } : {};
}

function finished(e: HistoryEvent, at: Date): FollowEvent | undefined {
  switch (e.type) {
    case 'ExecutionSucceeded':
      return {
        type: 'finished',
        at,
        status: 'SUCCEEDED',
        output: jsonOrUndefined<ReleaseState>(e.executionSucceededEventDetails?.output),
      };
    case 'ExecutionFailed':
      return {
        type: 'finished',
        at,
        status: 'FAILED',
        error: e.executionFailedEventDetails?.error,
        cause: e.executionFailedEventDetails?.cause,
      };
    case 'ExecutionAborted':
      return {
        type: 'finished',
        at,
        status: 'ABORTED',
        error: e.executionAbortedEventDetails?.error,
        cause: e.executionAbortedEventDetails?.cause,
      };
    case 'ExecutionTimedOut':
      return {
        type: 'finished',
        at,
        status: 'TIMED_OUT',
        error: e.executionTimedOutEventDetails?.error ?? 'States.Timeout',
        cause: e.executionTimedOutEventDetails?.cause ?? 'The release exceeded the state machine timeout.',
      };
    default:
      return undefined;
  }
}

/** History events newer than `afterId`, oldest first (pages backwards from the newest until it reaches them). */
export async function eventsAfter(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<HistoryEvent[]> {
  const fresh: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: 200,
        includeExecutionData: true,
        nextToken,
      }),
    );
    for (const event of page.events ?? []) {
      if ((event.id ?? 0) <= afterId) {
        return fresh.reverse();
      }
      fresh.push(event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return fresh.reverse();
}

/** One past (or running) release, for `bluegreen history`. */
export interface HistoryEntry {
  readonly release: string;
  readonly status: string;
  /** What it came to, in a word or two: released, RolledBack, DeployFailed, stopped, ... */
  readonly outcome: string;
  readonly image?: string;
  readonly startedBy?: string;
  readonly start?: Date;
  readonly stop?: Date;
  readonly error?: string;
  readonly cause?: string;
}

export async function recentReleases(
  sfn: SFNClient,
  stateMachineArn: string,
  limit: number,
): Promise<HistoryEntry[]> {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit }));
  const items = (listed.executions ?? []).slice(0, limit);
  const entries: HistoryEntry[] = [];
  // A few at a time: DescribeExecution has a small request rate.
  for (let i = 0; i < items.length; i += 5) {
    entries.push(
      ...(await Promise.all(
        items.slice(i, i + 5).map(async (item) => {
          const d = await sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
          const input = jsonOrUndefined<{ image?: unknown; startedBy?: unknown }>(d.input);
          const status = d.status ?? item.status ?? 'UNKNOWN';
          return {
            release: item.name ?? '?',
            status,
            outcome: outcomeWord(status, d.error),
            image: typeof input?.image === 'string' ? input.image : undefined,
            startedBy: typeof input?.startedBy === 'string' ? input.startedBy : undefined,
            start: d.startDate ?? item.startDate,
            stop: d.stopDate ?? item.stopDate,
            error: d.error,
            cause: d.cause,
          };
        }),
      )),
    );
  }
  return entries;
}

export function outcomeWord(status: string, error?: string): string {
  switch (status) {
    case 'SUCCEEDED':
      return 'released';
    case 'RUNNING':
      return 'in flight';
    case 'FAILED':
      return error ?? 'failed';
    case 'ABORTED':
      return error ? `stopped (${error})` : 'stopped';
    case 'TIMED_OUT':
      return 'timed out';
    default:
      return status.toLowerCase();
  }
}
