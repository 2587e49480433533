/**
 * "Report rollback" publishes the rollback's outcome once, though its Lambda may be run again (the state machine's
 * retry, or the Stopped step after it) when it died after publishing: it publishes before it releases the lock, so
 * a lock its release no longer holds means the outcome is out.
 */
import type { WorkflowDeps } from '../shared/ports';
import { attempt } from './attempt';

/**
 * Whether "Report rollback" published already: `execution` no longer holds the lock, which that step releases only
 * once it published. When the lock cannot be read: false (publish; twice rather than never).
 */
export async function reportedBefore(
  execution: string,
  deps: Pick<WorkflowDeps, 'lock'>,
  notes: string[],
): Promise<boolean> {
  let owner: string | undefined;
  const read = await attempt(notes, 'read the lock', async () => {
    owner = (await deps.lock.holder())?.owner;
  });
  return read && owner !== execution;
}
