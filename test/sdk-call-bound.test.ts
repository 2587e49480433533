/**
 * Every AWS call of a step ends in bounded time, on a fake clock (Jest's modern fake timers: the SDK's request
 * timeout, its retry backoff and its rate limiter all run on setTimeout and Date.now), against real sockets:
 * - a real SDK client with the steps' settings (aws-deps.ts, clientConfig) calls a local endpoint that accepts
 *   the connection and never answers, or that throttles every request with "Retry-After: 60": the call fails
 *   with a named error within SDK_CALL_WORST_MS (sdk-budget.ts), the bound the step budgets count on;
 * - the Validate step's core with the real hook adapter, whose hook never answers: ValidationFailed, with a
 *   cause that names the hook and how long it was given, before the step's Lambda times out.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { clientConfig } from '../lambda/adapters/aws-deps';
import { LambdaValidationHook } from '../lambda/adapters/lambda-hook';
import {
  HOOK_RESERVE_MS,
  MAX_ATTEMPTS,
  maxBackoffMs,
  SDK_CALL_WORST_MS,
  STEP_TIMEOUT_SECONDS,
} from '../lambda/adapters/sdk-budget';
import type { ReleaseState } from '../lambda/shared/release';
import { validate } from '../lambda/workflow/validate';
import { FakeWorld, REPO } from './support/fake-world';
import { aRelease } from './support/release-fixture';
import { SETTINGS } from './support/run-workflow';

/** Lambda's longest timeout: a wait that is still going on past it has no bound that matters. */
const CAP_MS = 15 * 60_000;

/**
 * How long (fake-clock ms) `run` takes to settle, and how: the clock moves 100 ms at a time, and real I/O (the
 * sockets) gets its turns in between. Stops at CAP_MS.
 */
async function timed<T>(
  run: () => Promise<T>,
): Promise<{ ms: number; result?: T; error?: Error & { $metadata?: { attempts?: number } } }> {
  const start = Date.now();
  let outcome: { result?: T; error?: Error } | undefined;
  run().then(
    (result) => (outcome = { result }),
    (error: Error) => (outcome = { error }),
  );
  while (!outcome && Date.now() - start < CAP_MS) {
    await jest.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { ms: Date.now() - start, ...outcome };
}

function listening(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** An SSM client with the steps' settings, pointed at `endpoint`. */
function ssmAt(endpoint: string): SSMClient {
  return new SSMClient({
    ...clientConfig,
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
}

const get = (client: SSMClient) => client.send(new GetParametersCommand({ Names: ['/bluegreen/shop/live'] }));

beforeEach(() =>
  jest.useFakeTimers({ now: Date.parse('2026-11-26T10:00:00Z'), doNotFake: ['setImmediate', 'nextTick'] }),
);
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('one SDK call ends within SDK_CALL_WORST_MS', () => {
  test('an endpoint that accepts the connection and never answers: TimeoutError after every attempt', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket));
    const endpoint = await listening(silent);
    try {
      const { ms, error } = await timed(() => get(ssmAt(endpoint)));

      expect(error?.name).toBe('TimeoutError');
      expect(error?.$metadata?.attempts).toBe(MAX_ATTEMPTS);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
      expect(ms).toBeLessThanOrEqual(SDK_CALL_WORST_MS);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  test('an endpoint that throttles every request with "Retry-After: 60": the longest backoffs, then ThrottlingException', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999); // every jittered backoff at its longest
    let requests = 0;
    const throttling = createHttpServer((req, res) => {
      requests++;
      req.resume().on('end', () => {
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'ThrottlingException',
          'retry-after': '60',
        });
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      });
    });
    const endpoint = await listening(throttling);
    try {
      const { ms, error } = await timed(() => get(ssmAt(endpoint)));

      expect(error?.name).toBe('ThrottlingException');
      expect(requests).toBe(MAX_ATTEMPTS);
      expect(ms).toBeLessThanOrEqual(SDK_CALL_WORST_MS);
      // The backoffs sdk-budget.ts counts are the installed SDK's: here each one at (nearly) its longest.
      const backoffs = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, k) => maxBackoffMs(k + 1));
      expect(ms).toBeGreaterThanOrEqual(0.99 * backoffs.reduce((a, b) => a + b, 0));
    } finally {
      throttling.close();
    }
  });
});

describe('the validation hook ends before the Validate step’s Lambda', () => {
  const HOOK = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api-tests';
  const lambda = mockClient(LambdaClient);
  afterAll(() => lambda.restore());

  function state(): ReleaseState {
    return aRelease({ before: 'r1', release: 'r2' });
  }

  test('a hook that never answers: ValidationFailed naming the hook and the time it had, in time', async () => {
    lambda.reset();
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined)); // the hook runs on and on
    const world = new FakeWorld(`${REPO}:v1`);
    world.behaviours.set(`${REPO}:v2`, 'good');
    // Green runs v2, healthy: the smoke checks and target health pass, and the hook is called.
    const { fleet } = world.deps();
    const revision = await fleet.register('green', `${REPO}:v2`, 'v2');
    await fleet.deploy('green', revision, 2);
    await fleet.describe('green');
    await fleet.describe('green');
    // The step's Lambda context, on the fake clock: STEP_TIMEOUT_SECONDS from the invocation's start.
    const timeoutAt = Date.now() + STEP_TIMEOUT_SECONDS * 1000;
    const hook = LambdaValidationHook.create({ region: 'eu-west-1' }, HOOK, () => timeoutAt - Date.now());

    const { ms, error } = await timed(() =>
      validate(state(), { ...world.deps(), hook }, { ...SETTINGS, hasValidationHook: true }),
    );

    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(error?.name).toBe('ValidationFailed');
    expect(error?.message).toContain(`validation hook: the hook ${HOOK} did not answer within 895 s`);
    expect(error?.message).toContain('make the hook answer sooner');
    expect(ms).toBeLessThanOrEqual(STEP_TIMEOUT_SECONDS * 1000 - HOOK_RESERVE_MS);
  });
});
