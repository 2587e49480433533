/**
 * `bluegreen rollback` against a release that ends by itself meanwhile (a failed bake check rolled it back, and its
 * rollback hook holds the lock while it runs): never stopped, its lock given back, and the refusal says what is
 * under way instead of claiming where traffic is.
 */
import { MockAws, history, releaseOf } from './mock-aws';
import { V2, inFlight } from './operate-support';
import { bluegreen, terminal } from './support';

const NAME = 'v2-20261126T100000Z';
let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

/** A release of v2 to green, in its bake (green live, blue still warm on v1), holding the lock. */
const baking = () => inFlight(aws, 'Bake: wait', 'Wait', true);

test('it rolled back by itself while the question was asked: not stopped, its lock given back, nothing moved', async () => {
  baking();
  const result = await bluegreen(
    'rollback',
    terminal({
      tty: true,
      onConfirm: () => {
        // Meanwhile: its bake failed, Roll back moved traffic back, and its rollback hook runs (holding the lock).
        aws.weights = { blue: 100, green: 0 };
        aws.record.live = 'blue';
        aws.executions[0].events.push(
          history.entered('Roll back', 'Task', { execution: NAME, release: releaseOf(V2) }),
          history.entered('Rollback hook', 'Task', { execution: NAME, release: releaseOf(V2) }),
        );
        return Promise.resolve(true);
      },
    }),
  );
  expect(result.code).toBe(1);
  expect(result.err).toContain(
    `ReleaseEnding: Release ${NAME} is ending by itself (in "Rollback hook": its rollback, abort or report runs)`,
  );
  expect(result.err).not.toContain('traffic stays');
  expect(aws.stopped).toHaveLength(0);
  // The lock is the release's again (its report frees it), untouched by this command.
  expect(aws.lock?.owner).toBe(NAME);
  expect(aws.weights).toEqual({ blue: 100, green: 0 });
});

test('asked while the release runs its rollback hook: refused at once, no "try again in a few seconds"', async () => {
  baking();
  aws.weights = { blue: 100, green: 0 };
  aws.record.live = 'blue';
  aws.executions[0].events.push(
    history.entered('Roll back', 'Task', { execution: NAME, release: releaseOf(V2) }),
    history.entered('Wait for rollback hook', 'Wait', { execution: NAME, release: releaseOf(V2) }),
  );
  const result = await bluegreen('rollback --yes');
  expect(result.code).toBe(1);
  expect(result.err).toContain(
    `ReleaseEnding: Release ${NAME} is ending by itself (in "Wait for rollback hook"`,
  );
  expect(result.err).not.toContain('in a few seconds');
  expect(aws.stopped).toHaveLength(0);
  expect(aws.lock?.owner).toBe(NAME);
});

test('it ended by itself while the lock was taken over: the lock is not handed back to an ended release, it is freed', async () => {
  baking();
  aws.onHistoryRead = (e) => {
    if (!aws.lock?.owner.startsWith('manual-rollback')) {
      return;
    }
    // While this command holds the lock: Roll back moved traffic back, its release of the lock (and the Stopped
    // step's) found this command's and did nothing, and the execution ended in "Rolled back".
    aws.weights = { blue: 100, green: 0 };
    aws.record.live = 'blue';
    e.events.push(
      history.entered('Roll back', 'Task', { execution: NAME, release: releaseOf(V2) }),
      history.entered('Rolled back', 'Fail', { execution: NAME, release: releaseOf(V2) }),
    );
    e.status = 'FAILED';
  };
  const result = await bluegreen('rollback --yes');
  expect(result.code).toBe(1);
  expect(result.err).toContain(
    `ReleaseEnding: Release ${NAME} ended by itself (FAILED, after "Rolled back")`,
  );
  expect(aws.stopped).toHaveLength(0);
  expect(aws.lock).toBeUndefined();
});
