/**
 * The migration cores (lambda/workflow/migrations.ts) and the endings that keep the migration record
 * (conclude.ts finish and contractFailed), with small in-memory fakes of the ports (migrations-support.ts). The
 * decisions that read no port are in migrations-decisions.test.ts.
 */
import { abort, contractFailed, finish } from '../../../lambda/workflow/conclude';
import {
  recordPreviousContract,
  registerRevision,
  scaleDownOldColor,
} from '../../../lambda/workflow/migrations';
import { SETTINGS } from '../../support/run-workflow';
import {
  V1,
  V2,
  NOW,
  TD,
  MIGRATION_TD,
  MIGRATION_SETTINGS,
  release,
  stateWith,
  Fakes,
} from './migrations-support';

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
