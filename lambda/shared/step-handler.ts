/**
 * The shape of every step's Lambda handler: log the step entering and leaving (structured JSON via Powertools),
 * run the step's core with its dependencies, and let named errors through untouched so the state machine's
 * Retry/Catch can match them. `withDeps` runs the very same handler against other dependencies (the tests'
 * in-memory world, the local rehearsal).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ReleaseErrors } from './errors';
import type { WorkflowDeps } from './ports';
import type { ReleaseState, WorkflowSettings } from './release';

export const logger = new Logger({ serviceName: 'bluegreen' });

const OWN_ERRORS: ReadonlySet<string> = new Set([...Object.values(ReleaseErrors), 'UnhealthyAfterSwitch']);

export type StepCore = (
  state: ReleaseState,
  deps: WorkflowDeps,
  settings: WorkflowSettings,
) => Promise<ReleaseState>;

/** What a step reads of its Lambda invocation's context: how long the invocation has left. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export interface StepHandler {
  (state: ReleaseState, context?: InvocationContext): Promise<ReleaseState>;
  withDeps(deps: WorkflowDeps, settings: WorkflowSettings): (state: ReleaseState) => Promise<ReleaseState>;
}

export function stepHandler(
  step: string,
  run: StepCore,
  resolve: (context?: InvocationContext) => { deps: WorkflowDeps; settings: WorkflowSettings },
): StepHandler {
  const bound =
    (deps: (context?: InvocationContext) => { deps: WorkflowDeps; settings: WorkflowSettings }) =>
    async (state: ReleaseState, context?: InvocationContext) => {
      logger.appendKeys({ step, release: state.execution });
      logger.info('step started', { release: state.release, failure: state.failure });
      try {
        const { deps: d, settings } = deps(context);
        const out = await run(state, d, settings);
        logger.info('step finished', { verdict: out.verdict, outcome: out.outcome });
        return out;
      } catch (e) {
        const error = e as Error;
        // The workflow's own errors already say which step and check failed; anything else (an AWS API
        // error) gets the step's name, so the execution's cause always names where it happened.
        if (!OWN_ERRORS.has(error.name) && !error.message.startsWith(`${step}: `)) {
          error.message = `${step}: ${error.message}`;
        }
        logger.error('step failed', { errorName: error.name, errorMessage: error.message });
        throw e;
      }
    };
  const handler = bound(resolve) as StepHandler;
  handler.withDeps = (deps, settings) => bound(() => ({ deps, settings }));
  return handler;
}
