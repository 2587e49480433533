/**
 * Runs when a release execution ends TIMED_OUT or ABORTED (an EventBridge rule on the state machine): the state
 * machine's own endings did not run, so release the lock and report where traffic and the record stand.
 * Core: workflow/conclude.ts (stopped).
 */
import { aws } from './adapters/aws-deps';
import type { ReleaseOutcome } from './shared/ports';
import { logger } from './shared/step-handler';
import { stopped } from './workflow/conclude';

export interface ExecutionStatusChange {
  readonly detail: {
    readonly name: string;
    readonly status: string;
    readonly executionArn: string;
    /** The error and cause given to StopExecution (`bluegreen rollback` sends ManualRollback). */
    readonly error?: string | null;
    readonly cause?: string | null;
  };
}

export async function handler(event: ExecutionStatusChange): Promise<ReleaseOutcome> {
  const { deps, settings } = aws();
  logger.appendKeys({ step: 'Release stopped', release: event.detail.name });
  const { name, status, error, cause } = event.detail;
  const outcome = await stopped(name, status, deps, settings.workflow, { error, cause });
  logger.warn('release stopped without its cleanup', { outcome });
  return outcome;
}
