import { LocalRouter } from '../../rehearsal/router';
import { app, memoryStore } from '../../sample-app/src/server';
import { startSampleApp, until } from '../support/local-apps';

const TOKEN = 'secret-token';

const sampleApp = async (color: string, version: string, misbehave?: string, slowMs = 20) =>
  (await startSampleApp({ color, version, misbehave, slowMs })).port;

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
    // Counted in answers, not in time: a loaded machine answers fewer requests per 150 ms.
    const answered = async (n: number) => {
      while (results.length < n) {
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await answered(60);
    await router.setProductionWeights({ blue: 0, green: 100 });
    await answered(results.length + 60);
    stop = true;
    await Promise.all(clients);
    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((s) => s !== 200)).toEqual([]);
    expect(JSON.parse((await get(router.productionPort)).body).color).toBe('green');
  });

  test('deregistering a target drains it: in-flight requests finish, new ones go elsewhere', async () => {
    // answers after 20 ms... made slower below
    const { port: slowPort, server: slowServer } = await startSampleApp({
      color: 'blue',
      version: 'v1-slow',
      misbehave: 'slow',
      slowMs: 20,
    });
    slowServer.removeAllListeners('request');
    slowServer.on(
      'request',
      app({ color: 'blue', version: 'v1-slow', misbehave: 'slow', slowMs: 400, sessions: memoryStore() }),
    );
    router.register('blue', { id: 'blue-slow', host: '127.0.0.1', port: slowPort });
    await until(async () => (await router.targetHealth('blue')).healthy === 2);
    const inFlight = Array.from({ length: 10 }, () => get(router.productionPort, '/'));
    // Only deregister once requests really are in flight to the slow target.
    await until(() => Promise.resolve(router.inFlight('blue', 'blue-slow') > 0), 2000);
    const drained = router.deregister('blue', 'blue-slow');
    expect(router.inFlight('blue', 'blue-slow')).toBeGreaterThan(0);
    const answers = await Promise.all(inFlight);
    await drained;
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((r) => r.body.includes('v1-slow')).length).toBeGreaterThan(0); // some were drained, not dropped
    expect((await router.targetHealth('blue')).healthy).toBe(1);
    // New requests after the deregistration never reach it.
    expect((await get(router.productionPort, '/')).body).not.toContain('v1-slow');
  });

  test('hop-by-hop headers stay with their connection (Connection, Keep-Alive, TE, and those Connection names)', async () => {
    const { withoutHopByHop } = await import('../../rehearsal/router');
    expect(
      withoutHopByHop({
        connection: 'close, x-secret-hop',
        'keep-alive': 'timeout=65',
        te: 'trailers',
        'x-secret-hop': '1',
        accept: '*/*',
      }),
    ).toEqual({ accept: '*/*' });
    const res = await fetch(`http://127.0.0.1:${router.productionPort}/version`, {
      headers: { connection: 'close' },
    });
    expect(res.headers.get('keep-alive')).toBeNull();
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
