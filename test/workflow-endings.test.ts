/**
 * Every ending is clean, whatever the execution's status: each way an execution can end FAILED, run through the
 * synthesized state machine over the in-memory AWS, then handed (as the EventBridge rule does) to the Stopped
 * step's core with the state it ended in (what the execution history says). Afterwards: the lock is free, scaling
 * acts, the outcome was published once, with where traffic and the record stand; a newer release is never
 * disturbed.
 */
import { STATES } from '../lambda/shared/state-names';
import { stopped } from '../lambda/workflow/conclude';
import { FakeWorld, REPO, type Behaviour, type FaultPlan } from './support/fake-world';
import { SETTINGS, endingOf, runRelease, type ExecutionResult } from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
/** What Step Functions reports when a step's Lambda runs out of time. */
const TIMED_OUT = { name: 'Sandbox.Timedout', message: 'Task timed out after 60.00 seconds' };

function worldWith(behaviour: Behaviour, plan?: FaultPlan): FakeWorld {
  const world = new FakeWorld(V1, plan);
  world.behaviours.set(V2, behaviour);
  return world;
}

/** What the rule hands the Stopped step: the execution's status, error and cause, and the state it ended in. */
function handToStopped(world: FakeWorld, result: ExecutionResult, execution = 'release-1') {
  return stopped(endingOf(result, execution), world.deps(), SETTINGS);
}

/** The execution's own ending did not finish: lock held, scaling held (once deployed), nothing published. */
function expectLeftDirty(world: FakeWorld, result: ExecutionResult, endedIn: string, deployed = true): void {
  expect(result.status).toBe('FAILED');
  expect(result.states[result.states.length - 1]).toBe(endedIn);
  expect(world.lock?.owner).toBe('release-1');
  expect(world.capacityHeld).toBe(deployed);
  expect(world.published).toEqual([]);
}

function expectCleanNow(world: FakeWorld, status: string): void {
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
  expect(world.published.map((p) => [p.release, p.status])).toEqual([['release-1', status]]);
}

const failsEverySwitchBack = Array.from({ length: 10 }, (_, i) => ({
  operation: 'router.setProductionWeights',
  nth: i + 2,
}));

describe.each(['ecs', 'asg'] as const)('every ending is clean on %s', (platform) => {
  test('Abort itself fails (its Lambda times out): the Stopped step frees the lock, lets scaling act, publishes ABORTED', async () => {
    const world = worldWith('fails-validation');
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, lambdaFailures: { [STATES.abort]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.abortFailed);

    const { outcome } = await handToStopped(world, result);
    expectCleanNow(world, 'ABORTED');
    expect(outcome.error).toBe('ValidationFailed');
    expect(outcome.cause).toMatch(
      /^Release release-1 ended FAILED in "Abort cleanup failed" \(ValidationFailed: Validation of .*:v2 on green/,
    );
    expect(outcome.cause).toContain(
      'its ending step did not finish, so the Stopped step reports it: its lock is free and scaling acts again. ' +
        'Now: all production traffic to blue, and the record agrees. Traffic never moved; the idle color may not be back',
    );
  });

  test('Finish fails: the new color is live; the Stopped step frees the lock, lets scaling act, publishes SUCCEEDED with the error', async () => {
    const world = worldWith('good');
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, lambdaFailures: { [STATES.finish]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.finishFailed);

    const { outcome } = await handToStopped(world, result);
    expectCleanNow(world, 'SUCCEEDED');
    expect(outcome.error).toBe('Sandbox.Timedout');
    expect(outcome.cause).toContain(
      'Now: all production traffic to green, and the record agrees. The new color is live',
    );
  });

  test('Refuse fails after Prepare took the lock (drift): the Stopped step frees it and publishes REFUSED', async () => {
    const world = worldWith('good');
    world.weights = { blue: 0, green: 100 };
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, lambdaFailures: { [STATES.refuse]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.refusedCleanupFailed, false);

    const { outcome } = await handToStopped(world, result);
    expectCleanNow(world, 'REFUSED');
    expect(outcome.error).toBe('Drift');
    expect(outcome.cause).toContain(
      'says blue is live, but the production listener sends all production traffic to green',
    );
    expect(world.weights).toEqual({ blue: 0, green: 100 }); // reported, never moved
  });

  test('the rollback fails and so does its report: "Rollback failed (report failed)", then ROLLBACK_FAILED published', async () => {
    const world = worldWith('fails-after-switch', { transient: failsEverySwitchBack });
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, lambdaFailures: { [STATES.reportRollbackFailure]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.rollbackReportFailed);

    const { outcome } = await handToStopped(world, result);
    expectCleanNow(world, 'ROLLBACK_FAILED');
    expect(outcome.cause).toContain('Now: all production traffic to green, and the record agrees.');
    expect(outcome.cause).toContain('The rollback failed: check the production listener and the record');
  });

  test('the contract fails and so does its report: "Live, contract failed (report failed)", then CONTRACT_FAILED published', async () => {
    const world = worldWith('good');
    world.failingMigrations.set('contract', 'exit');
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, migrations: {}, lambdaFailures: { [STATES.reportContractFailure]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.contractReportFailed);

    const { outcome } = await handToStopped(world, result);
    expectCleanNow(world, 'CONTRACT_FAILED');
    expect(outcome.cause).toContain(
      'Now: all production traffic to green, and the record agrees. The new color is live',
    );
  });

  test.each<[string, Behaviour, string]>([
    ['Aborted', 'fails-validation', 'ABORTED'],
    ['Rolled back', 'fails-after-switch', 'ROLLED_BACK'],
  ])(
    'an execution whose own ending reported it (%s) is not published again',
    async (endedIn, behaviour, status) => {
      const world = worldWith(behaviour);
      const result = await runRelease(world, { image: V2 }, { platform });
      expect(result.states[result.states.length - 1]).toBe(endedIn);
      expectCleanNow(world, status);

      const { published } = await handToStopped(world, result);
      expect(published).toBe(false);
      expectCleanNow(world, status);
    },
  );

  test('a newer release holding the lock is never freed nor has its scaling let go', async () => {
    const world = worldWith('fails-validation');
    const result = await runRelease(
      world,
      { image: V2 },
      { platform, lambdaFailures: { [STATES.abort]: TIMED_OUT } },
    );
    expectLeftDirty(world, result, STATES.abortFailed);
    // release-1's lease ran out; release-2 took the lock and holds scaling for its deploy.
    world.lock = { owner: 'release-2', image: V2, since: 'now', expiresAt: world.clock + 3_600_000 };

    const { outcome } = await handToStopped(world, result);
    expect(world.lock?.owner).toBe('release-2');
    expect(world.capacityHeld).toBe(true);
    expect(world.published.map((p) => [p.release, p.status])).toEqual([['release-1', 'ABORTED']]);
    expect(outcome.cause).toContain('scaling stays held for release-2, which holds the lock now');
  });

  test('an instance refresh still stopping when Abort puts the idle color back: the state machine runs Abort again later', async () => {
    // fleet.restore's first call is Abort's put-back (nothing restores before it on this path).
    const world = worldWith('fails-validation', {
      transient: [{ operation: 'fleet.restore', nth: 1, name: 'RefreshStillActive' }],
    });
    const result = await runRelease(world, { image: V2 }, { platform });
    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(result.states.slice(-2)).toEqual([STATES.abort, STATES.aborted]);
    expect(result.events.filter((e) => e.type === 'retried').map((e) => e.state)).toEqual([STATES.abort]);
    // The first try stopped at the busy fleet: one outcome, one put-back, nothing else half done.
    expect(world.calls.filter((c) => c === 'fleet.restore')).toHaveLength(2);
    expectCleanNow(world, 'ABORTED');
    expect(world.services.green.desired).toBe(0);
    expect(world.imageOf('green')).toBe(V1);
  });
});
