/**
 * Validate records what it found when the idle color passed: `release.validation`, each check's value beside its
 * threshold (the console and `bluegreen report` show them), at the time it judged.
 */
import { validate } from '../../../lambda/workflow/validate';
import { aRelease } from '../../support/release-fixture';
import { FakeWorld, REPO, type Behaviour } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

/** Green runs v2 with two healthy tasks, as after the deploy. */
async function greenOnV2(behaviour: Behaviour): Promise<FakeWorld> {
  const world = new FakeWorld(`${REPO}:v1`);
  world.behaviours.set(`${REPO}:v2`, behaviour);
  const { fleet } = world.deps();
  const revision = await fleet.register('green', `${REPO}:v2`, 'v2');
  await fleet.deploy('green', revision, 2);
  await fleet.describe('green');
  await fleet.describe('green');
  return world;
}

const state = () => aRelease({ before: 'r1', release: 'r2' });

test('a passing idle color: every smoke check, target health and the hook, each value beside its threshold', async () => {
  const world = await greenOnV2('good');
  const hook = { run: () => Promise.resolve({ passed: true, summary: '14 API tests passed' }) };

  const out = await validate(state(), { ...world.deps(), hook }, { ...SETTINGS, hasValidationHook: true });

  expect(out.release?.validation).toEqual({
    at: new Date(world.clock).toISOString(),
    checks: [
      {
        name: 'GET /health',
        value: 'status 200, 4 ms',
        threshold: 'status 200, at most 1000 ms',
        passed: true,
      },
      {
        name: 'GET /version',
        value: 'status 200, 4 ms, version in the body',
        threshold: 'status 200, at most 1000 ms, body contains v2',
        passed: true,
      },
      {
        name: 'target health',
        value: '2 healthy, 0 not',
        threshold: 'at least 2 healthy, none unhealthy',
        passed: true,
      },
      { name: 'validation hook', value: '14 API tests passed', threshold: 'passed', passed: true },
    ],
  });
  // Everything else the release carried is kept.
  expect({ ...out.release, validation: undefined }).toEqual({ ...state().release, validation: undefined });
});

test('a check over its latency budget fails the step, its cause giving the value and the budget', async () => {
  const world = await greenOnV2('good');
  const tight = {
    ...SETTINGS,
    smokeChecks: [{ path: '/health', expectStatus: 200, expectVersion: false, latencyBudgetMs: 3 }],
  };
  await expect(validate(state(), world.deps(), tight)).rejects.toMatchObject({
    name: 'ValidationFailed',
    message: expect.stringMatching(/GET \/health: .*4 ms.* 3 ms/),
  });
});
