import {
  InvokeCommand,
  LambdaClient,
  type InvokeCommandOutput,
  type LambdaClientConfig,
} from '@aws-sdk/client-lambda';
import type { ValidationHook, ValidationHookRequest } from '../shared/ports';
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
    const out = await this.invoke(request, budgetMs);
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

  /** The synchronous Invoke, abandoned (its request aborted) after `budgetMs`. */
  private async invoke(
    request: ValidationHookRequest,
    budgetMs: number,
  ): Promise<InvokeCommandOutput | 'timed out'> {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve('timed out');
      }, budgetMs);
    });
    const call = this.lambda.send(
      new InvokeCommand({
        FunctionName: this.functionArn,
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
      { abortSignal: abort.signal },
    );
    try {
      // The race, not only the abort signal, ends the wait: whatever the SDK does with an abort, the step goes on.
      return await Promise.race([call, deadline]);
    } catch (e) {
      if (abort.signal.aborted) {
        return 'timed out';
      }
      throw e;
    } finally {
      clearTimeout(timer);
      call.catch(() => undefined); // an aborted call's rejection is expected
    }
  }
}
