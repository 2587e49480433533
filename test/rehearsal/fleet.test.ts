import { join } from 'node:path';
import { buildSampleApp, LocalFleet } from '../../rehearsal/fleet';
import { LocalRouter } from '../../rehearsal/router';
import { rollOut } from '../../lambda/workflow/deploy';
import { tempDir } from '../support/temp';

describe('LocalFleet (the local ECS services)', () => {
  const appFile = buildSampleApp(join(tempDir('bluegreen-fleet-'), 'app.js'));
  let router: LocalRouter;
  let fleet: LocalFleet;
  beforeEach(async () => {
    router = new LocalRouter({
      testHeader: 'X-Bluegreen-Test-Token',
      testToken: 't',
      healthPath: '/health',
      healthIntervalMs: 100,
    });
    await router.start();
    fleet = new LocalFleet({
      router,
      appFile,
      misbehaviour: (image) =>
        ({ crash: 'fail-at-start', flaky: 'fail-some:50,slow:40', typo: 'fail-sometimes:2' })[
          image.split(':')[1]
        ],
    });
  });
  afterEach(async () => {
    await fleet.stopAll();
    await router.stop();
  });

  const until = async (condition: () => Promise<boolean>, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) {
        throw new Error('condition not met in time');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('deploy starts the version’s processes, registered and healthy behind the router', async () => {
    const revision = await rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 2);
    await until(async () => (await fleet.describe('green', revision)).rollout === 'COMPLETED');
    await until(async () => (await router.targetHealth('green')).healthy === 2);
    await router.setProductionWeights({ blue: 0, green: 100 });
    expect(await (await fetch(`http://127.0.0.1:${router.productionPort}/version`)).json()).toEqual({
      version: 'v2',
      color: 'green',
    });
  }, 30_000);

  test('a version that crashes at start is restarted like ECS would, then its rollout is FAILED', async () => {
    const revision = await rollOut(fleet, 'blue', { image: 'repo:crash', version: 'crash' }, 1);
    await until(async () => (await fleet.describe('blue', revision)).rollout === 'FAILED');
    const status = await fleet.describe('blue', revision);
    expect(status.failedTasks).toBe(4);
    expect(status.running).toBe(0);
    expect(status.reason).toMatch(/exited with code 1/);
  }, 30_000);

  test('a subtly bad version gets its behaviour (fail-some:50,slow:40): half its user requests fail, late', async () => {
    const revision = await rollOut(fleet, 'green', { image: 'repo:flaky', version: 'v5' }, 1);
    await until(async () => (await fleet.describe('green', revision)).rollout === 'COMPLETED');
    await until(async () => (await router.targetHealth('green')).healthy === 1);
    await router.setProductionWeights({ blue: 0, green: 100 });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${router.productionPort}/`);
      await res.arrayBuffer();
      expect(performance.now() - t).toBeGreaterThanOrEqual(39);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 500, 200, 500]);
  }, 30_000);

  test('a version with a misspelt behaviour never starts, and says why', async () => {
    const revision = await rollOut(fleet, 'blue', { image: 'repo:typo', version: 'typo' }, 1);
    await until(async () => (await fleet.describe('blue', revision)).rollout === 'FAILED');
    expect((await fleet.describe('blue', revision)).reason).toMatch(
      /exited with code 1: .*unknown behaviour \\"fail-sometimes\\"/,
    );
  }, 30_000);

  test('restore scales a color down and stops its processes', async () => {
    const revision = await rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 2);
    await until(async () => (await fleet.describe('green', revision)).running === 2);
    await fleet.restore('green', 0);
    expect(await fleet.describe('green')).toMatchObject({ desired: 0, running: 0 });
    expect(
      (await router.targetHealth('green')).healthy + (await router.targetHealth('green')).notHealthy,
    ).toBe(0);
  }, 30_000);
});
