/**
 * The local fleet's auto scaling (Application Auto Scaling's rules) and the local scaler acting on it, with real
 * sample-app processes behind the local router. Every assertion is about counts and the fleet's own log; the
 * scaler is evaluated with explicit clock values, so no test depends on how fast the machine is.
 */
import { join } from 'node:path';
import { buildSampleApp, LocalFleet } from '../../rehearsal/fleet';
import { LocalRouter } from '../../rehearsal/router';
import { LocalScaler } from '../../rehearsal/scaler';
import { rollOut } from '../../lambda/workflow/deploy';
import { until } from '../support/local-apps';
import { tempDir } from '../support/temp';

describe('LocalFleet auto scaling and the local scaler', () => {
  const appFile = buildSampleApp(join(tempDir('bluegreen-fleet-scaling-'), 'app.js'));
  let router: LocalRouter;
  let fleet: LocalFleet;
  beforeEach(async () => {
    router = new LocalRouter({
      testHeader: 'X-Bluegreen-Test-Token',
      testToken: 't',
      healthPath: '/health',
      healthIntervalMs: 100,
      deregistrationDelayMs: 1000,
    });
    await router.start();
    fleet = new LocalFleet({ router, appFile, misbehaviour: () => undefined });
  });
  afterEach(async () => {
    await fleet.stopAll();
    await router.stop();
  });

  const running = async (color: 'blue' | 'green') => (await fleet.describe(color)).running;

  test('without auto scaling: no capacity to report, and setting one is a named error that changes nothing', async () => {
    expect(await fleet.capacity('blue')).toBeUndefined();
    await expect(fleet.setCapacity('blue', { min: 1, max: 2, scaleInSuspended: true })).rejects.toMatchObject(
      {
        name: 'ScalingNotConfigured',
      },
    );
    expect(fleet.events()).toEqual([]);
  });

  test("bounds bring the count within them at once, on the color's revision; a deployed count stays until a policy acts", async () => {
    await fleet.configureScaling({
      blue: { min: 2, max: 4, scaleInSuspended: false },
      green: { min: 0, max: 0, scaleInSuspended: false },
    });
    // A deploy above the max is not clamped by the bounds (a policy would clamp it when it acts).
    const revision = await rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 3);
    expect(await fleet.capacity('green')).toEqual({ min: 0, max: 0, scaleInSuspended: false, desired: 3 });
    await until(async () => (await running('green')) === 3);

    // A max under the count scales it down at once.
    await fleet.setCapacity('green', { min: 0, max: 1, scaleInSuspended: false });
    expect(await fleet.capacity('green')).toEqual({ min: 0, max: 1, scaleInSuspended: false, desired: 1 });
    expect(await running('green')).toBe(1);

    // A min above it scales it up, on the revision it runs.
    await fleet.setCapacity('green', { min: 3, max: 5, scaleInSuspended: true });
    expect(await fleet.capacity('green')).toEqual({ min: 3, max: 5, scaleInSuspended: true, desired: 3 });
    await until(async () => (await fleet.describe('green', revision)).rollout === 'COMPLETED');
    expect(await fleet.describe('green')).toMatchObject({ revision, desired: 3, running: 3 });

    // Bounds AWS refuses change nothing.
    await expect(
      fleet.setCapacity('green', { min: 4, max: 2, scaleInSuspended: false }),
    ).rejects.toMatchObject({
      name: 'InvalidCapacity',
    });
    expect(await fleet.capacity('green')).toEqual({ min: 3, max: 5, scaleInSuspended: true, desired: 3 });

    expect(fleet.events().map((e) => [e.color, e.what, e.before, e.desired])).toEqual([
      ['blue', 'stack', 0, 2],
      ['green', 'stack', 0, 0],
      ['green', 'deploy', 0, 3],
      ['green', 'bounds', 3, 1],
      ['green', 'bounds', 1, 3],
    ]);
    // Removing auto scaling (a stack update without it) leaves the counts as they are.
    await fleet.configureScaling(undefined);
    expect(await fleet.capacity('green')).toBeUndefined();
    expect((await fleet.describe('green')).desired).toBe(3);
  }, 60_000);

  test('a policy never sets a count outside the bounds, nor below the count while scale-in is suspended', async () => {
    await fleet.configureScaling({
      blue: { min: 1, max: 3, scaleInSuspended: true },
      green: { min: 0, max: 0, scaleInSuspended: false },
    });
    await fleet.restore('blue', 2);
    await expect(fleet.scaleTo('blue', 4, 'too many')).rejects.toThrow(/bounds 1\.\.3/);
    await expect(fleet.scaleTo('blue', 1, 'scale-in')).rejects.toThrow(/scale-in suspended at 2/);
    expect(fleet.events().filter((e) => e.what === 'scale')).toEqual([]);
    expect((await fleet.capacity('blue'))?.desired).toBe(2);
  }, 30_000);

  test('the scaler scales a color out on its requests per task and back in, within its bounds; an idle color is left alone', async () => {
    await fleet.configureScaling({
      blue: { min: 1, max: 3, scaleInSuspended: false },
      green: { min: 0, max: 0, scaleInSuspended: false },
    });
    await rollOut(fleet, 'blue', { image: 'repo:v1', version: 'v1' }, 1);
    await until(async () => (await router.targetHealth('blue')).healthy === 1);
    // A window of 60 s holds every request below: 60 requests are 1 per second for one task, 4 × the target.
    const scaler = new LocalScaler(fleet, router, {
      requestsPerTaskPerSecond: 0.25,
      windowSeconds: 60,
      scaleOutCooldownSeconds: 30,
      scaleInCooldownSeconds: 30,
    });
    for (let i = 0; i < 60; i++) {
      await (await fetch(`http://127.0.0.1:${router.productionPort}/`)).arrayBuffer();
    }
    const now = Date.now();
    const first = await scaler.tick(now);
    expect(first.blue).toMatchObject({ action: 'out', count: 3 });
    expect(first.green.action).toBe('none');
    await until(async () => (await router.targetHealth('blue')).healthy === 3);

    // The next window (a minute later) holds no request: back to the min, unless scale-in is suspended.
    await fleet.setCapacity('blue', { min: 1, max: 3, scaleInSuspended: true });
    expect((await scaler.tick(now + 61_000)).blue.action).toBe('none');
    await fleet.setCapacity('blue', { min: 1, max: 3, scaleInSuspended: false });
    expect((await scaler.tick(now + 62_000)).blue).toMatchObject({ action: 'in', count: 1 });
    expect(await running('blue')).toBe(1);

    expect(
      fleet
        .events()
        .filter((e) => e.what === 'scale')
        .map((e) => [e.color, e.before, e.desired]),
    ).toEqual([
      ['blue', 1, 3],
      ['blue', 3, 1],
    ]);
  }, 60_000);
});
