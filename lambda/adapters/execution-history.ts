import { GetExecutionHistoryCommand, SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { ENDING_STATUSES, type ReleaseOutcome } from '../shared/ports';
import type { Color } from '../shared/release-record';

/** How many of an execution's last history events are read to find the state it ended in (one call). */
export const HISTORY_EVENTS = 100;

/** What the Stopped step learns from an execution's newest history events. */
export interface EndingFromHistory {
  /** The last state the execution entered (for a Fail state, the one it failed in; for a Task without a Catch, that Task). */
  readonly endedIn?: string;
  /**
   * The release as the newest state input carrying one shows it: the color that was live when it started, its
   * image and its migration task definition (when it has one).
   */
  readonly release?: { readonly live: Color; readonly image?: string; readonly migrationTask?: string };
  /**
   * The Roll back step's outcome, when that same input still carries it unpublished (the rollback hook ran, and
   * "Report rollback" had not published it yet): its error and cause (workflow/conclude.ts `rollback`).
   */
  readonly unpublished?: { readonly error: string; readonly cause: string };
  /**
   * The outcome the ending step could not publish, carried in the last state's input (the Fail state the ending
   * step led to): workflow/conclude.ts housekeeping.
   */
  readonly unsent?: ReleaseOutcome;
}

/** A release execution's history (Step Functions), as far as the Stopped step needs it. */
export class ExecutionHistory {
  static create(config: SFNClientConfig): ExecutionHistory {
    return new ExecutionHistory(new SFNClient(config));
  }

  constructor(private readonly sfn: SFNClient) {}

  /**
   * From the newest events: the last state entered, and the release its newest state input carries (every state
   * after Prepare is entered with the release in its input). Either is undefined when none is among them.
   */
  async ending(executionArn: string): Promise<EndingFromHistory> {
    const out = await this.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: HISTORY_EVENTS,
        includeExecutionData: true,
      }),
    );
    const entered = (out.events ?? []).flatMap((e) =>
      e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails] : [],
    );
    const carried = entered.map((d) => carriedIn(d.input)).find((c) => c?.release);
    const unsent = unsentIn(entered[0]?.input);
    return {
      endedIn: entered[0]?.name,
      release: carried?.release,
      ...(carried?.unpublished ? { unpublished: carried.unpublished } : {}),
      ...(unsent ? { unsent } : {}),
    };
  }
}

/** The outcome a state's input carries as unsent, when it is one (an app, a release, an ending's status). */
function unsentIn(input: string | undefined): ReleaseOutcome | undefined {
  try {
    const unsent = (JSON.parse(input ?? 'null') as { unsent?: Record<string, unknown> } | null)?.unsent;
    return typeof unsent?.app === 'string' &&
      typeof unsent.release === 'string' &&
      typeof unsent.status === 'string' &&
      (ENDING_STATUSES as readonly string[]).includes(unsent.status)
      ? (unsent as unknown as ReleaseOutcome)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The release a state's input carries, and the rollback outcome it still carries unpublished (if it does). */
function carriedIn(
  input: string | undefined,
): Pick<EndingFromHistory, 'release' | 'unpublished'> | undefined {
  let state: { release?: Record<string, unknown>; unpublished?: Record<string, unknown> } | null;
  try {
    state = JSON.parse(input ?? 'null') as typeof state;
  } catch {
    return undefined; // not JSON (or cut short): look at an older state's input
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const release = state?.release;
  if (release?.live !== 'blue' && release?.live !== 'green') {
    return undefined;
  }
  const error = text(state?.unpublished?.error);
  const cause = text(state?.unpublished?.cause);
  return {
    release: { live: release.live, image: text(release.image), migrationTask: text(release.migrationTask) },
    ...(error && cause ? { unpublished: { error, cause } } : {}),
  };
}
