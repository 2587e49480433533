import { abort } from '../../../lambda/workflow/conclude';
import { FakeWorld, REPO } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

describe('endings: putting the idle color back', () => {
  test('the new revision is retired only once the idle color no longer uses it', async () => {
    const world = new FakeWorld(`${REPO}:v1`, { permanent: ['fleet.restore'] });
    const state = {
      execution: 'release-1',
      release: {
        image: `${REPO}:v2`,
        version: 'v2',
        live: 'blue' as const,
        idle: 'green' as const,
        liveCount: 2,
        idleBefore: { count: 0, image: `${REPO}:v1`, revision: world.services.green.revision },
        timings: SETTINGS.timings,
        startedAt: '2026-11-26T10:00:00Z',
        revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:9',
      },
      failure: { Error: 'ValidationFailed', Cause: 'smoke check failed' },
    };
    const out = await abort(state, world.deps(), SETTINGS);
    expect(world.calls).not.toContain('fleet.retire');
    expect(out.outcome?.cause).toContain('could not put green back');
    expect(world.lock).toBeUndefined();
  });
});
