import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalRouter } from '../../rehearsal/router';
import { app, memoryStore } from '../../sample-app/src/server';

const TOKEN = 'secret-token';
const apps: Server[] = [];

async function sampleApp(color: string, version: string, misbehave?: string): Promise<number> {
  const server = createServer(app({ color, version, misbehave, slowMs: 20, sessions: memoryStore() }));
  apps.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LocalRouter (the local ALB)', () => {
  let router: LocalRouter;
  beforeEach(async () => {
    router = new LocalRouter({
      testHeader: 'X-Bluegreen-Test-Token',
      testToken: TOKEN,
      healthPath: '/health',
      healthIntervalMs: 50,
      deregistrationDelayMs: 2000,
    });
    await router.start();
    router.register('blue', { id: 'blue-1', host: '127.0.0.1', port: await sampleApp('blue', 'v1') });
    router.register('green', { id: 'green-1', host: '127.0.0.1', port: await sampleApp('green', 'v2') });
    await until(
      async () =>
        (await router.targetHealth('blue')).healthy === 1 &&
        (await router.targetHealth('green')).healthy === 1,
    );
  });
  afterEach(() => router.stop());
  afterAll(() => Promise.all(apps.map((s) => new Promise((r) => s.close(r)))));

  const get = async (port: number, path = '/version', headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    return { status: res.status, body: await res.text() };
  };

  test('production forwards to the live color; the test port only with the header, to the idle color', async () => {
    expect(JSON.parse((await get(router.productionPort)).body)).toEqual({ version: 'v1', color: 'blue' });
    expect((await get(router.testPort)).status).toBe(403);
    expect(
      JSON.parse((await get(router.testPort, '/version', { 'X-Bluegreen-Test-Token': TOKEN })).body),
    ).toEqual({ version: 'v2', color: 'green' });
  });

  test('a switch moves every new request, drops none, and keeps client connections (keep-alive) working', async () => {
    const results: number[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        results.push((await get(router.productionPort, '/')).status);
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 150));
    await router.setProductionWeights({ blue: 0, green: 100 });
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(clients);
    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((s) => s !== 200)).toEqual([]);
    expect(JSON.parse((await get(router.productionPort)).body).color).toBe('green');
  });

  test('deregistering a target drains it: in-flight requests finish, new ones go elsewhere', async () => {
    const slowPort = await sampleApp('blue', 'v1', 'slow');
    router.register('blue', { id: 'blue-slow', host: '127.0.0.1', port: slowPort });
    await until(async () => (await router.targetHealth('blue')).healthy === 2);
    const inFlight = Array.from({ length: 10 }, () => get(router.productionPort, '/'));
    await router.deregister('blue', 'blue-slow');
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await router.targetHealth('blue')).healthy).toBe(1);
  });

  test('metrics per color: requests, 5xx and p99 of what it forwarded', async () => {
    const failing = await sampleApp('green', 'v3', 'fail-under-traffic');
    router.register('green', { id: 'green-bad', host: '127.0.0.1', port: failing });
    await router.deregister('green', 'green-1');
    await until(async () => (await router.targetHealth('green')).healthy === 1);
    await router.setProductionWeights({ blue: 0, green: 100 });
    for (let i = 0; i < 20; i++) {
      await get(router.productionPort, '/');
    }
    const m = router.metrics('green', 10_000);
    expect(m).toMatchObject({ requests: 20, errors5xx: 20 });
    expect(m.p99Ms).toBeGreaterThan(0);
    expect(router.metrics('blue', 10_000).errors5xx).toBe(0);
  });

  test('no healthy target: 503, as the ALB answers', async () => {
    await router.setProductionWeights({ blue: 0, green: 0 });
    expect((await get(router.productionPort)).status).toBe(503);
  });
});
