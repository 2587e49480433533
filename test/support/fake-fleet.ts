/**
 * The fake world's fleet (ECS services in AWS): deploys and restores acted out on the world's services, revisions
 * retired, scaling held, and (with enableScaling) scalable targets whose bounds bring the count within them at once,
 * as Application Auto Scaling does. Every call goes through the world's `op` (recorded, subject to faults).
 */
import { BluegreenError } from '../../lambda/shared/errors';
import type { Fleet } from '../../lambda/shared/ports';
import type { FakeWorld } from './fake-world';

/** A port call of the world: recorded under `name`, subject to the fault plan, then `body`. */
export type Op = <T>(name: string, body: () => T | Promise<T>) => Promise<T>;

export function fakeFleet(w: FakeWorld, op: Op): Fleet {
  return {
    describe: (color, revision) => op('fleet.describe', () => w.describe(color, revision)),
    register: (color, image) => op('fleet.register', () => w.register(color, image)),
    deploy: (color, revision, count, bounds) =>
      op('fleet.deploy', () => {
        w.assignBounds(color, bounds);
        w.services[color] = {
          revision,
          desired: count,
          running: 0,
          rollout: 'IN_PROGRESS',
          failedTasks: 0,
          checks: 0,
        };
      }),
    restore: (color, count, revision, bounds) =>
      op('fleet.restore', () => {
        w.assignBounds(color, bounds);
        const s = w.services[color];
        // ECS: a deregistered (INACTIVE) revision cannot run again; its image is registered afresh.
        const inactive = revision !== undefined && w.revisions.get(revision)?.active === false;
        const image = revision === undefined ? undefined : w.revisions.get(revision)?.image;
        if (inactive && image) {
          revision = w.register(color, image);
        }
        w.services[color] = {
          ...s,
          revision: revision ?? s.revision,
          desired: count,
          running: count,
          rollout: 'COMPLETED',
          failedTasks: 0,
          checks: 9,
        };
        return {
          count,
          ...(revision ? { revision } : {}),
          ...(inactive ? { note: `the revision was deregistered: ${image} registered again` } : {}),
        };
      }),
    retire: (revision) =>
      op('fleet.retire', () => {
        const r = w.revisions.get(revision);
        if (r) {
          r.active = false;
        }
      }),
    revisionRunnable: (revision) =>
      op('fleet.revisionRunnable', () => {
        const r = w.revisions.get(revision);
        return r?.active
          ? { runnable: true, image: r.image }
          : {
              runnable: false,
              reason: `task definition ${revision.split('/').pop()} is ${r ? 'INACTIVE (deregistered)' : 'not found'}`,
            };
      }),
    holdCapacity: (hold) => op('fleet.holdCapacity', () => void (w.capacityHeld = hold)),
    capacity: (color) =>
      op('fleet.capacity', () =>
        w.scaling ? { ...w.scaling[color], desired: w.services[color].desired } : undefined,
      ),
    setCapacity: (color, bounds) =>
      op('fleet.setCapacity', () => {
        if (!w.scaling) {
          throw new BluegreenError('ScalingNotConfigured', 'This world has no auto scaling.');
        }
        w.scaling[color] = { ...bounds };
        w.boundChanges.push({ color, bounds: { ...bounds } });
        // Application Auto Scaling brings the count within the new bounds at once, on the current revision.
        const s = w.services[color];
        const count = Math.min(bounds.max, Math.max(bounds.min, s.desired));
        if (count !== s.desired) {
          w.services[color] = { ...s, desired: count, running: count };
        }
      }),
  };
}
