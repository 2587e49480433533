/**
 * Database migration phases, run through the synthesized state machine (config.migrations) with the real
 * handlers over the in-memory AWS: the order of expand, backfill and contract on every path, and where traffic,
 * record, idle color and migration record end up.
 */
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import { runRelease as run, type ExecutionResult } from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const V3 = `${REPO}:v3`;

function worldWith(behaviour: Behaviour): FakeWorld {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, behaviour);
  world.behaviours.set(V3, 'good');
  return world;
}

/** A release's path through the migration states and the steps around them, from Prepare to the contract. */
const RELEASE_PATH = [
  'Previous contract pending?',
  'Register new revision',
  'Expand database',
  'Deploy to idle color',
  'Validate idle color',
  'Backfill database',
  'Switch traffic',
  'Keep old color warm',
  'Scale old color down',
  'Contract database',
];

/** The migration tasks that ran, as "phase image-tag". */
function phases(world: FakeWorld): string[] {
  return world.migrationRuns.map((r) => `${r.phase} ${r.image.split(':').pop()}`);
}

/** The migration states and the steps around them, in the order the execution entered them. */
function around(result: ExecutionResult): string[] {
  const keep = new Set([
    'Previous contract pending?',
    'Scale idle color down',
    'Contract database (previous release)',
    'Record contract',
    'Register new revision',
    'Expand database',
    'Deploy to idle color',
    'Validate idle color',
    'Backfill database',
    'Switch traffic',
    'Keep old color warm',
    'Scale old color down',
    'Contract database',
    'Finish',
    'Abort',
    'Roll back',
    'Report contract failure',
  ]);
  return result.states.filter((s) => keep.has(s) || s.endsWith('failed'));
}

function expectTrafficOn(world: FakeWorld, color: 'blue' | 'green', image: string): void {
  expect(world.liveTarget()).toBe(color);
  expect(world.record.liveColor).toBe(color);
  expect(world.imageOf(color)).toBe(image);
  expect(world.record.images[color]).toBe(image);
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
}

describe.each(['ecs', 'asg'] as const)('migrations on %s: the success path', (platform) => {
  test('expand before the deploy, backfill before the switch, contract once the old color is down', async () => {
    const world = worldWith('good');
    const result = await run(world, { image: V2 }, { platform, migrations: {} });

    expect(result.status).toBe('SUCCEEDED');
    expect(around(result)).toEqual([...RELEASE_PATH, 'Finish']);
    expect(phases(world)).toEqual(['expand v2', 'backfill v2', 'contract v2']);
    // The expand ran before the idle color got the new revision; the contract after the old one went to 0.
    const calls = world.calls;
    expect(calls.indexOf('task.expand')).toBeLessThan(calls.indexOf('fleet.deploy'));
    expect(calls.indexOf('task.backfill')).toBeLessThan(calls.indexOf('router.setProductionWeights'));
    const scaledDown = calls.indexOf('fleet.restore', calls.indexOf('router.setProductionWeights'));
    expect(scaledDown).toBeGreaterThan(-1);
    expect(scaledDown).toBeLessThan(calls.indexOf('task.contract'));
    expect(world.services.blue.desired).toBe(0);
    expectTrafficOn(world, 'green', V2);
    expect(world.migrationState).toEqual({
      contracted: { image: V2, release: 'release-1', at: expect.any(String) },
    });
    expect(world.published.map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect(world.published[0].cause).toContain('Expand, backfill and contract ran');
  });
});

describe('migrations: failure paths', () => {
  test('expand fails: nothing deployed, traffic untouched, ExpandFailed with the exit code', async () => {
    const world = worldWith('good');
    world.failingMigrations.set('expand', 'exit');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ExpandFailed');
    expect(result.cause).toMatch(
      /^The expand migrations of .*:v2 failed: the task \w+ stopped \(Essential container in task exited\), app exit code 1\./,
    );
    expect(result.cause).toContain('Nothing was deployed');
    expect(around(result)).toEqual([...RELEASE_PATH.slice(0, 3), 'Expand failed', 'Abort']);
    expect(phases(world)).toEqual(['expand v2']);
    expect(world.calls).not.toContain('fleet.deploy');
    expect(world.services.green.desired).toBe(0);
    expectTrafficOn(world, 'blue', V1);
    expect(world.migrationState).toEqual({});
    expect(world.published.map((p) => [p.status, p.error])).toEqual([['ABORTED', 'ExpandFailed']]);
  });

  test('expand hangs: the task timeout ends it as ExpandFailed', async () => {
    const world = worldWith('good');
    world.failingMigrations.set('expand', 'timeout');
    const result = await run(world, { image: V2 }, { migrations: {}, taskTimeoutSeconds: 1 });

    expect(result.error).toBe('ExpandFailed');
    expect(result.cause).toContain('did not finish within 5 min (migrations.timeoutMinutes)');
    expectTrafficOn(world, 'blue', V1);
  });

  test('deploy fails (crash loop): expand ran, no backfill, no contract', async () => {
    const world = worldWith('crash');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.error).toBe('DeployFailed');
    expect(phases(world)).toEqual(['expand v2']);
    expectTrafficOn(world, 'blue', V1);
    expect(world.services.green.desired).toBe(0);
    expect(world.migrationState).toEqual({});
  });

  test('validation fails: expand ran, no backfill, no switch', async () => {
    const world = worldWith('fails-validation');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.error).toBe('ValidationFailed');
    expect(phases(world)).toEqual(['expand v2']);
    expect(around(result)).not.toContain('Backfill database');
    expectTrafficOn(world, 'blue', V1);
  });

  test('backfill fails: no switch, the idle color scaled down again, BackfillFailed', async () => {
    const world = worldWith('good');
    world.failingMigrations.set('backfill', 'exit');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.error).toBe('BackfillFailed');
    expect(result.cause).toContain('No switch');
    expect(around(result)).toEqual([...RELEASE_PATH.slice(0, 6), 'Backfill failed', 'Abort']);
    expect(phases(world)).toEqual(['expand v2', 'backfill v2']);
    expect(world.calls).not.toContain('router.setProductionWeights');
    expect(world.services.green.desired).toBe(0);
    expectTrafficOn(world, 'blue', V1);
  });

  test('rollback after the switch: no contract ran, the old version serves again on the expanded schema', async () => {
    const world = worldWith('fails-after-switch');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.error).toBe('RolledBack');
    expect(phases(world)).toEqual(['expand v2', 'backfill v2']);
    expect(around(result)).not.toContain('Contract database');
    expectTrafficOn(world, 'blue', V1);
    expect(world.migrationState).toEqual({});
  });

  test('contract fails: traffic stays on the new color, ContractFailed, notified, the contract pends', async () => {
    const world = worldWith('good');
    world.failingMigrations.set('contract', 'exit');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ContractFailed');
    expect(result.states[result.states.length - 1]).toBe('Live, contract failed');
    expect(around(result)).toEqual([
      ...RELEASE_PATH,
      'Contract failed',
      'Report contract failure',
      'Live, contract failed',
    ]);
    expect(result.cause).toContain('The contract migrations of');
    expect(result.cause).toContain('is live on green');
    expectTrafficOn(world, 'green', V2);
    expect(world.published.map((p) => [p.status, p.error])).toEqual([['CONTRACT_FAILED', 'ContractFailed']]);
    expect(world.migrationState.contractPending).toMatchObject({ image: V2, release: 'release-1' });

    // The next release runs that contract first (with v2's task definition), then its own phases.
    world.failingMigrations.clear();
    const next = await run(world, { image: V3 }, { migrations: {}, execution: 'release-2' });
    expect(next.status).toBe('SUCCEEDED');
    expect(phases(world)).toEqual([
      'expand v2',
      'backfill v2',
      'contract v2',
      'contract v2',
      'expand v3',
      'backfill v3',
      'contract v3',
    ]);
    expect(world.migrationState).toEqual({
      contracted: { image: V3, release: 'release-2', at: expect.any(String) },
    });
  });
});

describe('migrations: the old color cannot be scaled down', () => {
  test('the contract does not run; the new color stays live; ContractFailed says the old color may still run', async () => {
    const world = new FakeWorld(V1, { permanent: ['fleet.restore'] });
    world.behaviours.set(V2, 'good');
    const result = await run(world, { image: V2 }, { migrations: {} });

    expect(result.error).toBe('ContractFailed');
    expect(around(result).slice(-4)).toEqual([
      'Scale old color down',
      'Scale-down failed',
      'Report contract failure',
      'Live, contract failed',
    ]);
    expect(phases(world)).toEqual(['expand v2', 'backfill v2']);
    expect(result.cause).toContain(
      'Scaling blue down before the contract failed (ServiceUnavailable: Scale old color down: injected fault',
    );
    expect(result.cause).toContain('blue may still run the old version');
    expect(world.liveTarget()).toBe('green');
    expect(world.record.liveColor).toBe('green');
    expect(world.migrationState.contractPending).toMatchObject({ image: V2 });
  });
});

describe('migrations with keepIdleWarm: the contract waits for the next release', () => {
  test('release 1 leaves its contract pending; release 2 runs it (idle color down first) before its expand', async () => {
    const world = worldWith('good');
    const first = await run(world, { image: V2 }, { migrations: { keepIdleWarm: true } });

    expect(first.status).toBe('SUCCEEDED');
    expect(phases(world)).toEqual(['expand v2', 'backfill v2']);
    expect(around(first)).not.toContain('Contract database');
    expect(world.services.blue.desired).toBe(2); // the old color stays warm: a rollback stays possible
    expect(world.migrationState).toEqual({
      contractPending: {
        image: V2,
        release: 'release-1',
        taskDefinition: expect.any(String),
        since: expect.any(String),
      },
    });
    expect(world.published[0].cause).toContain('the contract waits for the next release');

    const second = await run(
      world,
      { image: V3 },
      { migrations: { keepIdleWarm: true }, execution: 'release-2' },
    );
    expect(second.status).toBe('SUCCEEDED');
    expect(around(second).slice(0, 6)).toEqual([
      'Previous contract pending?',
      'Scale idle color down',
      'Contract database (previous release)',
      'Record contract',
      'Register new revision',
      'Expand database',
    ]);
    expect(phases(world)).toEqual(['expand v2', 'backfill v2', 'contract v2', 'expand v3', 'backfill v3']);
    // v1's color went to zero before v2's contract ran.
    const calls = world.calls;
    const contract = calls.indexOf('task.contract');
    expect(calls.slice(0, contract).filter((c) => c === 'fleet.restore').length).toBeGreaterThan(0);
    expectTrafficOn(world, 'blue', V3);
    expect(world.migrationState).toEqual({
      contracted: { image: V2, release: 'release-1', at: expect.any(String) },
      contractPending: {
        image: V3,
        release: 'release-2',
        taskDefinition: expect.any(String),
        since: expect.any(String),
      },
    });
  });

  test('the previous contract fails: this release deploys nothing, the old color stays down, it pends again', async () => {
    const world = worldWith('good');
    await run(world, { image: V2 }, { migrations: { keepIdleWarm: true } });
    world.failingMigrations.set('contract', 'exit');
    const result = await run(
      world,
      { image: V3 },
      { migrations: { keepIdleWarm: true }, execution: 'release-2' },
    );

    expect(result.error).toBe('ContractFailed');
    expect(result.cause).toContain("The previous release's contract migrations of");
    expect(around(result)).toEqual([
      'Previous contract pending?',
      'Scale idle color down',
      'Contract database (previous release)',
      'Previous contract failed',
      'Abort',
    ]);
    expect(phases(world)).toEqual(['expand v2', 'backfill v2', 'contract v2']);
    expectTrafficOn(world, 'green', V2);
    // The old version does not come back: the abort leaves the idle color at zero.
    expect(world.services.blue.desired).toBe(0);
    expect(world.migrationState.contractPending).toMatchObject({ image: V2 });
  });

  test('a pending contract whose release is no longer live (rolled back by hand) is not run', async () => {
    const world = worldWith('good');
    await run(world, { image: V2 }, { migrations: { keepIdleWarm: true } });
    // An operator sent traffic back to blue (v1) after release-1: v1 needs the old column.
    world.weights = { blue: 100, green: 0 };
    world.record.liveColor = 'blue';
    const result = await run(
      world,
      { image: V3 },
      { migrations: { keepIdleWarm: true }, execution: 'release-2' },
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(phases(world)).toEqual(['expand v2', 'backfill v2', 'expand v3', 'backfill v3']);
    expect(around(result)).not.toContain('Contract database (previous release)');
  });
});
