/**
 * What the migration tests share (migrations.test.ts, migrations-decisions.test.ts): images, revisions, a fixed
 * clock, a release in its state, and small in-memory fakes of the ports that note every call.
 */
import type {
  Fleet,
  MigrationRecord,
  MigrationState,
  MigrationTasks,
  ReleaseOutcome,
  ReleaseRecordStore,
  TrafficRouter,
  WorkflowDeps,
} from '../../../lambda/shared/ports';
import type { TrafficWeights } from '../../../lambda/shared/traffic';
import type { Release, ReleaseState, WorkflowSettings } from '../../../lambda/shared/release';
import type { Color } from '../../../lambda/shared/release-record';
import { SETTINGS } from '../../support/run-workflow';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
export const V3 = `${REPO}:v3`;
export const NOW = new Date('2026-11-26T12:00:00.000Z');
export const TD = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:${n}`;
export const MIGRATION_TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrations:4';
export const MIGRATION_SETTINGS: WorkflowSettings = { ...SETTINGS, migrations: { timeoutSeconds: 900 } };

export function release(overrides: Partial<Release> = {}): Release {
  return {
    image: V2,
    version: 'v2',
    live: 'blue',
    idle: 'green',
    liveCount: 2,
    idleBefore: { count: 2, image: V1, revision: TD(5) },
    timings: SETTINGS.timings,
    startedAt: '2026-11-26T10:00:00Z',
    ...overrides,
  };
}

export function stateWith(overrides: Partial<Release> = {}, rest: Partial<ReleaseState> = {}): ReleaseState {
  return { execution: 'release-2', release: release(overrides), ...rest };
}

/** An in-memory fleet, migration record and tasks, lock and notifier that note every call. */
export class Fakes {
  readonly calls: string[] = [];
  readonly restores: { color: Color; count: number; revision?: string }[] = [];
  readonly registers: { color: Color; image: string; version: string }[] = [];
  readonly taskRequests: { image: string; version: string; revision: string }[] = [];
  readonly published: ReleaseOutcome[] = [];
  readonly written: MigrationState[] = [];
  lockHeldBy: string | undefined = 'release-2';
  migrationState: MigrationState = {};
  recordWriteFails = false;
  /** The production listener: after the switch unless a test says otherwise. */
  weights: TrafficWeights = { blue: 0, green: 100 };

  readonly router: TrafficRouter = {
    productionWeights: () => Promise.resolve({ ...this.weights }),
    setProductionWeights: (w) => {
      this.calls.push('router.setProductionWeights');
      this.weights = { ...w };
      return Promise.resolve();
    },
    setTestWeights: () => Promise.resolve(),
    /** The new color serves (Finish and the scale-down before a contract read it first). */
    targetHealth: () => Promise.resolve({ healthy: 2, notHealthy: 0, problems: [] }),
  };

  readonly releaseRecord: ReleaseRecordStore = {
    read: () => Promise.reject(new Error('not used')),
    write: () => {
      this.calls.push('releaseRecord.write');
      return Promise.resolve();
    },
    writeCapacity: () => Promise.reject(new Error('not used')),
  };

  readonly fleet: Fleet = {
    describe: () => Promise.reject(new Error('not used')),
    register: (color, image, version) => {
      this.calls.push('fleet.register');
      this.registers.push({ color, image, version });
      return Promise.resolve(TD(7));
    },
    deploy: () => Promise.reject(new Error('not used')),
    restore: (color, count, revision) => {
      this.calls.push('fleet.restore');
      this.restores.push({ color, count, ...(revision ? { revision } : {}) });
      return Promise.resolve({ count, ...(revision ? { revision } : {}) });
    },
    retire: () => {
      this.calls.push('fleet.retire');
      return Promise.resolve();
    },
    revisionRunnable: () => Promise.reject(new Error('not used')),
    holdCapacity: () => Promise.resolve(),
    // No auto scaling in these tests.
    capacity: () => Promise.resolve(undefined),
    setCapacity: () => Promise.reject(new Error('not used')),
  };

  readonly tasks: MigrationTasks = {
    taskDefinition: (r) => {
      this.calls.push('tasks.taskDefinition');
      this.taskRequests.push(r);
      return Promise.resolve(MIGRATION_TD);
    },
  };

  readonly record: MigrationRecord = {
    read: () => Promise.resolve(this.migrationState),
    write: (s) => {
      this.calls.push('record.write');
      if (this.recordWriteFails) {
        return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      }
      this.written.push(s);
      this.migrationState = s;
      return Promise.resolve();
    },
  };

  deps(withMigrations = true) {
    return {
      fleet: this.fleet,
      router: this.router,
      record: this.releaseRecord,
      lock: {
        acquire: () => Promise.reject(new Error('not used')),
        release: (owner: string) => {
          if (this.lockHeldBy === owner) {
            this.lockHeldBy = undefined;
          }
          return Promise.resolve();
        },
        holder: () => Promise.reject(new Error('not used')),
        promotion: () => Promise.reject(new Error('not used')),
      },
      notifier: {
        publish: (o: ReleaseOutcome) => {
          this.published.push(o);
          return Promise.resolve();
        },
      },
      now: () => NOW,
      ...(withMigrations ? { migrations: { record: this.record, tasks: this.tasks } } : {}),
    } satisfies Partial<WorkflowDeps>;
  }
}
