/**
 * moto (an independent implementation of the AWS APIs, `moto_server`) on a free loopback port, for the emulator
 * tier: the adapters and the shipped bundles make real SDK wire calls against it. One server per test file
 * (`useMoto()` in a describe), so test files stay parallel-safe. Without moto_server the tier says so and skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { runCached } from './run-cache';

export const MOTO_REGION = 'eu-west-1';
/** moto's default account: the ARNs it makes carry it. */
export const MOTO_ACCOUNT = '123456789012';

/** Asked once per run (test/support/run-cache.ts): starting Python to ask costs most of a second of CPU. */
export const motoInstalled: boolean = runCached(
  'moto-installed',
  null,
  () => spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0,
);

/** `describe` when moto_server is installed, else `describe.skip` after saying so plainly. */
export function describeWithMoto(name: string, body: () => void): void {
  if (!motoInstalled) {
    console.warn(
      `moto_server is not installed: "${name}" is skipped (the emulator tier needs moto: pip install "moto[server]").`,
    );
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export interface RunningMoto {
  readonly endpoint: string;
  /** The SDK client configuration for it: its endpoint, the test region, dummy credentials. */
  readonly config: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
    readonly maxAttempts: number;
  };
  /** POSTs JSON to moto's own API (/moto-api/...): its configuration, queued Lambda results. */
  motoApi(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

/** How long moto_server may take to answer after it started, on a loaded machine. */
const START_DEADLINE_MS = 60_000;

/** Starts moto_server on a port the OS picks (-p 0; it prints the address) and waits until it answers. */
export async function startMoto(): Promise<RunningMoto> {
  // Its own process group: the pyenv shim and Python both end when the group is signalled.
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(
        () => reject(new Error(`moto_server printed no address within ${START_DEADLINE_MS / 1000}s: ${err}`)),
        START_DEADLINE_MS,
      );
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const address = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (address) {
          clearTimeout(timer);
          resolve(address[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`moto_server exited (${code}) before it answered: ${err}`));
      });
    });
    child.stderr!.on('data', (d: Buffer) => process.env.MOTO_DEBUG && process.stderr.write(d));
    await answers(endpoint);
    const motoApi = async (path: string, body: unknown) => {
      const res = await fetch(`${endpoint}/moto-api/${path}`, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) {
        throw new Error(`moto-api/${path} answered ${res.status}: ${await res.text()}`);
      }
    };
    return {
      endpoint,
      config: {
        endpoint,
        region: MOTO_REGION,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        maxAttempts: 1,
      },
      motoApi,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Polls moto's dashboard until it answers: counted attempts within the deadline, not a fixed sleep. */
async function answers(endpoint: string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`moto_server at ${endpoint} did not answer after ${attempt} attempts`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One moto_server for the enclosing describe: started before its tests, stopped after them. */
export function useMoto(): () => RunningMoto {
  let moto: RunningMoto | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  }, START_DEADLINE_MS * 2);
  afterAll(async () => {
    await moto?.stop();
  });
  return () => {
    if (!moto) {
      throw new Error('moto_server is not running (useMoto() registers it in beforeAll)');
    }
    return moto;
  };
}

/**
 * A raw AWS JSON-protocol call, for services whose SDK client this project does not install (SQS, to read what
 * SNS and EventBridge delivered). moto routes by the service in the credential scope; it checks no signature.
 */
export async function rawJsonCall<T>(
  moto: RunningMoto,
  service: string,
  target: string,
  body: unknown,
): Promise<T> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${target} answered ${res.status}: ${text}`);
  }
  return JSON.parse(text || '{}') as T;
}

/** A raw AWS query-protocol call (form body, XML answer), for services without an SDK client here (IAM). */
export async function rawQueryCall(
  moto: RunningMoto,
  service: string,
  params: Record<string, string>,
): Promise<string> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${params.Action} answered ${res.status}: ${text}`);
  }
  return text;
}
