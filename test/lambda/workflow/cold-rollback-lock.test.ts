/**
 * The cold rollback's core (lambda/workflow/cold-rollback.ts) and its lock, against the in-memory world
 * (cold-rollback-support.ts): the lock is ours until the end or nothing more is touched (lease, deadline, Ctrl-C), and
 * two operators who confirmed the same cold rollback. Every assertion counts the world's recorded calls and state.
 */
import { coldRollback } from '../../../lambda/workflow/cold-rollback';
import { planColdRollback, type ColdRollbackDeps } from '../../../lambda/workflow/cold-rollback-plan';
import { REPO, type FakeWorld } from '../../support/fake-world';
import { V1, OWNER, SETTINGS, afterRelease, depsOf, untouched } from './cold-rollback-support';

describe('cold rollback: the lock is ours until the end, or nothing more is touched', () => {
  /** Blue not healthy at the first look, so the wait sleeps; `onSleep` runs during the first sleep. */
  async function sleeping(world: FakeWorld, onSleep: (deps: ColdRollbackDeps) => Promise<void> | void) {
    world.behaviours.set(V1, 'never-healthy');
    const deps = depsOf(world);
    let slept = false;
    const sleepy: ColdRollbackDeps = {
      ...deps,
      sleep: async () => {
        if (!slept) {
          slept = true;
          await onSleep(deps);
        }
        world.behaviours.set(V1, 'good');
      },
    };
    const confirmedAt = deps.now();
    const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
    const plan = await planColdRollback(deps, SETTINGS, { liveSince });
    return {
      deps: sleepy,
      request: { owner: OWNER, by: 'alice', confirmedAt, plan, liveSince, version: 'v1' },
    };
  }

  test('the lease ran out while the machine slept and a release took the lock: LockLost, its color untouched', async () => {
    const { world } = afterRelease();
    const V3 = `${REPO}:v3`;
    let v3Revision = '';
    const { deps, request } = await sleeping(world, async (d) => {
      // 15 minutes asleep: the lease is long gone; a release of v3 takes the lock and starts blue on v3.
      world.clock += 15 * 60_000;
      const taken = await d.lock.acquire(
        'release-v3',
        V3,
        new Date(world.clock),
        new Date(world.clock + 3_600_000),
      );
      expect(taken.acquired).toBe(true);
      v3Revision = world.register('blue', V3);
      world.services.blue = { ...world.services.blue, revision: v3Revision, desired: 2, running: 2 };
    });
    await expect(coldRollback(request, deps, SETTINGS)).rejects.toMatchObject({
      name: 'LockLost',
      message: expect.stringContaining('the release lock is now held by release-v3'),
    });
    // The release's color and lock are as it left them; production untouched.
    expect(world.services.blue).toMatchObject({ revision: v3Revision, desired: 2 });
    expect(world.lock?.owner).toBe('release-v3');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.record.liveColor).toBe('green');
    expect(world.testWeights).toEqual({ blue: 100, green: 0 });
  });

  test('the lease is short and renewed on every look', async () => {
    const { world } = afterRelease();
    const leases: number[] = [];
    const { deps, request } = await sleeping(world, () => undefined);
    const acquire = deps.lock.acquire.bind(deps.lock);
    const lock = {
      ...deps.lock,
      acquire: (owner: string, image: string, now: Date, expiresAt: Date) => {
        leases.push((expiresAt.getTime() - now.getTime()) / 1000);
        return acquire(owner, image, now, expiresAt);
      },
    };
    await coldRollback(request, { ...deps, lock }, SETTINGS);
    // Taken, renewed at each of the (at least two) looks, before the validation and before the switch.
    expect(leases.length).toBeGreaterThanOrEqual(5);
    expect(new Set(leases)).toEqual(new Set([360 + SETTINGS.pollSeconds]));
    expect(world.lock).toBeUndefined();
  });

  test('no sleep goes past the deadline', async () => {
    const { world } = afterRelease();
    world.behaviours.set(V1, 'never-healthy');
    const deps = depsOf(world);
    const wakes: number[] = [];
    const settings = { ...SETTINGS, timeoutSeconds: 127, pollSeconds: 30 };
    const confirmedAt = deps.now();
    const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
    const plan = await planColdRollback(deps, settings, { liveSince });
    const sleep = (ms: number) => {
      world.clock += ms;
      wakes.push(world.clock);
      return Promise.resolve();
    };
    const error = (await coldRollback(
      { owner: OWNER, by: 'alice', confirmedAt, plan, liveSince },
      { ...deps, sleep },
      settings,
    ).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('NotHealthy');
    const deadline = Date.parse(/deadline (\S+):/.exec(error.message)![1]);
    expect(wakes.length).toBeGreaterThan(1);
    expect(Math.max(...wakes)).toBeLessThanOrEqual(deadline);
  });

  test('stopped (Ctrl-C) while blue starts: Cancelled, blue back to 0, the lock freed, traffic untouched', async () => {
    const { world } = afterRelease();
    const stop = new AbortController();
    const { deps, request } = await sleeping(world, () => stop.abort());
    await expect(coldRollback({ ...request, signal: stop.signal }, deps, SETTINGS)).rejects.toMatchObject({
      name: 'Cancelled',
      message: expect.stringContaining(
        'Stopped by the operator (Ctrl-C) before the switch. blue was put back to 0.',
      ),
    });
    untouched(world);
    expect(world.lock).toBeUndefined();
  });
});

test('two operators confirmed the same cold rollback: the second is told the first one made blue live, nothing changed', async () => {
  const { world } = afterRelease();
  const deps = depsOf(world);
  const confirmedAt = deps.now();
  const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
  const plan = await planColdRollback(deps, SETTINGS, { liveSince });
  const ask = (owner: string) => ({ owner, by: owner, confirmedAt, plan, liveSince, version: 'v1' });
  await expect(coldRollback(ask('first'), deps, SETTINGS)).resolves.toMatchObject({ to: 'blue' });
  const after = {
    weights: { ...world.weights },
    blue: { ...world.services.blue },
    green: { ...world.services.green },
  };
  await expect(coldRollback(ask('second'), deps, SETTINGS)).rejects.toMatchObject({
    name: 'StateChanged',
    message: expect.stringMatching(/^Since you confirmed, blue became live .* Nothing was changed/),
  });
  expect(world.record.liveColor).toBe('blue');
  expect(world.weights).toEqual(after.weights);
  expect(world.services.blue).toEqual(after.blue);
  expect(world.services.green).toEqual(after.green);
  expect(world.published).toHaveLength(1);
  expect(world.lock).toBeUndefined();
});
