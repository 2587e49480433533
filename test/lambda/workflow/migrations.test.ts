/**
 * The migration cores (lambda/workflow/migrations.ts) and the endings that keep the migration record
 * (conclude.ts finish and contractFailed), with small in-memory fakes of the ports.
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
import type { MigrationPhase, Release, ReleaseState, WorkflowSettings } from '../../../lambda/shared/release';
import type { Color } from '../../../lambda/shared/release-record';
import { abort, contractFailed, finish } from '../../../lambda/workflow/conclude';
import {
  afterRelease,
  migrationFailure,
  pendingContractToRun,
  recordPreviousContract,
  registerRevision,
  rollbackBlockedByContract,
  scaleDownOldColor,
} from '../../../lambda/workflow/migrations';
import { SETTINGS } from '../../support/run-workflow';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const V3 = `${REPO}:v3`;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const TD = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:${n}`;
const MIGRATION_TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrations:4';
const MIGRATION_SETTINGS: WorkflowSettings = { ...SETTINGS, migrations: { timeoutSeconds: 900 } };

function release(overrides: Partial<Release> = {}): Release {
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

function stateWith(overrides: Partial<Release> = {}, rest: Partial<ReleaseState> = {}): ReleaseState {
  return { execution: 'release-2', release: release(overrides), ...rest };
}

/** An in-memory fleet, migration record and tasks, lock and notifier that note every call. */
class Fakes {
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

describe('pendingContractToRun', () => {
  const pending = { image: V1, release: 'release-1', taskDefinition: TD(5), since: '2026-11-25T10:00:00Z' };

  test('runs the pending contract when the live color still runs its image', () => {
    expect(pendingContractToRun({ contractPending: pending }, V1)).toEqual({
      image: V1,
      release: 'release-1',
      taskDefinition: TD(5),
    });
  });

  test('not when the live color runs another image (rolled back by hand): the contract is void', () => {
    expect(pendingContractToRun({ contractPending: pending }, V2)).toBeUndefined();
  });

  test('nothing when no contract waits (only an earlier contract ran)', () => {
    expect(pendingContractToRun({}, V1)).toBeUndefined();
    expect(
      pendingContractToRun(
        { contracted: { image: V1, release: 'release-1', at: '2026-11-25T10:00:00Z' } },
        V1,
      ),
    ).toBeUndefined();
  });
});

describe('rollbackBlockedByContract', () => {
  const contracted = { image: V2, release: 'release-2', at: '2026-11-26T11:00:00Z' };

  test('blocks a rollback away from the image whose contract ran, naming it and saying roll forward', () => {
    const why = rollbackBlockedByContract({ contracted }, V2);
    expect(why).toContain(V2);
    expect(why).toContain('release-2');
    expect(why).toContain('2026-11-26T11:00:00Z');
    expect(why).toMatch(/roll forward/i);
  });

  test('does not block when the live image is another one (its contract did not run)', () => {
    expect(rollbackBlockedByContract({ contracted }, V3)).toBeUndefined();
  });

  test('does not block when no contract ran, or one only waits', () => {
    expect(rollbackBlockedByContract({}, V2)).toBeUndefined();
    expect(
      rollbackBlockedByContract(
        {
          contractPending: {
            image: V2,
            release: 'release-2',
            taskDefinition: TD(7),
            since: NOW.toISOString(),
          },
        },
        V2,
      ),
    ).toBeUndefined();
  });
});

describe('migrationFailure', () => {
  const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/shop/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
  const stoppedTask = JSON.stringify({
    TaskArn: taskArn,
    LastStatus: 'STOPPED',
    StopCode: 'EssentialContainerExited',
    StoppedReason: 'Essential container in task exited',
    Containers: [{ Name: 'app', ExitCode: 3, LastStatus: 'STOPPED' }],
  });

  test('a task that exited: exit code, stop reason, task id and where its log stream is', () => {
    const { error, cause } = migrationFailure(
      'expand',
      { Error: 'States.TaskFailed', Cause: stoppedTask },
      { image: V2, timeoutSeconds: 900 },
    );
    expect(error).toBe('ExpandFailed');
    expect(cause).toContain(`The expand migrations of ${V2} failed`);
    expect(cause).toContain('0f1e2d3c4b5a69788796a5b4c3d2e1f0 stopped (Essential container in task exited)');
    expect(cause).toContain('app exit code 3');
    expect(cause).toContain('log stream ending in 0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(cause).not.toContain('{');
  });

  test("a container's own reason is given with its exit code", () => {
    const { cause } = migrationFailure(
      'backfill',
      {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({
          TaskArn: taskArn,
          StoppedReason: 'Task failed to start',
          Containers: [{ Name: 'app', Reason: 'CannotPullContainerError: pull access denied' }],
        }),
      },
      { image: V2 },
    );
    expect(cause).toContain('app exit code ? (CannotPullContainerError: pull access denied)');
    expect(cause).toContain('stopped (Task failed to start)');
  });

  test('a timeout names the limit in minutes', () => {
    const { error, cause } = migrationFailure(
      'backfill',
      { Error: 'States.Timeout', Cause: '' },
      { image: V2, timeoutSeconds: 1200 },
    );
    expect(error).toBe('BackfillFailed');
    expect(cause).toContain(`The backfill migrations of ${V2} did not finish within 20 min`);
    expect(cause).toContain('migrations.timeoutMinutes');
  });

  test('a timeout without a known limit says so without a number', () => {
    const { cause } = migrationFailure('expand', { Error: 'States.Timeout', Cause: '' }, { image: V2 });
    expect(cause).toContain('did not finish (migrations.timeoutMinutes)');
    expect(cause).not.toMatch(/within \d+ min/);
  });

  test('an ECS API error (no task ran): the error and its message', () => {
    const { error, cause } = migrationFailure(
      'expand',
      {
        Error: 'ECS.AmazonECSException',
        Cause: 'No Container Instances were found in your cluster. (Service: AmazonECS; Status Code: 400)',
      },
      { image: V2 },
    );
    expect(error).toBe('ExpandFailed');
    expect(cause).toContain(
      `could not run (ECS.AmazonECSException: No Container Instances were found in your cluster.`,
    );
  });

  test('a cause that is neither a task nor text the code knows is passed on as it is', () => {
    expect(
      migrationFailure('contract', { Error: 'States.TaskFailed', Cause: '{"Oops": true' }, { image: V2 })
        .cause,
    ).toContain('could not run (States.TaskFailed: {"Oops": true).');
    // JSON that is not a task (no TaskArn, no Containers) is not read as one either.
    expect(
      migrationFailure('contract', { Error: 'States.TaskFailed', Cause: '{"Message":"boom"}' }, { image: V2 })
        .cause,
    ).toContain('could not run (States.TaskFailed: {"Message":"boom"}).');
    expect(
      migrationFailure('contract', { Error: 'States.Runtime', Cause: '' }, { image: V2 }).cause,
    ).toContain('could not run (States.Runtime: no cause given).');
  });

  test.each<[MigrationPhase, string, string, RegExp]>([
    [
      'expand',
      'ExpandFailed',
      'The expand migrations',
      /Nothing was deployed; the live version keeps running/,
    ],
    ['backfill', 'BackfillFailed', 'The backfill migrations', /No switch: the live version keeps serving/],
    [
      'contract',
      'ContractFailed',
      'The contract migrations',
      /Traffic was not touched: the new version stays live/,
    ],
    [
      'previousContract',
      'ContractFailed',
      "The previous release's contract migrations",
      /This release deployed nothing\. The next release runs that contract again first/,
    ],
  ])('phase %s: error %s, named and with its consequence', (phase, error, name, consequence) => {
    const out = migrationFailure(phase, { Error: 'States.TaskFailed', Cause: stoppedTask }, { image: V1 });
    expect(out.error).toBe(error);
    expect(out.cause.startsWith(`${name} of ${V1} failed`)).toBe(true);
    expect(out.cause).toMatch(consequence);
  });
});

describe('afterRelease', () => {
  const earlier = { image: V1, release: 'release-1', at: '2026-11-25T10:00:00.000Z' };
  const pendingBefore = {
    image: V1,
    release: 'release-1',
    taskDefinition: TD(5),
    since: '2026-11-25T10:00:00Z',
  };

  test('the contract ran: only `contracted`, for this release (an earlier pending contract is gone)', () => {
    expect(
      afterRelease(
        { contracted: earlier, contractPending: pendingBefore },
        { image: V2, execution: 'release-2', taskDefinition: TD(7) },
        true,
        NOW,
      ),
    ).toEqual({ contracted: { image: V2, release: 'release-2', at: NOW.toISOString() } });
  });

  test('the contract waits: the earlier `contracted` stays, `contractPending` names this release and its task', () => {
    expect(
      afterRelease(
        { contracted: earlier, contractPending: pendingBefore },
        { image: V2, execution: 'release-2', taskDefinition: TD(7) },
        false,
        NOW,
      ),
    ).toEqual({
      contracted: earlier,
      contractPending: { image: V2, release: 'release-2', taskDefinition: TD(7), since: NOW.toISOString() },
    });
  });

  test('the contract waits and none ran before: no `contracted` key at all', () => {
    const out = afterRelease({}, { image: V2, execution: 'release-2', taskDefinition: TD(7) }, false, NOW);
    expect(Object.keys(out)).toEqual(['contractPending']);
  });
});

describe('registerRevision', () => {
  test("registers the idle color's revision, then the migration task definition with that revision", async () => {
    const fakes = new Fakes();
    const out = await registerRevision(stateWith(), fakes.deps());
    expect(fakes.calls).toEqual(['fleet.register', 'tasks.taskDefinition']);
    expect(fakes.registers).toEqual([{ color: 'green', image: V2, version: 'v2' }]);
    expect(fakes.taskRequests).toEqual([{ image: V2, version: 'v2', revision: TD(7) }]);
    expect(out.release).toEqual({ ...release(), revision: TD(7), migrationTask: MIGRATION_TD });
    expect(out.execution).toBe('release-2');
  });

  test('with the other color idle, it registers for that one', async () => {
    const fakes = new Fakes();
    await registerRevision(stateWith({ live: 'green', idle: 'blue' }), fakes.deps());
    expect(fakes.registers[0].color).toBe('blue');
  });

  test('without migration ports it is a wiring mistake: ConfigurationMissing, nothing registered', async () => {
    const fakes = new Fakes();
    await expect(registerRevision(stateWith(), fakes.deps(false))).rejects.toMatchObject({
      name: 'ConfigurationMissing',
    });
    expect(fakes.calls).toEqual([]);
  });
});

describe('scaleDownOldColor', () => {
  test('after the switch: the color the release started from goes to 0; the state is unchanged', async () => {
    const fakes = new Fakes();
    const state = stateWith({ switchedAt: '2026-11-26T11:00:00Z' });
    const out = await scaleDownOldColor(state, fakes.deps());
    expect(fakes.restores).toEqual([{ color: 'blue', count: 0 }]);
    expect(out).toEqual(state);
  });

  test('at the start (previous contract): the idle color goes to 0, and abort will leave it there', async () => {
    const fakes = new Fakes();
    fakes.weights = { blue: 100, green: 0 };
    const out = await scaleDownOldColor(stateWith(), fakes.deps());
    expect(fakes.restores).toEqual([{ color: 'green', count: 0 }]);
    expect(out.release?.idleBefore).toEqual({ count: 0, image: V1, revision: TD(5) });
    expect(out.release?.live).toBe('blue');
  });
});

describe('scaleDownOldColor never scales a color with production weight (read just now)', () => {
  test('after the switch, the listener sends traffic to the old color again: TrafficMovedDuringRelease, no scale-down', async () => {
    const fakes = new Fakes();
    fakes.weights = { blue: 100, green: 0 };
    await expect(
      scaleDownOldColor(stateWith({ switchedAt: '2026-11-26T11:00:00Z' }), fakes.deps()),
    ).rejects.toMatchObject({
      name: 'TrafficMovedDuringRelease',
      message: expect.stringContaining(
        'Refused to scale blue down before the contract: the production listener, read just now, sends all production traffic to blue',
      ),
    });
    expect(fakes.restores).toEqual([]);
  });

  test('at the start, the listener splits traffic onto the idle color: refused, nothing scaled', async () => {
    const fakes = new Fakes();
    fakes.weights = { blue: 90, green: 10 };
    await expect(scaleDownOldColor(stateWith(), fakes.deps())).rejects.toMatchObject({
      name: 'TrafficMovedDuringRelease',
      message: expect.stringContaining('split blue 90% / green 10%'),
    });
    expect(fakes.restores).toEqual([]);
  });
});

describe('recordPreviousContract', () => {
  const pendingContract = { image: V1, release: 'release-1', taskDefinition: TD(5) };

  test('writes the pending release as contracted (no pending left); the state goes on unchanged', async () => {
    const fakes = new Fakes();
    fakes.migrationState = {
      contractPending: { ...pendingContract, since: '2026-11-25T10:00:00Z' },
    };
    const state = stateWith({ pendingContract });
    const out = await recordPreviousContract(state, fakes.deps());
    expect(fakes.written).toEqual([
      { contracted: { image: V1, release: 'release-1', at: NOW.toISOString() } },
    ]);
    expect(out).toEqual(state);
  });

  test('without a pending contract it refuses (and writes nothing)', async () => {
    const fakes = new Fakes();
    await expect(recordPreviousContract(stateWith(), fakes.deps())).rejects.toThrow(/pending contract/);
    expect(fakes.written).toEqual([]);
  });
});

describe('finish with migrations', () => {
  const earlier = { image: V1, release: 'release-1', at: '2026-11-25T10:00:00.000Z' };
  const state = stateWith({
    revision: TD(7),
    migrationTask: MIGRATION_TD,
    switchedAt: '2026-11-26T11:00:00Z',
  });

  test('old color scaled down: the record says the contract ran for this release', async () => {
    const fakes = new Fakes();
    fakes.migrationState = { contracted: earlier };
    await finish(state, fakes.deps(), { ...MIGRATION_SETTINGS, keepIdleWarm: false });
    expect(fakes.migrationState).toEqual({
      contracted: { image: V2, release: 'release-2', at: NOW.toISOString() },
    });
    expect(fakes.published).toHaveLength(1);
    expect(fakes.published[0]).toMatchObject({ status: 'SUCCEEDED', image: V2, liveColor: 'green' });
    expect(fakes.published[0].cause).toContain('contract ran: there is no way back to the old version');
  });

  test('old color kept warm: the contract is pending with the migration task; the earlier contract stays', async () => {
    const fakes = new Fakes();
    fakes.migrationState = { contracted: earlier };
    await finish(state, fakes.deps(), { ...MIGRATION_SETTINGS, keepIdleWarm: true });
    expect(fakes.migrationState).toEqual({
      contracted: earlier,
      contractPending: {
        image: V2,
        release: 'release-2',
        taskDefinition: MIGRATION_TD,
        since: NOW.toISOString(),
      },
    });
    expect(fakes.restores).toEqual([]);
    expect(fakes.published[0].cause).toContain('the contract waits for the next release');
  });

  test('a record write that keeps failing is noted in the published cause, not thrown', async () => {
    const fakes = new Fakes();
    fakes.recordWriteFails = true;
    const out = await finish(state, fakes.deps(), MIGRATION_SETTINGS);
    expect(out).toEqual(state);
    expect(fakes.calls.filter((c) => c === 'record.write')).toHaveLength(3);
    expect(fakes.published[0].status).toBe('SUCCEEDED');
    expect(fakes.published[0].cause).toContain(
      'Also: could not record the contract (ThrottlingException: Rate exceeded)',
    );
    expect(fakes.lockHeldBy).toBeUndefined();
  });

  test('without settings.migrations the record is not touched', async () => {
    const fakes = new Fakes();
    await finish(state, fakes.deps(), SETTINGS);
    expect(fakes.calls).not.toContain('record.write');
    expect(fakes.published[0].cause).not.toContain('contract');
  });
});

describe('contractFailed', () => {
  const earlier = { image: V1, release: 'release-1', at: '2026-11-25T10:00:00.000Z' };
  const failedTask = JSON.stringify({
    TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/shop/abc123',
    StoppedReason: 'Essential container in task exited',
    Containers: [{ Name: 'app', ExitCode: 1 }],
  });
  const state = stateWith(
    { revision: TD(7), migrationTask: MIGRATION_TD, switchedAt: '2026-11-26T11:00:00Z' },
    { failure: { Error: 'States.TaskFailed', Cause: failedTask, phase: 'contract' } },
  );

  test('publishes CONTRACT_FAILED, records the contract as pending, releases the lock, returns the outcome', async () => {
    const fakes = new Fakes();
    fakes.migrationState = { contracted: earlier };
    const out = await contractFailed(state, fakes.deps(), MIGRATION_SETTINGS);

    expect(fakes.published).toHaveLength(1);
    const published = fakes.published[0];
    expect(published).toMatchObject({
      app: 'shop',
      release: 'release-2',
      status: 'CONTRACT_FAILED',
      error: 'ContractFailed',
      image: V2,
      liveColor: 'green',
    });
    expect(published.cause).toContain(`The contract migrations of ${V2} failed`);
    expect(published.cause).toContain('app exit code 1');
    expect(published.cause).toContain('runs again at the start of the next release');
    expect(fakes.migrationState).toEqual({
      contracted: earlier,
      contractPending: {
        image: V2,
        release: 'release-2',
        taskDefinition: MIGRATION_TD,
        since: NOW.toISOString(),
      },
    });
    expect(fakes.lockHeldBy).toBeUndefined();
    // Traffic and colors are left alone.
    expect(fakes.restores).toEqual([]);
    expect(out.outcome).toEqual({ error: 'ContractFailed', cause: published.cause });
    expect(out.release).toEqual(state.release);
  });

  test('a timeout is reported with the configured limit', async () => {
    const fakes = new Fakes();
    const out = await contractFailed(
      { ...state, failure: { Error: 'States.Timeout', Cause: '', phase: 'contract' } },
      fakes.deps(),
      MIGRATION_SETTINGS,
    );
    expect(out.outcome?.cause).toContain('did not finish within 15 min');
  });

  test('a record write that fails is noted, and the outcome is still published', async () => {
    const fakes = new Fakes();
    fakes.recordWriteFails = true;
    const out = await contractFailed(state, fakes.deps(), MIGRATION_SETTINGS);
    expect(out.outcome?.cause).toContain('could not record the contract as pending');
    expect(fakes.published[0].status).toBe('CONTRACT_FAILED');
    expect(fakes.lockHeldBy).toBeUndefined();
  });
});

describe('abort after a failed migration phase', () => {
  test('the error is named after the phase; the previous contract is reported with its own image', async () => {
    const fakes = new Fakes();
    const out = await abort(
      stateWith(
        {
          pendingContract: { image: V1, release: 'release-1', taskDefinition: TD(5) },
          idleBefore: { count: 0, image: V1, revision: TD(5) },
        },
        { failure: { Error: 'States.Timeout', Cause: '', phase: 'previousContract' } },
      ),
      fakes.deps(),
      MIGRATION_SETTINGS,
    );
    expect(out.outcome?.error).toBe('ContractFailed');
    expect(out.outcome?.cause).toContain(
      `The previous release's contract migrations of ${V1} did not finish`,
    );
    expect(fakes.published[0]).toMatchObject({ status: 'ABORTED', error: 'ContractFailed' });
  });
});
