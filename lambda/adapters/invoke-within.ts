import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * A synchronous Invoke of `functionArn` with `payload` (as JSON), abandoned (its request aborted) after
 * `budgetMs`: the hooks' calls, which must end before the step's Lambda times out.
 */
export async function invokeWithin(
  lambda: LambdaClient,
  functionArn: string,
  payload: unknown,
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
  const call = lambda.send(
    new InvokeCommand({
      FunctionName: functionArn,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
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
