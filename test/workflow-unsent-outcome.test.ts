/**
 * An outcome is never dropped: when an ending step did everything but publish (SNS down through all its tries),
 * its outcome travels in the execution's last state (`unsent`), and the Stopped step, which the EventBridge rule
 * runs for every execution that does not succeed, publishes it. Finish, whose execution would otherwise succeed
 * unheard, fails with OutcomeNotPublished after its retries and is reported by the Stopped step the same way.
 * Run through the synthesized state machine over the in-memory AWS, then handed to the Stopped step as AWS would.
 */
import { STATES } from '../lambda/shared/state-names';
import { stopped } from '../lambda/workflow/conclude';
import { HOOK_ARNS } from './support/fake-hooks';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import { HOOK_SETTINGS, SETTINGS, endingOf, runRelease } from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

/** A world whose SNS fails every publish while `down` says so. */
function worldWith(behaviour: Behaviour): { world: FakeWorld; sns: { down: boolean } } {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, behaviour);
  const sns = { down: true };
  world.onCall = (call) => {
    if (sns.down && call === 'notifier.publish') {
      throw Object.assign(new Error('SNS is unavailable'), { name: 'InternalErrorException' });
    }
  };
  return { world, sns };
}

function expectClean(world: FakeWorld, status: string): void {
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
  expect(world.published.map((p) => [p.release, p.status])).toEqual([['release-1', status]]);
}

describe('SNS down when the release ends: the Stopped step publishes the outcome', () => {
  test.each<[string, Behaviour, string, string, string]>([
    ['Abort', 'fails-validation', STATES.aborted, 'ABORTED', 'Traffic never moved: blue still serves'],
    [
      'Roll back',
      'fails-after-switch',
      STATES.rolledBack,
      'ROLLED_BACK',
      'Rolled back: all traffic is on blue',
    ],
  ])(
    '%s could not publish: its outcome, carried in the last state, is published once',
    async (_, behaviour, endedIn, status, says) => {
      const { world, sns } = worldWith(behaviour);
      const result = await runRelease(world, { image: V2 });
      expect(result.states[result.states.length - 1]).toBe(endedIn);
      expect(world.published).toEqual([]);
      // The ending did the rest: the lock is free, scaling acts.
      expect(world.lock).toBeUndefined();

      sns.down = false;
      const { outcome, published } = await stopped(endingOf(result), world.deps(), SETTINGS);
      expect(published).toBe(true);
      expect(outcome.status).toBe(status);
      expect(outcome.cause).toContain(`(Published by the Stopped step: "${endedIn}" could not publish it`);
      expect(outcome.cause).toContain(
        'could not publish the outcome (InternalErrorException: SNS is unavailable)',
      );
      // The ending's own cause, as it would have published it.
      expect(outcome.cause).toContain(says);
      expectClean(world, status);
    },
  );

  test('Finish could not publish: "Released (outcome unsent)", never a retry (the lock is free), and the Stopped step publishes SUCCEEDED', async () => {
    const { world, sns } = worldWith('good');
    const result = await runRelease(world, { image: V2 });
    expect(result.status).toBe('FAILED');
    expect(result).toMatchObject({ error: 'OutcomeNotPublished' });
    expect(result.states.slice(-3)).toEqual([STATES.finish, STATES.outcomePublished, STATES.releasedUnsent]);
    // One Finish, its three tries to publish; nothing after the lock was freed.
    expect(world.calls.filter((c) => c === 'notifier.publish')).toHaveLength(3);
    expect(world.calls.filter((c) => c === 'lock.release')).toHaveLength(1);
    expect(world.lock).toBeUndefined();
    expect(world.published).toEqual([]);
    expect(world.weights).toEqual({ blue: 0, green: 100 });

    sns.down = false;
    const { outcome } = await stopped(endingOf(result), world.deps(), SETTINGS);
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', liveColor: 'green' });
    expect(outcome.cause).toContain(
      '(Published by the Stopped step: "Released (outcome unsent)" could not publish it',
    );
    expectClean(world, 'SUCCEEDED');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
  });

  test('"Report rollback" could not publish: the rollback, with the hook\'s answer, is published once', async () => {
    const { world, sns } = worldWith('fails-after-switch');
    world.hookFunctions.script.set('beforeDeploy', [{ returns: { status: 'SUCCEEDED', summary: 'fine' } }]);
    world.hookFunctions.script.set('afterShift', [{ returns: { status: 'IN_PROGRESS', details: {} } }]);
    world.hookFunctions.script.set('onRollback', [{ returns: { status: 'SUCCEEDED', summary: 'paged' } }]);
    const result = await runRelease(world, { image: V2 }, { hooks: true });
    expect(result.states[result.states.length - 1]).toBe(STATES.rolledBack);
    expect(world.published).toEqual([]);

    sns.down = false;
    const { outcome } = await stopped(endingOf(result), world.deps(), { ...SETTINGS, hooks: HOOK_SETTINGS });
    expect(outcome.status).toBe('ROLLED_BACK');
    expect(outcome.cause).toContain(
      `The rollback hook ${HOOK_ARNS.onRollback} answered SUCCEEDED after 1 call: paged.`,
    );
    expectClean(world, 'ROLLED_BACK');
  });

  test('an ending that published leaves nothing for the Stopped step to publish again', async () => {
    const { world, sns } = worldWith('fails-validation');
    sns.down = false;
    const result = await runRelease(world, { image: V2 });
    expect(world.published).toHaveLength(1);
    const { published } = await stopped(endingOf(result), world.deps(), SETTINGS);
    expect(published).toBe(false);
    expect(world.published).toHaveLength(1);
  });
});
