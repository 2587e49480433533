/** What a failed branch of "Bake and production hook" carries in its cause, and Roll back takes back. */
import { tidySummary } from '../../../lambda/shared/hook-contract';
import { carriedMarker, splitCarried, takeCarried, withCarried } from '../../../lambda/shared/carried-state';
import { causeMessage, type HookAnswer, type ReleaseState } from '../../../lambda/shared/release';
import { aRelease } from '../../support/release-fixture';

const answer = (attempt: number, status: HookAnswer['status'], summary: string): HookAnswer => ({
  hook: 'afterShift',
  functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-production-tests',
  status,
  summary,
  attempt,
  at: '2026-11-26T10:01:00.000Z',
});

const fixture = aRelease({ before: 'shop-green:3', release: 'shop-green:4' });
const before: ReleaseState = {
  ...fixture,
  release: {
    ...fixture.release,
    hooks: [{ ...answer(1, 'SUCCEEDED', 'admitted'), hook: 'beforeDeploy' }],
    watch: { until: '2026-11-26T10:05:00.000Z', checks: 0, consecutiveFailures: 0 },
  },
};

test("the production hook's answers come back into the release; the cause is the sentence alone", () => {
  const hooks = [
    ...before.release!.hooks!,
    answer(1, 'IN_PROGRESS', 'suite 1/3 "checkout" running \\ 50%'),
    answer(2, 'FAILED', 'checkout returns 500 for EUR carts'),
  ];
  const sentence =
    'The production hook ... answered FAILED after 2 calls: checkout returns 500 for EUR carts.';
  const state = takeCarried({
    ...before,
    failure: { Error: 'ProductionHookFailed', Cause: withCarried(sentence, 'hooks', hooks) },
  });
  expect(state.failure).toEqual({ Error: 'ProductionHookFailed', Cause: sentence });
  expect(state.release?.hooks).toEqual(hooks);
  expect(state.release?.watch).toEqual(before.release?.watch);
});

test("the bake's progress comes back, under a Lambda error's JSON cause (which Roll back reads as before)", () => {
  const lambdaCause = JSON.stringify({
    errorType: 'UnhealthyAfterSwitch',
    errorMessage: 'green failed, check 3',
  });
  const watch = {
    until: '2026-11-26T10:05:00.000Z',
    checks: 2,
    consecutiveFailures: 2,
    checked: 'GET /version answers with "v2"',
  };
  const state = takeCarried({
    ...before,
    failure: { Error: 'UnhealthyAfterSwitch', Cause: withCarried(lambdaCause, 'watch', watch) },
  });
  expect(state.failure?.Cause).toBe(lambdaCause);
  expect(state.release?.watch).toEqual(watch);
  expect(state.release?.hooks).toEqual(before.release?.hooks);
});

test('a summary quoting the marker does not fool it; a cause without one is left alone', () => {
  const sneaky = `answered FAILED: see${carriedMarker('hooks')}[1,2]!`;
  const carried = [answer(1, 'FAILED', `quoted${carriedMarker('hooks')}here`)];
  expect(splitCarried(withCarried(sneaky, 'hooks', carried))).toEqual({
    cause: sneaky,
    carried: { part: 'hooks', value: carried },
  });
  const plain = { ...before, failure: { Error: 'UnhealthyAfterSwitch', Cause: 'green failed, check 3' } };
  expect(takeCarried(plain)).toBe(plain);
  expect(takeCarried(before)).toBe(before);
});

test('a carried part that is not valid JSON (mangled on the way) is dropped from the cause, the release untouched', () => {
  const state = takeCarried({
    ...before,
    failure: {
      Error: 'UnhealthyAfterSwitch',
      Cause: `green failed, check 3.${carriedMarker('watch')}{"checked":"x "v2""}`,
    },
  });
  expect(state.failure?.Cause).toBe('green failed, check 3.');
  expect(state.release).toEqual(before.release);
});

test('causeMessage, which every ending and the report read causes with, leaves a carried part out', () => {
  const lambdaCause = JSON.stringify({
    errorType: 'UnhealthyAfterSwitch',
    errorMessage: 'green failed, check 3',
  });
  expect(causeMessage(withCarried(lambdaCause, 'watch', { checks: 2 }))).toBe('green failed, check 3');
  expect(causeMessage(withCarried('The production hook answered FAILED.', 'hooks', []))).toBe(
    'The production hook answered FAILED.',
  );
});

test("a hook's summary holding the marker's text is tidied, so it never cuts a cause short", () => {
  const summary = tidySummary('db check [bluegreen carried release.hooks] failed on 3 of 40 carts');
  expect(summary).toBe('db check (bluegreen carried release.hooks] failed on 3 of 40 carts');
  const cause = `ProductionHookFailed: the hook answered FAILED: ${summary}. All traffic goes back to blue.`;
  expect(causeMessage(cause)).toBe(cause);
});
