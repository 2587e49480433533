/**
 * During the bake, the old color (the rollback's target) keeps up with the new color's count (capacity.ts
 * keepRollbackTargetAtPar), but only from fresh reads: a check still running once traffic went back, or once the
 * release lost its lock, holds nothing.
 */
import type { Release } from '../../../lambda/shared/release';
import { keepRollbackTargetAtPar } from '../../../lambda/workflow/capacity';
import { FakeWorld } from '../../support/fake-world';

const SCALING = { minCount: 2, maxCount: 10 };
// Blue was live when the release started; green took all traffic at the switch.
const RELEASE = { live: 'blue', idle: 'green' } as Release;

function baking(): FakeWorld {
  const world = new FakeWorld().enableScaling(SCALING);
  world.autoscale('blue', 4);
  world.scaling!.blue = { min: 4, max: 10, scaleInSuspended: true };
  world.scaling!.green = { min: 4, max: 10, scaleInSuspended: true };
  world.services.green = { ...world.services.green, desired: 4, running: 4 };
  world.weights = { blue: 0, green: 100 };
  world.lock = { owner: 'release-1', image: 'repo:v2', since: 'then', expiresAt: world.clock + 3_600_000 };
  world.autoscale('green', 7); // under all production traffic, green's policy scaled it out
  return world;
}

test('green scaled out under all traffic: blue, the rollback target, is held at 7 too', async () => {
  const world = baking();
  const said = await keepRollbackTargetAtPar(RELEASE, 'release-1', world.deps(), SCALING);
  expect(said).toBe(
    "green scaled out to 7 under all production traffic; blue, the rollback's target, was at 4 (bounds 4..10, " +
      'scale-in suspended) and now runs at least 7',
  );
  expect(world.scaling!.blue).toEqual({ min: 7, max: 10, scaleInSuspended: true });
  expect(world.services.blue.desired).toBe(7);
});

test.each([
  [
    'traffic already went back to blue (a rollback under way)',
    (w: FakeWorld) => void (w.weights = { blue: 100, green: 0 }),
  ],
  ['the release no longer holds the lock', (w: FakeWorld) => void (w.lock = undefined)],
])('%s: nothing is held', async (_, change) => {
  const world = baking();
  change(world);
  const before = structuredClone(world.scaling!.blue);
  await expect(keepRollbackTargetAtPar(RELEASE, 'release-1', world.deps(), SCALING)).resolves.toBeUndefined();
  expect(world.scaling!.blue).toEqual(before);
  expect(world.calls).not.toContain('fleet.setCapacity');
});
