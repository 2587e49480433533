/**
 * Sample-app servers in the test's own process (closed when the test file ends), and the waits the rehearsal's
 * router tests need: a condition polled until it holds (a generous deadline, for a busy machine), and the next
 * millisecond (a boundary no request already sent can fall after).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { app, memoryStore } from '../../sample-app/src/server';

const servers: Server[] = [];
afterAll(() => Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r)))));

/** A sample app on a free loopback port: its port, and its server (a test may change how it answers). */
export async function startSampleApp(options: {
  readonly color: string;
  readonly version: string;
  readonly misbehave?: string;
  readonly slowMs?: number;
}): Promise<{ readonly port: number; readonly server: Server }> {
  const server = createServer(app({ ...options, sessions: memoryStore() }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** Polls `condition` until it holds; fails after `timeoutMs` (20 s: counted events, not speed, decide tests). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The first epoch ms after now: a request whose client read the clock at or after it was sent after now. */
export async function nextMillisecond(): Promise<number> {
  const next = Date.now() + 1;
  await until(() => Date.now() >= next);
  return next;
}
