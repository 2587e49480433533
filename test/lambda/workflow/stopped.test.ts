import { stopped } from '../../../lambda/workflow/conclude';
import { FakeWorld } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

const held = (world: FakeWorld, owner: string) => {
  world.lock = { owner, image: 'repo:v9', since: 'earlier', expiresAt: world.clock + 3_600_000 };
};

describe('stopped: a release that timed out or was stopped', () => {
  test('releases its lock, lets scaling act and reports that traffic and record agree', async () => {
    const world = new FakeWorld();
    held(world, 'release-9');
    world.capacityHeld = true;
    const { outcome, published } = await stopped(
      { execution: 'release-9', status: 'TIMED_OUT' },
      world.deps(),
      SETTINGS,
    );
    expect(world.lock).toBeUndefined();
    expect(world.capacityHeld).toBe(false);
    expect(published).toBe(true);
    expect(outcome).toMatchObject({ status: 'STOPPED', error: 'TIMED_OUT', release: 'release-9' });
    expect(outcome.cause).toBe(
      'Release release-9 ended TIMED_OUT before its last step (no rollback or cleanup of its own ran); its lock is ' +
        'free and scaling acts again. Now: all production traffic to blue, and the record agrees. The idle color ' +
        "may still run the release's revision; the next release replaces it.",
    );
    expect(world.published).toEqual([outcome]);
  });

  test('stopped mid-switch: reports the drift (both values, how to reconcile) and changes nothing', async () => {
    const world = new FakeWorld();
    world.weights = { blue: 0, green: 100 };
    held(world, 'release-9');
    const { outcome } = await stopped(
      { execution: 'release-9', status: 'ABORTED', endedIn: 'Switch traffic' },
      world.deps(),
      SETTINGS,
    );
    expect(outcome.cause).toContain('ended ABORTED in "Switch traffic" before its last step');
    expect(outcome.cause).toContain(
      'says blue is live, but the production listener sends all production traffic to green',
    );
    expect(world.record.liveColor).toBe('blue');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.lock).toBeUndefined();
  });

  test('stopped by bluegreen rollback: says so, and who rolls back', async () => {
    const world = new FakeWorld();
    const { outcome } = await stopped(
      {
        execution: 'release-9',
        status: 'ABORTED',
        error: 'ManualRollback',
        cause: 'Rolled back by alice with bluegreen rollback: errors.',
      },
      world.deps(),
      SETTINGS,
    );
    expect(outcome.cause).toContain(
      'ended ABORTED (ManualRollback: Rolled back by alice with bluegreen rollback: errors.) before its last step',
    );
    expect(outcome.cause).toContain('The operator who stopped it rolls traffic, record and idle color back');
  });

  test('never frees another release’s lock, nor lets scaling act while that release holds it', async () => {
    const world = new FakeWorld();
    held(world, 'release-10');
    world.capacityHeld = true;
    const { outcome } = await stopped({ execution: 'release-9', status: 'ABORTED' }, world.deps(), SETTINGS);
    expect(world.lock?.owner).toBe('release-10');
    expect(world.capacityHeld).toBe(true);
    expect(world.calls).not.toContain('fleet.holdCapacity');
    expect(outcome.cause).toContain('scaling stays held for release-10, which holds the lock now');
  });

  test('an expired lease of another release does not keep scaling held', async () => {
    const world = new FakeWorld();
    world.lock = { owner: 'release-8', image: 'repo:v8', since: 'long ago', expiresAt: world.clock - 1000 };
    world.capacityHeld = true;
    await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, world.deps(), SETTINGS);
    expect(world.capacityHeld).toBe(false);
    expect(world.lock?.owner).toBe('release-8');
  });

  test('an ending whose own step reported it is not published again', async () => {
    const world = new FakeWorld();
    const { outcome, published } = await stopped(
      { execution: 'release-9', status: 'FAILED', error: 'RolledBack', cause: '...', endedIn: 'Rolled back' },
      world.deps(),
      SETTINGS,
    );
    expect(published).toBe(false);
    expect(world.published).toEqual([]);
    expect(outcome.cause).toBe(
      'Release release-9 ended in "Rolled back", whose step reported it; its lock is free and scaling acts again.',
    );
  });

  test('a FAILED execution whose history cannot be read is reported (rather than maybe never)', async () => {
    const world = new FakeWorld();
    const { published, outcome } = await stopped(
      { execution: 'release-9', status: 'FAILED', error: 'Sandbox.Timedout', cause: 'Task timed out' },
      world.deps(),
      SETTINGS,
    );
    expect(published).toBe(true);
    expect(outcome.status).toBe('STOPPED');
    expect(outcome.cause).toContain(
      'ended FAILED (its history could not be read) (Sandbox.Timedout: Task timed out): its ending step did not finish',
    );
  });
});
