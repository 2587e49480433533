/**
 * The migration decisions of lambda/workflow/migrations.ts that read no port: which contract runs first, when a
 * rollback is blocked by a contract that ran, how a failed phase is told, and what the record says after a release.
 * The steps that call the ports are in migrations.test.ts.
 */
import type { MigrationPhase } from '../../../lambda/shared/release';
import {
  afterRelease,
  migrationFailure,
  pendingContractToRun,
  rollbackBlockedByContract,
} from '../../../lambda/workflow/migrations';
import { V1, V2, V3, NOW, TD } from './migrations-support';

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
