import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  app,
  memoryStore,
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
