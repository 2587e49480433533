import { LambdaClient, type InvokeCommandOutput, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { parseHookReply, type LifecycleHookReply, type LifecycleHookRequest } from '../shared/hook-contract';
import type { HookName } from '../shared/release';
import type { LifecycleHooks } from '../shared/ports';
import { invokeWithin } from './invoke-within';
import { HOOK_RESERVE_MS } from './sdk-budget';

/**
 * The user's lifecycle hook Lambdas (config `release.hooks`), each called synchronously (Invoke,
 * RequestResponse) with the request of shared/hook-contract.ts; the answer is read by the same contract.
 *
 * A call is abandoned (its request aborted) at the hook's deadline, or when the hook step's Lambda has only
 * HOOK_RESERVE_MS left (`remainingMs`, the invocation's getRemainingTimeInMillis()), whichever comes first: the
 * first is TIMED_OUT, the second ERROR (a call that long should answer IN_PROGRESS and be polled). Any other
 * failure of the call (an invocation error, a FunctionError, an answer outside the contract) is an ERROR reply
 * that says what arrived: never a thrown error, so the workflow records it beside the hook's other answers.
 */
export class LambdaLifecycleHooks implements LifecycleHooks {
  static create(
    config: LambdaClientConfig,
    functionArns: Readonly<Partial<Record<HookName, string>>>,
    remainingMs: () => number,
    now: () => Date = () => new Date(),
  ): LambdaLifecycleHooks {
    return new LambdaLifecycleHooks(new LambdaClient(config), functionArns, remainingMs, now);
  }

  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionArns: Readonly<Partial<Record<HookName, string>>>,
    private readonly remainingMs: () => number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async invoke(request: LifecycleHookRequest, deadline: Date): Promise<LifecycleHookReply> {
    const functionArn = this.functionArns[request.hook];
    if (!functionArn) {
      return {
        functionArn: '(none)',
        status: 'ERROR',
        summary: `no function is configured for the ${request.hook} hook (release.hooks.${request.hook})`,
      };
    }
    const untilDeadline = deadline.getTime() - this.now().getTime();
    const stepLeft = this.remainingMs() - HOOK_RESERVE_MS;
    const budgetMs = Math.max(0, Math.floor(Math.min(untilDeadline, stepLeft)));
    let out: InvokeCommandOutput | 'timed out';
    try {
      out = await invokeWithin(this.lambda, functionArn, request, budgetMs);
    } catch (e) {
      const error = e as Error;
      return {
        functionArn,
        status: 'ERROR',
        summary: `invoking the hook ${functionArn} failed (${error.name}: ${error.message.slice(0, 300)})`,
      };
    }
    if (out === 'timed out') {
      const seconds = Math.round(budgetMs / 1000);
      return untilDeadline <= stepLeft
        ? {
            functionArn,
            status: 'TIMED_OUT',
            summary: `the hook ${functionArn} did not answer before its timeout (call ${request.attempt}, ${seconds} s)`,
          }
        : {
            functionArn,
            status: 'ERROR',
            summary:
              `the hook ${functionArn} did not answer within ${seconds} s, the most one call may take; answer ` +
              '{"status": "IN_PROGRESS"} sooner and let bluegreen call again for longer work',
          };
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    return parseHookReply(functionArn, text, out.FunctionError);
  }
}
