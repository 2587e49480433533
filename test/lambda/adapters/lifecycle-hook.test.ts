/** The lifecycle hooks' Lambda adapter: the exact Invoke, and how every kind of answer (or none) is read. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaLifecycleHooks } from '../../../lambda/adapters/lifecycle-hook';
import { HOOK_RESERVE_MS } from '../../../lambda/adapters/sdk-budget';
import type { LifecycleHookRequest } from '../../../lambda/shared/hook-contract';

const ADMISSION = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission';
const lambdaMock = mockClient(LambdaClient);
const NOW = new Date('2026-11-26T10:00:00Z');
const request: LifecycleHookRequest = {
  hook: 'beforeDeploy',
  app: 'shop',
  release: 'release-1',
  image: 'repo:v2',
  version: 'v2',
  color: 'green',
  liveColor: 'blue',
  productionUrl: 'http://alb',
  testUrl: 'http://alb:9000',
  attempt: 2,
  details: { scan: 'queued' },
};
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;
const hooks = (remainingMs = 600_000) =>
  new LambdaLifecycleHooks(
    new LambdaClient({}),
    { beforeDeploy: ADMISSION },
    () => remainingMs,
    () => NOW,
  );
const inAMinute = new Date(NOW.getTime() + 60_000);

beforeEach(() => lambdaMock.reset());

test('invokes the hook function synchronously with the request; reads its answer', async () => {
  lambdaMock.on(InvokeCommand).resolves({
    Payload: payload({
      status: 'IN_PROGRESS',
      summary: 'scan 50%',
      details: { scan: 'running' },
      callbackDelaySeconds: 12,
    }),
  });
  await expect(hooks().invoke(request, inAMinute)).resolves.toEqual({
    functionArn: ADMISSION,
    status: 'IN_PROGRESS',
    summary: 'scan 50%',
    details: { scan: 'running' },
    callbackDelaySeconds: 12,
  });
  const input = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
  expect(input.FunctionName).toBe(ADMISSION);
  expect(input.InvocationType).toBeUndefined(); // RequestResponse: the answer comes back
  expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(request);
});

test.each<[string, Record<string, unknown>, RegExp]>([
  [
    'a FunctionError',
    { FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'boom' }) },
    /failed \(Unhandled\): \{"errorMessage":"boom"\}/,
  ],
  ['bad JSON', { Payload: new TextEncoder().encode('all good') }, /answered "all good", which is not JSON/],
  [
    'another status',
    { Payload: payload({ status: 'PASSED' }) },
    /answered \{"status":"PASSED"\}, not \{"status": "SUCCEEDED"/,
  ],
  [
    'a summary that is not a string',
    { Payload: payload({ status: 'FAILED', summary: 42 }) },
    /summary must be a string/,
  ],
  [
    'details over 8 KB',
    { Payload: payload({ status: 'IN_PROGRESS', details: 'x'.repeat(9000) }) },
    /details are 9002 bytes, over the 8192 allowed/,
  ],
  [
    'a delay that is not a number',
    { Payload: payload({ status: 'IN_PROGRESS', callbackDelaySeconds: '5' }) },
    /callbackDelaySeconds must be a number/,
  ],
])('%s is an ERROR answer that says what arrived', async (_, output, summary) => {
  lambdaMock.on(InvokeCommand).resolves(output);
  const reply = await hooks().invoke(request, inAMinute);
  expect(reply).toEqual({ functionArn: ADMISSION, status: 'ERROR', summary: expect.stringMatching(summary) });
});

test('an invocation error (no permission, throttled, not found) is an ERROR answer, never thrown', async () => {
  const denied = Object.assign(new Error('User is not authorized to perform: lambda:InvokeFunction'), {
    name: 'AccessDeniedException',
  });
  lambdaMock.on(InvokeCommand).rejects(denied);
  await expect(hooks().invoke(request, inAMinute)).resolves.toEqual({
    functionArn: ADMISSION,
    status: 'ERROR',
    summary: expect.stringContaining('failed (AccessDeniedException: User is not authorized'),
  });
});

test('a hook that does not answer by its deadline: the call is abandoned, TIMED_OUT', async () => {
  lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
  const soon = new Date(NOW.getTime() + 30);
  await expect(hooks().invoke(request, soon)).resolves.toEqual({
    functionArn: ADMISSION,
    status: 'TIMED_OUT',
    summary: expect.stringContaining('did not answer before its timeout (call 2'),
  });
});

test("a call that would outlast the hook step's Lambda is abandoned before it: ERROR, poll instead", async () => {
  lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
  const reply = await hooks(HOOK_RESERVE_MS + 30).invoke(request, inAMinute);
  expect(reply).toEqual({
    functionArn: ADMISSION,
    status: 'ERROR',
    summary: expect.stringContaining('answer {"status": "IN_PROGRESS"} sooner'),
  });
});

test('a hook with no function configured is an ERROR answer', async () => {
  await expect(hooks().invoke({ ...request, hook: 'onRollback' }, inAMinute)).resolves.toMatchObject({
    status: 'ERROR',
    summary: expect.stringContaining('release.hooks.onRollback'),
  });
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
});

test('the abandoned request is aborted (its abort signal fires at the deadline)', async () => {
  let signal: AbortSignal | undefined;
  const client = {
    send: (_command: unknown, options: { abortSignal: AbortSignal }) => {
      signal = options.abortSignal;
      return new Promise(() => undefined);
    },
  } as unknown as LambdaClient;
  const adapter = new LambdaLifecycleHooks(
    client,
    { beforeDeploy: ADMISSION },
    () => 600_000,
    () => NOW,
  );
  const reply = await adapter.invoke(request, new Date(NOW.getTime() + 20));
  expect(reply.status).toBe('TIMED_OUT');
  expect(signal?.aborted).toBe(true);
});
