/**
 * Group-level stickiness of the local load balancer (ALB's TargetGroupStickinessConfig on the weighted forward):
 * real sample apps behind the router, clients with cookie jars. Counted in requests, never in time.
 */
import { CookieJar, LoadGenerator, type Sample } from '../../rehearsal/load';
import { LocalRouter } from '../../rehearsal/router';
import { STICKY_COOKIE, STICKY_COOKIE_CORS, StickyCookies } from '../../rehearsal/stickiness';
import { nextMillisecond, startSampleApp, until } from '../support/local-apps';

const sampleApp = async (color: string) =>
  (await startSampleApp({ color, version: color === 'blue' ? 'v1' : 'v2' })).port;

describe('StickyCookies (the AWSALBTG cookie)', () => {
  const cookies = new StickyCookies();
  const header = (setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).join('; ');

  test('names the color until it expires; both cookies carry it, the CORS one for cross-site requests', () => {
    const issued = cookies.issue('green', 60, 1_000_000);
    expect(issued.map((c) => c.split('=')[0])).toEqual([STICKY_COOKIE, STICKY_COOKIE_CORS]);
    expect(issued[1]).toMatch(/SameSite=None; Secure$/);
    expect(cookies.colorOf(header(issued), 1_000_000 + 59_999)).toBe('green');
    expect(cookies.colorOf(issued[0].split(';')[0], 1_000_000)).toBe('green');
    expect(cookies.colorOf(header(issued), 1_000_000 + 60_000)).toBeUndefined(); // expired
    expect(cookies.colorOf(`other=1; ${header(issued)}`, 1_000_000)).toBe('green');
  });

  test('a forged, altered or foreign cookie sticks to nothing', () => {
    const value = cookies.issue('blue', 60, 0)[0].split(';')[0].split('=')[1];
    const [, expires, mac] = value.split('.');
    expect(cookies.colorOf(`${STICKY_COOKIE}=green.${expires}.${mac}`, 0)).toBeUndefined();
    expect(cookies.colorOf(`${STICKY_COOKIE}=blue.${Number(expires) + 1000}.${mac}`, 0)).toBeUndefined();
    expect(cookies.colorOf(`${STICKY_COOKIE}=blue`, 0)).toBeUndefined();
    expect(new StickyCookies().colorOf(`${STICKY_COOKIE}=${value}`, 0)).toBeUndefined();
    expect(cookies.colorOf(undefined, 0)).toBeUndefined();
  });
});

describe('LocalRouter stickiness (setProductionWeights with stickySeconds)', () => {
  let router: LocalRouter;
  beforeEach(async () => {
    router = new LocalRouter({
      testHeader: 'X-Bluegreen-Test-Token',
      testToken: 't',
      healthPath: '/health',
      healthIntervalMs: 50,
    });
    await router.start();
    router.register('blue', { id: 'blue-1', host: '127.0.0.1', port: await sampleApp('blue') });
    router.register('green', { id: 'green-1', host: '127.0.0.1', port: await sampleApp('green') });
    await until(
      async () =>
        (await router.targetHealth('blue')).healthy === 1 &&
        (await router.targetHealth('green')).healthy === 1,
    );
  });
  afterEach(() => router.stop());

  /** A browser: sends its cookies, keeps what it is given; says which color answered and whether it set AWSALBTG. */
  const user = () => {
    const jar = new CookieJar();
    return async () => {
      const cookie = jar.header(Date.now());
      const res = await fetch(
        `http://127.0.0.1:${router.productionPort}/`,
        cookie ? { headers: { cookie } } : {},
      );
      await res.arrayBuffer();
      jar.store(res.headers.getSetCookie(), Date.now());
      return {
        color: res.headers.get('x-bluegreen-color'),
        sticky: res.headers.getSetCookie().some((c) => c.startsWith(`${STICKY_COOKIE}=`)),
      };
    };
  };

  test('sticky users stay on their color across weight changes, even at weight 0; switched off, weights move them all', async () => {
    const users = Array.from({ length: 6 }, user);
    // Users 0-2 first arrive while all traffic goes to blue, users 3-5 while it all goes to green.
    await router.setProductionWeights({ blue: 100, green: 0 }, { stickySeconds: 60 });
    const first = [];
    for (const u of users.slice(0, 3)) {
      first.push(await u());
    }
    await router.setProductionWeights({ blue: 0, green: 100 }, { stickySeconds: 60 });
    for (const u of users.slice(3)) {
      first.push(await u());
    }
    expect(first).toEqual([
      ...Array(3).fill({ color: 'blue', sticky: true }),
      ...Array(3).fill({ color: 'green', sticky: true }),
    ]);
    // Each weight change keeps every user where it was (stickiness takes precedence over weights).
    for (const weights of [
      { blue: 0, green: 100 },
      { blue: 100, green: 0 },
      { blue: 500, green: 500 },
    ]) {
      await router.setProductionWeights(weights, { stickySeconds: 60 });
      for (let round = 0; round < 3; round++) {
        const colors = [];
        for (const u of users) {
          colors.push((await u()).color);
        }
        expect(colors).toEqual(['blue', 'blue', 'blue', 'green', 'green', 'green']);
      }
    }
    // Stickiness off in the same change as the weights: the cookies the users still hold are ignored, and no
    // answer sets a new one.
    await router.setProductionWeights({ blue: 0, green: 100 });
    for (let round = 0; round < 3; round++) {
      const answers = [];
      for (const u of users) {
        answers.push(await u());
      }
      expect(answers).toEqual(Array(6).fill({ color: 'green', sticky: false }));
    }
    expect(router.weightChanges().map((c) => c.stickySeconds)).toEqual([
      undefined,
      60,
      60,
      60,
      60,
      60,
      undefined,
    ]);
  });

  test('a sticky color with no healthy target left: the request goes by weight, and sticks to its new color', async () => {
    await router.setProductionWeights({ blue: 100, green: 0 }, { stickySeconds: 60 });
    const u = user();
    expect((await u()).color).toBe('blue');
    await router.setProductionWeights({ blue: 0, green: 100 }, { stickySeconds: 60 });
    await router.deregister('blue', 'blue-1');
    expect(await u()).toEqual({ color: 'green', sticky: true });
    router.register('blue', { id: 'blue-2', host: '127.0.0.1', port: await sampleApp('blue') });
    await until(async () => (await router.targetHealth('blue')).healthy === 1);
    expect((await u()).color).toBe('green');
  });

  test('stickySeconds outside ALB’s 1 to 604800: rejected, nothing changed', async () => {
    await expect(router.setProductionWeights({ blue: 0, green: 100 }, { stickySeconds: 0 })).rejects.toThrow(
      /stickySeconds must be a whole number of seconds from 1 to 604800 \(got 0\)/,
    );
    expect(await router.productionWeights()).toEqual({ blue: 100, green: 0 });
    expect(router.weightChanges()).toHaveLength(1);
  });

  test('the load generator’s sticky users stay put across a weight change; its counts per color after an instant show it', async () => {
    await router.setProductionWeights({ blue: 100, green: 0 }, { stickySeconds: 60 });
    const load = new LoadGenerator(`http://127.0.0.1:${router.productionPort}/`, 4, 60_000, { sticky: true });
    load.start();
    let samples: Sample[];
    try {
      // Every user has its cookie (all traffic went to blue so far).
      await until(() => [0, 1, 2, 3].every((u) => load.answered(u) > 0));
      await router.setProductionWeights({ blue: 0, green: 100 }, { stickySeconds: 60 });
      const changed = await nextMillisecond();
      const before = load.answered();
      await until(() => load.answered() >= before + 40);
      expect(load.byColorSince(changed)).toEqual({ blue: { requests: expect.any(Number), failed: 0 } });
      await router.setProductionWeights({ blue: 0, green: 100 });
      const switchedOff = await nextMillisecond();
      const then = load.answered();
      await until(() => load.answered() >= then + 40);
      const after = load.byColorSince(switchedOff);
      expect(after).toEqual({ green: { requests: expect.any(Number), failed: 0 } });
      expect(after.green.requests).toBeGreaterThan(0);
    } finally {
      samples = await load.stop();
    }
    // Each user kept its own jar: all four were on blue, and none failed.
    expect(new Set(samples.map((s) => s.user))).toEqual(new Set([0, 1, 2, 3]));
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
  });

  test('without the sticky option the load generator keeps no cookies: a weight change moves everyone', async () => {
    await router.setProductionWeights({ blue: 100, green: 0 }, { stickySeconds: 60 });
    const load = new LoadGenerator(`http://127.0.0.1:${router.productionPort}/`, 4, 60_000);
    load.start();
    try {
      await until(() => load.answered() >= 20);
      await router.setProductionWeights({ blue: 0, green: 100 }, { stickySeconds: 60 });
      const changed = await nextMillisecond();
      const before = load.answered();
      await until(() => load.answered() >= before + 40);
      expect(Object.keys(load.byColorSince(changed))).toEqual(['green']);
    } finally {
      await load.stop();
    }
  });
});

describe('CookieJar', () => {
  test('keeps cookies until Max-Age or Expires; Max-Age 0 deletes', () => {
    const jar = new CookieJar();
    jar.store(['a=1; Max-Age=10; Path=/', `b=2; Expires=${new Date(5000).toUTCString()}`, 'c=3'], 0);
    expect(jar.header(0)).toBe('a=1; b=2; c=3');
    expect(jar.header(5000)).toBe('a=1; c=3');
    jar.store(['a=; Max-Age=0'], 6000);
    expect(jar.header(6000)).toBe('c=3');
    expect(new CookieJar().header(0)).toBeUndefined();
  });
});
