/**
 * Runs when a release execution ends FAILED, TIMED_OUT or ABORTED (an EventBridge rule on the state machine): the
 * execution's own ending may not have run, or not to its end. Reads which state it ended in and the release its
 * last state carried (its history), then puts traffic back on the old color if the release did not finish and that
 * color can serve, and makes sure the lock is free, scaling acts and the outcome is published once, with where
 * traffic and the record stand. Core: workflow/conclude.ts (stopped).
 */
import { aws, clientConfig } from './adapters/aws-deps';
import { ExecutionHistory, type EndingFromHistory } from './adapters/execution-history';
import type { ReleaseOutcome } from './shared/ports';
import { logger } from './shared/step-handler';
import { stopped } from './workflow/conclude';

export interface ExecutionStatusChange {
  readonly detail: {
    readonly name: string;
    readonly status: string;
    readonly executionArn: string;
    /** The execution's error and cause (a Fail state's; StopExecution's: `bluegreen rollback` sends ManualRollback). */
    readonly error?: string | null;
    readonly cause?: string | null;
  };
}

let history: ExecutionHistory | undefined;

export async function handler(event: ExecutionStatusChange): Promise<ReleaseOutcome> {
  const { deps, settings } = aws();
  logger.appendKeys({ step: 'Release stopped', release: event.detail.name });
  const { name, status, error, cause, executionArn } = event.detail;
  let fromHistory: EndingFromHistory = {};
  try {
    fromHistory = await (history ??= ExecutionHistory.create(clientConfig)).ending(executionArn);
  } catch (e) {
    logger.warn('could not read the execution history', { error: (e as Error).message });
  }
  const { outcome, published } = await stopped(
    { execution: name, status, error, cause, ...fromHistory },
    deps,
    settings.workflow,
  );
  logger.warn(
    published ? 'release ended without its own report' : 'release ended; its own step reported it',
    {
      outcome,
    },
  );
  return outcome;
}
