/**
 * The world and the runs the cold rollback's tests share (cold-rollback.test.ts, cold-rollback-lock.test.ts): v1
 * ran on blue, the release of v2 made green live and scaled blue to 0; the operator rolls back to v1. The world's
 * clock moves 5 s on every now(): nothing depends on real time.
 */
import { coldRollback } from '../../../lambda/workflow/cold-rollback';
import {
  planColdRollback,
  type ColdProgress,
  type ColdRollbackDeps,
  type ColdRollbackRequest,
  type ColdRollbackSettings,
} from '../../../lambda/workflow/cold-rollback-plan';
import { validateLocally } from '../../../lambda/workflow/cold-validate';
import { FakeWorld, REPO } from '../../support/fake-world';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
export const OWNER = 'cold-rollback-20261126T100000Z';

/** The Validate step's settings, for its core run locally (validateLocally). */
const VALIDATION = {
  hasValidationHook: false,
  testUrl: 'https://shop.example.com:9000',
  testHeader: 'X-Bluegreen-Test-Token',
  smokeChecks: [
    { path: '/health', expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
    { path: '/version', expectStatus: 200, expectVersion: true, latencyBudgetMs: 1000 },
  ],
};

export const SETTINGS: ColdRollbackSettings = {
  appName: 'shop',
  recordParameter: '/bluegreen/shop/live-color',
  windowHours: 24,
  timeoutSeconds: 120,
  pollSeconds: 10,
};

/** The world after v2's release: green live with 2 tasks of v2, blue (v1) scaled to 0 by the release. */
export function afterRelease(): { world: FakeWorld; blueRevision: string } {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, 'good');
  const blueRevision = world.services.blue.revision;
  const green = world.register('green', V2);
  world.services.green = {
    revision: green,
    desired: 2,
    running: 2,
    rollout: 'COMPLETED',
    failedTasks: 0,
    checks: 9,
  };
  world.services.blue = { ...world.services.blue, desired: 0, running: 0 };
  world.record = { liveColor: 'green', images: { blue: V1, green: V2 } };
  world.weights = { blue: 0, green: 100 };
  world.testWeights = { blue: 100, green: 0 };
  return { world, blueRevision };
}

export function depsOf(world: FakeWorld): ColdRollbackDeps & { sleeps: number[] } {
  const base = world.deps();
  const sleeps: number[] = [];
  return {
    ...base,
    migrationRecord: base.migrations!.record,
    validateColor: validateLocally(base, VALIDATION),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    sleeps,
  };
}

export async function run(
  world: FakeWorld,
  options: { liveSince?: Date | null; version?: string; settings?: Partial<ColdRollbackSettings> } = {},
) {
  const deps = depsOf(world);
  const settings = { ...SETTINGS, ...options.settings };
  const confirmedAt = deps.now();
  const liveSince =
    options.liveSince === null
      ? undefined
      : (options.liveSince ?? new Date(confirmedAt.getTime() - 3_600_000));
  const plan = await planColdRollback(deps, settings, { liveSince });
  const request: ColdRollbackRequest = {
    owner: OWNER,
    by: 'arn:aws:sts::123456789012:assumed-role/ops/alice',
    reason: 'v2 corrupts carts',
    confirmedAt,
    plan,
    liveSince,
    ...(options.version === undefined
      ? { version: 'v1' }
      : options.version
        ? { version: options.version }
        : {}),
  };
  const progress: ColdProgress[] = [];
  const result = await coldRollback(request, deps, settings, (p) => progress.push(p));
  return { result, progress, plan };
}

/** What must hold after any refusal or failure: traffic, record and the lock as before, blue back at 0. */
export function untouched(world: FakeWorld) {
  expect(world.weights).toEqual({ blue: 0, green: 100 });
  expect(world.weightChanges).toEqual([]);
  expect(world.record.liveColor).toBe('green');
  expect(world.services.blue.desired).toBe(0);
  expect(world.services.green).toMatchObject({ desired: 2, running: 2 });
  expect(world.published).toEqual([]);
}
