/**
 * keepIdleWarm with auto scaling: between releases the idle color follows the live color's count (workflow/
 * follow-live.ts, run every minute), under the release lock, never while a release holds it.
 */
import { FOLLOWER, followLive } from '../../../lambda/workflow/follow-live';
import { FakeWorld, REPO } from '../../support/fake-world';
import { runRelease } from '../../support/run-workflow';

const SCALING = { minCount: 2, maxCount: 10 };
const SETTINGS = { scaling: SCALING, keepIdleWarm: true };

/** Blue live, scaled to `count`; green idle, pinned warm at 4 (as a release with keepIdleWarm leaves it). */
function warmWorld(count: number): FakeWorld {
  const w = new FakeWorld(`${REPO}:v1`).enableScaling(SCALING);
  w.autoscale('blue', count);
  w.scaling!.green = { min: 4, max: 4, scaleInSuspended: true };
  w.services.green = { ...w.services.green, desired: 4, running: 4 };
  w.recordedCapacity = { blue: 'auto', green: { min: 4, max: 4 } };
  return w;
}

describe('the idle color follows the live color (keepIdleWarm with auto scaling)', () => {
  test('the live color scaled out to 8: the idle one is pinned at 8, the record says so, the lock is free', async () => {
    const w = warmWorld(8);
    const followed = await followLive(w.deps(), SETTINGS);
    expect(followed).toEqual({ said: 'green follows blue: 4 → 8 task(s) (pinned 8..8)', changed: true });
    expect(w.services.green.desired).toBe(8);
    expect(w.scaling!.green).toEqual({ min: 8, max: 8, scaleInSuspended: true });
    expect(w.recordedCapacity!.green).toEqual({ min: 8, max: 8 });
    expect(w.scaling!.blue).toEqual({ min: 2, max: 10, scaleInSuspended: false });
    expect(w.lock).toBeUndefined();
    expect(w.calls).toContain('lock.acquire');
  });

  test('scaled in to 3: the idle one follows down (it has no production traffic)', async () => {
    const w = warmWorld(3);
    expect((await followLive(w.deps(), SETTINGS)).changed).toBe(true);
    expect(w.services.green.desired).toBe(3);
  });

  test('already following: nothing is written', async () => {
    const w = warmWorld(4);
    expect(await followLive(w.deps(), SETTINGS)).toEqual({
      said: "green already runs blue's 4 task(s)",
      changed: false,
    });
    expect(w.calls).not.toContain('fleet.setCapacity');
    expect(w.calls).not.toContain('record.writeCapacity');
  });

  test('a release holds the lock: its hold is its own, nothing changes', async () => {
    const w = warmWorld(8);
    w.lock = {
      owner: 'release-9',
      image: 'x',
      since: '2026-11-26T09:00:00Z',
      expiresAt: Date.parse('2026-11-27'),
    };
    const followed = await followLive(w.deps(), SETTINGS);
    expect(followed.changed).toBe(false);
    expect(followed.said).toContain('release-9 holds the release lock');
    expect(w.services.green.desired).toBe(4);
    expect(w.lock?.owner).toBe('release-9');
  });

  test('record and listener disagree: nothing changes, and the lock is released', async () => {
    const w = warmWorld(8);
    w.weights = { blue: 0, green: 100 };
    const followed = await followLive(w.deps(), SETTINGS);
    expect(followed.said).toBe(
      'the record says blue, but the production listener sends all production traffic to green: nothing changed',
    );
    expect(w.services.green.desired).toBe(4);
    expect(w.lock).toBeUndefined();
  });

  test('without keepIdleWarm or without scaling: nothing to follow, no lock taken', async () => {
    const w = warmWorld(8);
    expect((await followLive(w.deps(), { scaling: SCALING, keepIdleWarm: false })).changed).toBe(false);
    expect((await followLive(w.deps(), { keepIdleWarm: true })).changed).toBe(false);
    expect(w.calls).toEqual([]);
  });

  test('a release that starts while the follower holds the lock waits for it (LockBusy, retried), then runs', async () => {
    const w = warmWorld(5);
    w.behaviours.set(`${REPO}:v2`, 'good');
    w.lock = {
      owner: FOLLOWER,
      image: 'follow',
      since: '2026-11-26T09:59:59Z',
      expiresAt: Date.parse('2026-11-27'),
    };
    // The follower is done by Prepare's second try.
    w.onCall = (call, n) => {
      if (call === 'lock.acquire' && n === 2 && w.lock?.owner === FOLLOWER) {
        w.lock = undefined;
      }
    };
    const result = await runRelease(w, { image: `${REPO}:v2` }, { settings: SETTINGS });
    expect(result.status).toBe('SUCCEEDED');
    expect(w.calls.filter((c) => c === 'lock.acquire')).toHaveLength(2);
    expect(w.published.map((p) => p.status)).toEqual(['SUCCEEDED']);
  });
});
