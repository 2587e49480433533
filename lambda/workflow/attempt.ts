/**
 * How an ending step does its housekeeping (let scaling act, release the lock, publish): each action is tried a
 * few times and, if it still fails, noted in the outcome's cause rather than thrown, so that a failed chore never
 * hides the outcome itself.
 */

/** How many times housekeeping tries each of its actions (each try makes its SDK calls with their own retries). */
export const ATTEMPT_TRIES = 3;

/**
 * Housekeeping is retried (ATTEMPT_TRIES) and, if it still fails, noted rather than thrown. True when it worked.
 * Errors named in `rethrow` are for the state machine to retry later: thrown at once.
 */
export async function attempt(
  notes: string[],
  what: string,
  action: () => Promise<void>,
  rethrow: readonly string[] = [],
): Promise<boolean> {
  let last: Error | undefined;
  for (let i = 0; i < ATTEMPT_TRIES; i++) {
    try {
      await action();
      return true;
    } catch (e) {
      last = e as Error;
      if (rethrow.includes(last.name)) {
        throw last;
      }
    }
  }
  notes.push(`could not ${what} (${last?.name ?? 'Error'}: ${last?.message ?? ''})`);
  return false;
}

export function withNotes(cause: string, notes: readonly string[]): string {
  return notes.length > 0 ? `${cause} Also: ${notes.join('; ')}.` : cause;
}
