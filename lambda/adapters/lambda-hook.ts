import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { ValidationHook, ValidationHookRequest } from '../shared/ports';

/**
 * The user's validation Lambda. It receives the test URL and header and must answer
 * `{ "passed": boolean, "summary": string }`; an error or another answer counts as failed.
 */
export class LambdaValidationHook implements ValidationHook {
  static create(config: LambdaClientConfig, functionArn: string): LambdaValidationHook {
    return new LambdaValidationHook(new LambdaClient(config), functionArn);
  }

  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionArn: string,
  ) {}

  async run(request: ValidationHookRequest): Promise<{ passed: boolean; summary: string }> {
    const out = await this.lambda.send(
      new InvokeCommand({
        FunctionName: this.functionArn,
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
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
