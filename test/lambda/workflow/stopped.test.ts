import { stopped } from '../../../lambda/workflow/conclude';
import { FakeWorld } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

describe('stopped: a release that timed out or was stopped', () => {
  test('releases its lock and reports that traffic and record agree', async () => {
    const world = new FakeWorld();
    world.lock = {
      owner: 'release-9',
      image: 'repo:v9',
      since: 'earlier',
      expiresAt: Date.now() + 3_600_000,
    };
    const outcome = await stopped('release-9', 'TIMED_OUT', world.deps(), SETTINGS);
    expect(world.lock).toBeUndefined();
    expect(outcome).toMatchObject({ status: 'STOPPED', error: 'TIMED_OUT', release: 'release-9' });
    expect(outcome.cause).toBe(
      "Release release-9 ended TIMED_OUT before its last step (no rollback or cleanup of its own ran). Now: all production traffic to blue, and the record agrees. The idle color may still run the release's revision; the next release replaces it.",
    );
    expect(world.published).toEqual([outcome]);
  });

  test('stopped mid-switch: reports the drift (both values, how to reconcile) and changes nothing', async () => {
    const world = new FakeWorld();
    world.weights = { blue: 0, green: 100 };
    world.lock = {
      owner: 'release-9',
      image: 'repo:v9',
      since: 'earlier',
      expiresAt: Date.now() + 3_600_000,
    };
    const outcome = await stopped('release-9', 'ABORTED', world.deps(), SETTINGS);
    expect(outcome.cause).toContain(
      'says blue is live, but the production listener sends all production traffic to green',
    );
    expect(world.record.liveColor).toBe('blue');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.lock).toBeUndefined();
  });

  test('stopped by bluegreen rollback: says so, and who rolls back', async () => {
    const world = new FakeWorld();
    const outcome = await stopped('release-9', 'ABORTED', world.deps(), SETTINGS, {
      error: 'ManualRollback',
      cause: 'Rolled back by alice with bluegreen rollback: errors.',
    });
    expect(outcome.cause).toContain(
      'ended ABORTED (ManualRollback: Rolled back by alice with bluegreen rollback: errors.) before its last step',
    );
    expect(outcome.cause).toContain('The operator who stopped it rolls traffic, record and idle color back');
  });

  test('never frees another release’s lock', async () => {
    const world = new FakeWorld();
    world.lock = { owner: 'release-10', image: 'repo:v10', since: 'now', expiresAt: Date.now() + 3_600_000 };
    await stopped('release-9', 'ABORTED', world.deps(), SETTINGS);
    expect(world.lock?.owner).toBe('release-10');
  });
});
