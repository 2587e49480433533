/**
 * The user's lifecycle hook functions in the tests' world: each hook's Lambda behind the real adapter
 * (lambda/adapters/lifecycle-hook.ts), whose Lambda client is this in-memory one. A test says what each call of a
 * hook returns, in order (the last one repeats): an answer, a thrown error (a FunctionError), or a hang.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaLifecycleHooks } from '../../lambda/adapters/lifecycle-hook';
import { HOOK_RESERVE_MS } from '../../lambda/adapters/sdk-budget';
import type { LifecycleHookRequest } from '../../lambda/shared/hook-contract';
import type { LifecycleHooks } from '../../lambda/shared/ports';
import type { HookName } from '../../lambda/shared/release';

export const HOOK_ARNS: Readonly<Record<HookName, string>> = {
  beforeDeploy: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission',
  afterShift: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-production-tests',
  onRollback: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-page-on-call',
};

/** What one call of a hook function does. */
export type HookCall =
  /** It returns this (any JSON: the contract's answer, or anything else). */
  | { readonly returns: unknown }
  /** It throws: Lambda answers with a FunctionError. */
  | { readonly throws: string }
  /** It never answers: the adapter abandons the call when the hook step's time is up. */
  | 'hang';

export class FakeHookFunctions {
  /** Each hook's calls, in order; the last one repeats. A hook with none configured here fails its calls. */
  readonly script = new Map<HookName, HookCall[]>();
  /** Every request each hook function received, in order. */
  readonly calls: LifecycleHookRequest[] = [];
  /** Called before each hook call returns (a test's way to change the world while a hook runs). */
  onCall?: (request: LifecycleHookRequest) => void;

  /** The port over the real adapter; `now` is the world's clock. A hung call is abandoned at once (no real wait). */
  port(now: () => Date): LifecycleHooks {
    const client = { send: (command: { input: unknown }) => this.send(command) } as unknown as LambdaClient;
    return new LambdaLifecycleHooks(client, HOOK_ARNS, () => HOOK_RESERVE_MS + 20, now);
  }

  /** The requests one hook received. */
  callsOf(hook: HookName): LifecycleHookRequest[] {
    return this.calls.filter((c) => c.hook === hook);
  }

  private send(command: { input: unknown }): Promise<unknown> {
    const input = command.input as { FunctionName: string; Payload: Uint8Array };
    const request = JSON.parse(new TextDecoder().decode(input.Payload)) as LifecycleHookRequest;
    const hook = (Object.keys(HOOK_ARNS) as HookName[]).find((h) => HOOK_ARNS[h] === input.FunctionName);
    if (!hook) {
      const e = new Error(`Function not found: ${input.FunctionName}`);
      e.name = 'ResourceNotFoundException';
      return Promise.reject(e);
    }
    this.calls.push(request);
    this.onCall?.(request);
    const script = this.script.get(hook) ?? [{ throws: `no behaviour given for ${hook}` }];
    const call = script[Math.min(this.callsOf(hook).length, script.length) - 1];
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    if (call === 'hang') {
      return new Promise(() => undefined);
    }
    if ('throws' in call) {
      return Promise.resolve({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: encode({ errorType: 'Error', errorMessage: call.throws }),
      });
    }
    return Promise.resolve({ StatusCode: 200, Payload: encode(call.returns) });
  }
}
