import { BluegreenError, FLEET_BUSY } from '../../../lambda/shared/errors';
import type { Restored } from '../../../lambda/shared/ports';
import { abort, finish, rollback } from '../../../lambda/workflow/conclude';
import { FakeWorld, REPO } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

const NEW_REVISION = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:9';

function releaseState(world: FakeWorld) {
  return {
    execution: 'release-1',
    release: {
      image: `${REPO}:v2`,
      version: 'v2',
      live: 'blue' as const,
      idle: 'green' as const,
      liveCount: 2,
      idleBefore: { count: 0, image: `${REPO}:v1`, revision: world.services.green.revision },
      timings: SETTINGS.timings,
      startedAt: '2026-11-26T10:00:00Z',
      revision: NEW_REVISION,
    },
    failure: { Error: 'ValidationFailed', Cause: 'smoke check failed' },
  };
}

/** The world's ports, with the fleet's restore answering `restore` instead. */
function restoring(world: FakeWorld, restore: () => Promise<Restored>) {
  const deps = world.deps();
  return { ...deps, fleet: { ...deps.fleet, restore } };
}

describe('endings: putting the idle color back', () => {
  test('the new revision is retired only once the idle color no longer uses it; the cause does not claim it is back', async () => {
    const world = new FakeWorld(`${REPO}:v1`, { permanent: ['fleet.restore'] });
    const out = await abort(releaseState(world), world.deps(), SETTINGS);
    expect(world.calls).not.toContain('fleet.retire');
    expect(out.outcome?.cause).toContain(
      'Traffic never moved: blue still serves every request; the release record is untouched',
    );
    expect(out.outcome?.cause).toContain(`green could not be put back and may still run ${REPO}:v2.`);
    expect(out.outcome?.cause).not.toContain('green is back');
    expect(out.outcome?.cause).toContain('could not put green back');
    expect(world.lock).toBeUndefined();
  });

  test('a deregistered revision put back as a copy: the cause says so', async () => {
    const world = new FakeWorld();
    const copy = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:12';
    const note = 'revision 1 of green was deregistered: registered again as revision 12';
    const out = await abort(
      releaseState(world),
      restoring(world, () => Promise.resolve({ revision: copy, count: 0, note })),
      SETTINGS,
    );
    expect(out.outcome?.cause).toContain(`green is back to 0 task(s) of ${REPO}:v1 (${note})`);
    expect(world.calls).toContain('fleet.retire');
  });

  test('a color that could only be scaled to 0: Rollback’s cause says where it is, not that it is back', async () => {
    const world = new FakeWorld();
    const state = releaseState(world);
    state.release.idleBefore = { ...state.release.idleBefore, count: 2 };
    const note =
      'revision 1 of green was deregistered and registering it again failed: green was scaled to 0 instead';
    const out = await rollback(
      state,
      restoring(world, () => Promise.resolve({ count: 0, note })),
      SETTINGS,
    );
    expect(out.outcome?.cause).toContain(`the record says so; green is at 0 task(s) (${note}).`);
    expect(out.outcome?.cause).not.toContain('green is back');
  });

  test('the revision the color is put back on is never retired', async () => {
    const world = new FakeWorld();
    const state = releaseState(world);
    state.release.revision = state.release.idleBefore.revision;
    await abort(state, world.deps(), SETTINGS);
    expect(world.calls).not.toContain('fleet.retire');
  });

  test('an instance refresh still stopping fails the step at once (the state machine retries it), before any housekeeping', async () => {
    const world = new FakeWorld();
    world.lock = { owner: 'release-1', image: 'v2', since: 'now', expiresAt: world.clock + 3_600_000 };
    const busy = () => Promise.reject(new BluegreenError(FLEET_BUSY, 'still Cancelling'));
    await expect(abort(releaseState(world), restoring(world, busy), SETTINGS)).rejects.toMatchObject({
      name: 'RefreshStillActive',
    });
    expect(world.lock?.owner).toBe('release-1');
    expect(world.published).toEqual([]);
  });
});

describe('endings: a listener changed again while the ending runs', () => {
  for (const ending of ['rollback', 'abort'] as const) {
    test(`${ending}: a fresh read after the idle color is done; traffic goes back to the old color once more, and the cause says so`, async () => {
      const world = new FakeWorld(`${REPO}:v1`);
      const state = releaseState(world);
      if (ending === 'rollback') {
        world.weights = { blue: 0, green: 100 }; // after the switch
      }
      // A stale change set (or an operator) sends everything to green right after the ending's first listener
      // write (rollback), or right after its first read (abort).
      const moveOn = ending === 'rollback' ? 'router.setProductionWeights' : 'router.productionWeights';
      let moved = false;
      world.onCall = (call) => {
        if (call === moveOn && !moved) {
          moved = true;
          queueMicrotask(() => queueMicrotask(() => (world.weights = { blue: 0, green: 100 })));
        }
      };
      const out =
        ending === 'rollback'
          ? await rollback(state, world.deps(), SETTINGS)
          : await abort(state, world.deps(), SETTINGS);
      expect(moved).toBe(true);
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expect(world.record.liveColor).toBe('blue');
      expect(out.outcome?.cause).toContain(
        `The production listener was changed again while the ${ending} ran (it sent all production traffic to ` +
          'green',
      );
      expect(out.outcome?.cause).toContain('all traffic is back on blue, and the record says so.');
    });
  }

  test('finish: the listener moved back to the old color after its first read: no scale-down, no success, a rollback', async () => {
    const world = new FakeWorld(`${REPO}:v1`);
    const state = releaseState(world);
    world.weights = { blue: 0, green: 100 };
    world.services.green.desired = 2;
    world.services.green.running = 2;
    let reads = 0;
    world.onCall = (call) => {
      if (call === 'router.productionWeights' && ++reads === 1) {
        queueMicrotask(() => queueMicrotask(() => (world.weights = { blue: 100, green: 0 })));
      }
    };
    await expect(finish(state, world.deps(), { ...SETTINGS, keepIdleWarm: false })).rejects.toMatchObject({
      name: 'TrafficMovedDuringRelease',
    });
    expect(world.services.blue.desired).toBeGreaterThan(0);
    expect(world.published.filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
  });
});
