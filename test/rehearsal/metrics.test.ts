/**
 * RouterTrafficMetrics: the rehearsal's per-color traffic metrics (what CloudWatch's ALB metrics per target group
 * are in AWS), from what the local router forwarded. Real sample apps; counts, never durations, except a lower
 * bound the app itself guarantees (it waits that long before answering).
 */
import { RouterTrafficMetrics } from '../../rehearsal/metrics';
import { LocalRouter } from '../../rehearsal/router';
import { app, memoryStore } from '../../sample-app/src/server';
import { nextMillisecond, startSampleApp, until } from '../support/local-apps';

const sampleApp = async (color: string, misbehave?: string) =>
  (await startSampleApp({ color, version: color, misbehave })).port;
/** The next millisecond, as the Date a metrics window takes. */
const instant = async () => new Date(await nextMillisecond());

describe('RouterTrafficMetrics (TrafficMetrics of the local load balancer)', () => {
  let router: LocalRouter;
  let metrics: RouterTrafficMetrics;
  beforeEach(async () => {
    router = new LocalRouter({
      testHeader: 'X-Bluegreen-Test-Token',
      testToken: 't',
      healthPath: '/health',
      healthIntervalMs: 50,
    });
    await router.start();
    metrics = new RouterTrafficMetrics(router);
  });
  afterEach(() => router.stop());

  const healthy = async (color: 'blue' | 'green', misbehave?: string) => {
    router.register(color, { id: `${color}-1`, host: '127.0.0.1', port: await sampleApp(color, misbehave) });
    await until(async () => (await router.targetHealth(color)).healthy === 1);
  };
  const get = async (path = '/', headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${router.productionPort}${path}`, { headers });
    await res.arrayBuffer();
    return res.status;
  };

  test('one-second periods, settled a second after the window', () => {
    expect(metrics).toMatchObject({ periodSeconds: 1, settleSeconds: 1 });
  });

  test('per color: requests, 5xx and the latency percentile; a color with no traffic has no latency', async () => {
    await healthy('blue');
    await healthy('green', 'fail-some:10,slow:40'); // every 10th user request fails; every answer 40 ms late
    await router.setProductionWeights({ blue: 500, green: 500 });
    const start = await instant();
    const statuses: number[] = [];
    while (statuses.length < 60) {
      statuses.push(await get());
    }
    const end = await instant();
    const green = await metrics.window('green', start, end, 99);
    const blue = await metrics.window('blue', start, end, 50);
    expect(green.requests + blue.requests).toBe(60);
    expect(green.requests).toBeGreaterThan(0);
    expect(blue.requests).toBeGreaterThan(0);
    // fail-some:10 fails exactly the 10th, 20th, ... user request it answers; blue fails none.
    expect(green.errors).toBe(Math.floor(green.requests / 10));
    expect(blue.errors).toBe(0);
    expect(green.errors + blue.errors).toBe(statuses.filter((s) => s >= 500).length);
    expect(green.latencyMs).toBeGreaterThanOrEqual(39);
    expect(blue.latencyMs).toBeGreaterThan(0);
    // Nothing outside the window, and no latency without requests.
    expect(await metrics.window('green', new Date(start.getTime() - 60_000), start, 99)).toEqual({
      requests: 0,
      errors: 0,
    });
  });

  test('a request counts in the window it started in, even when its answer ends in the next one', async () => {
    await healthy('blue', 'slow:300');
    const start = await instant();
    const answer = get('/');
    await until(() => router.inFlight('blue', 'blue-1') > 0);
    const boundary = await instant();
    expect(await answer).toBe(200);
    const end = await instant();
    const [first, second] = await Promise.all([
      metrics.window('blue', start, boundary, 99),
      metrics.window('blue', boundary, end, 99),
    ]);
    expect(first).toMatchObject({ requests: 1, errors: 0 });
    expect(first.latencyMs).toBeGreaterThanOrEqual(299);
    expect(second).toEqual({ requests: 0, errors: 0 });
    // [start, end) is half-open: the window that starts at the request's instant has it, the one ending there not.
    const [sample] = router.samplesStartedIn('blue', start.getTime(), end.getTime());
    expect((await metrics.window('blue', new Date(sample.startedAt), end, 99)).requests).toBe(1);
    expect((await metrics.window('blue', start, new Date(sample.startedAt), 99)).requests).toBe(0);
  });

  test('a target that answers nothing counts as an error (502), like the alarms count it', async () => {
    const { port, server } = await startSampleApp({ color: 'green', version: 'green' });
    router.register('green', { id: 'green-1', host: '127.0.0.1', port });
    await until(async () => (await router.targetHealth('green')).healthy === 1);
    // From now on the app drops every user request's connection without answering (health checks still pass).
    server.removeAllListeners('request');
    const healthyApp = app({ color: 'green', version: 'green', sessions: memoryStore() });
    server.on('request', (req, res) => (req.url === '/health' ? healthyApp(req, res) : req.socket.destroy()));
    await router.setProductionWeights({ blue: 0, green: 100 });
    const start = await instant();
    expect([await get(), await get(), await get()]).toEqual([502, 502, 502]);
    expect(await metrics.window('green', start, await instant(), 99)).toMatchObject({
      requests: 3,
      errors: 3,
    });
  });

  test('users’ traffic only: validation’s requests through the test listener are not counted', async () => {
    await healthy('blue');
    await healthy('green', 'fail-some:50');
    const start = await instant();
    const viaTest = async () => {
      const res = await fetch(`http://127.0.0.1:${router.testPort}/`, {
        headers: { 'X-Bluegreen-Test-Token': 't' },
      });
      await res.arrayBuffer();
      return `${res.headers.get('x-bluegreen-color')} ${res.status}`;
    };
    expect([await viaTest(), await viaTest()]).toEqual(['green 200', 'green 200']);
    expect([await get(), await get()]).toEqual([200, 200]); // production: all on blue
    const end = await instant();
    expect(await metrics.window('green', start, end, 99)).toEqual({ requests: 0, errors: 0 });
    expect(await metrics.window('blue', start, end, 99)).toMatchObject({ requests: 2, errors: 0 });
  });

  test('a window that ends before it starts, or a percentile outside (0, 100]: a clear error', async () => {
    const t = new Date('2026-01-01T00:00:10Z');
    await expect(metrics.window('blue', t, new Date(t.getTime() - 1000), 99)).rejects.toThrow(
      'a metrics window ends before it starts (2026-01-01T00:00:10.000Z to 2026-01-01T00:00:09.000Z)',
    );
    await expect(metrics.window('blue', t, t, 0)).rejects.toThrow(
      'the latency percentile must be above 0 and at most 100 (got 0)',
    );
  });
});
