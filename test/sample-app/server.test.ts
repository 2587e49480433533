import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  app,
  memoryStore,
  parseMisbehaviour,
  redisStore,
  type AppOptions,
  type SessionStore,
} from '../../sample-app/src/server';
import { startRedis, type RunningRedis } from '../../rehearsal/redis';

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function start(options: Partial<AppOptions> & { sessions?: SessionStore }): Promise<string> {
  const server = createServer(app({ version: 'v2', color: 'green', sessions: memoryStore(), ...options }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('sample app', () => {
  test('health, version and color', async () => {
    const base = await start({});
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/version`)).json()).toEqual({ version: 'v2', color: 'green' });
  });

  test('sessions: log in, then the cookie finds the user', async () => {
    const base = await start({});
    const login = await fetch(`${base}/session?user=ada`, { method: 'POST' });
    expect(login.status).toBe(201);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(await (await fetch(`${base}/session`, { headers: { cookie } })).json()).toEqual({
      user: 'ada',
      color: 'green',
    });
    expect((await fetch(`${base}/session`)).status).toBe(401);
  });

  test('fail-under-traffic: passes validation (test header) and health checks, fails real users', async () => {
    const base = await start({ misbehave: 'fail-under-traffic' });
    expect((await fetch(`${base}/version`, { headers: { 'x-bluegreen-test-token': 't' } })).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(500);
  });

  test('wrong-version reports another version; slow answers late', async () => {
    const wrong = await start({ misbehave: 'wrong-version' });
    expect(await (await fetch(`${wrong}/version`)).json()).toEqual({
      version: '0.0.0-stale',
      color: 'green',
    });
    const slow = await start({ misbehave: 'slow', slowMs: 150 });
    const t = performance.now();
    await fetch(`${slow}/health`);
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
  });

  /** The statuses of `n` requests, one after the other. */
  const statuses = async (url: string, n: number, headers: Record<string, string> = {}) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      out.push(res.status);
    }
    return out;
  };
  /** The 1-based positions of the 500s. */
  const failedAt = (list: number[]) => list.flatMap((s, i) => (s === 500 ? [i + 1] : []));

  test('fail-some:P fails P% of user requests, counted (at 2%: the 50th and the 100th of 100), never validation or health', async () => {
    const base = await start({ misbehave: 'fail-some:2' });
    // Validation (test header) and health checks pass, and are not counted as user requests.
    expect(await statuses(`${base}/version`, 60, { 'x-bluegreen-test-token': 't' })).toEqual(
      Array(60).fill(200),
    );
    expect(await statuses(`${base}/health`, 60)).toEqual(Array(60).fill(200));
    const users = await statuses(`${base}/`, 100);
    expect(failedAt(users)).toEqual([50, 100]);
    expect(users.filter((s) => s !== 200 && s !== 500)).toEqual([]);
  });

  test('fail-some takes fractional percentages (0.2%: one in 500) and defaults to 2%', async () => {
    expect(failedAt(await statuses(`${await start({ misbehave: 'fail-some:0.2' })}/`, 500))).toEqual([500]);
    expect(failedAt(await statuses(`${await start({ misbehave: 'fail-some' })}/`, 50))).toEqual([50]);
    expect(failedAt(await statuses(`${await start({ misbehave: 'fail-some:0' })}/`, 50))).toEqual([]);
  });

  test('slow:MS adds MS ms to every answer; behaviours combine with commas', async () => {
    const base = await start({ misbehave: 'slow:60, fail-some:50' });
    const t = performance.now();
    expect(await statuses(`${base}/`, 2)).toEqual([200, 500]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(2 * 59);
    const health = performance.now();
    await fetch(`${base}/health`);
    expect(performance.now() - health).toBeGreaterThanOrEqual(59);
  });

  test('BLUEGREEN_MISBEHAVE: an unknown behaviour or a bad value is a one-line error naming what is accepted', () => {
    expect(parseMisbehaviour(undefined)).toEqual(new Map());
    expect(parseMisbehaviour('')).toEqual(new Map());
    expect(parseMisbehaviour('fail-some:2,slow:40')).toEqual(
      new Map([
        ['fail-some', 2],
        ['slow', 40],
      ]),
    );
    expect(parseMisbehaviour('fail-under-traffic')).toEqual(new Map([['fail-under-traffic', undefined]]));
    expect(() => parseMisbehaviour('fail-sometimes:2')).toThrow(
      'BLUEGREEN_MISBEHAVE: unknown behaviour "fail-sometimes" (known: fail-at-start, fail-under-traffic, fail-some, wrong-version, slow; e.g. fail-some:2,slow:40)',
    );
    for (const bad of ['slow:', 'slow:-1', 'slow:fast', 'fail-some:Infinity']) {
      expect(() => parseMisbehaviour(bad)).toThrow(
        /^BLUEGREEN_MISBEHAVE: (slow|fail-some) takes a number of 0 or more/,
      );
    }
    expect(() => app({ version: 'v', color: 'c', misbehave: 'nope', sessions: memoryStore() })).toThrow(
      /unknown behaviour "nope"/,
    );
  });

  describe('with Redis', () => {
    let redis: RunningRedis | undefined;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis?.stop());

    test('a session created on blue is still valid on green (one shared Redis)', async () => {
      if (!redis) {
        console.warn(
          'redis-server is not installed: session sharing not tested (apt-get install redis-server)',
        );
        return;
      }
      const blueStore = await redisStore(redis.url);
      const greenStore = await redisStore(redis.url);
      try {
        const blue = await start({ color: 'blue', version: 'v1', sessions: blueStore });
        const green = await start({ color: 'green', version: 'v2', sessions: greenStore });
        const login = await fetch(`${blue}/session?user=grace`, { method: 'POST' });
        const cookie = login.headers.get('set-cookie')!.split(';')[0];
        expect(await (await fetch(`${green}/session`, { headers: { cookie } })).json()).toEqual({
          user: 'grace',
          color: 'green',
        });
      } finally {
        await Promise.all([blueStore.close(), greenStore.close()]);
      }
    });
  });
});
