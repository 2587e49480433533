import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { ValidationHook, ValidationHookRequest } from '../shared/ports';
import { invokeWithin } from './invoke-within';
import { HOOK_RESERVE_MS } from './sdk-budget';

/**
 * The user's validation Lambda. It receives the test URL and header and must answer
 * `{ "passed": boolean, "summary": string }`; an error or another answer counts as failed.
 *
 * It may run for up to 15 minutes, the Validate step's Lambda for less once the smoke checks ran: the hook gets
 * what the step has left (`remainingMs`, the invocation's getRemainingTimeInMillis()) minus HOOK_RESERVE_MS. A
 * hook that has not answered by then counts as failed, with a summary that says so, and the step ends with
 * ValidationFailed before its Lambda times out.
 */
export class LambdaValidationHook implements ValidationHook {
  static create(
    config: LambdaClientConfig,
    functionArn: string,
    remainingMs: () => number,
  ): LambdaValidationHook {
    return new LambdaValidationHook(new LambdaClient(config), functionArn, remainingMs);
  }

  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionArn: string,
    private readonly remainingMs: () => number,
  ) {}

  async run(request: ValidationHookRequest): Promise<{ passed: boolean; summary: string }> {
    const budgetMs = Math.max(0, Math.floor(this.remainingMs() - HOOK_RESERVE_MS));
    const out = await invokeWithin(this.lambda, this.functionArn, request, budgetMs);
    if (out === 'timed out') {
      return {
        passed: false,
        summary:
          `the hook ${this.functionArn} did not answer within ${Math.round(budgetMs / 1000)} s, what the ` +
          `Validate step had left after the smoke checks; make the hook answer sooner (within 5 minutes is always ` +
          `given), e.g. by running fewer or faster tests in it`,
      };
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      return {
        passed: false,
        summary: `the hook ${this.functionArn} failed (${out.FunctionError}): ${text.slice(0, 300)}`,
      };
    }
    try {
      const answer = JSON.parse(text) as { passed?: unknown; summary?: unknown };
      if (typeof answer.passed === 'boolean') {
        return {
          passed: answer.passed,
          summary: typeof answer.summary === 'string' ? answer.summary : JSON.stringify(answer.summary ?? ''),
        };
      }
    } catch {
      // fall through
    }
    return {
      passed: false,
      summary: `the hook answered ${text.slice(0, 200)}, not {"passed": boolean, "summary": string}`,
    };
  }
}
