/** `release.hooks`: each hook optional, its function a Lambda ARN, its timings in range; one line per mistake. */
import { ConfigError, parseConfig } from '../lib/config';
import { BASE_CONFIG, merge } from './support/synth';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission';

function problemsOf(hooks: unknown, release: Record<string, unknown> = {}): readonly string[] {
  try {
    parseConfig(merge(BASE_CONFIG, { release: { ...release, hooks } }));
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.problems;
    }
    throw e;
  }
  throw new Error('expected a ConfigError');
}

test('defaults: a 600 s timeout, a call every 30 s; no hooks, none configured', () => {
  expect(parseConfig(BASE_CONFIG).release.hooks).toBeUndefined();
  const config = parseConfig(
    merge(BASE_CONFIG, { release: { hooks: { beforeDeploy: { functionArn: ARN } } } }),
  );
  expect(config.release.hooks).toEqual({
    beforeDeploy: { functionArn: ARN, timeoutSeconds: 600, pollSeconds: 30 },
  });
});

test('every mistake on its own line, naming the field, the rule and what was given', () => {
  expect(
    problemsOf({
      beforeDeploy: { functionArn: 'shop-admission' },
      afterShift: { functionArn: ARN, timeoutSeconds: 5, pollSeconds: 301 },
      onRollback: {},
      beforeDeplyo: { functionArn: ARN },
    }),
  ).toEqual([
    'release.hooks.beforeDeploy.functionArn: must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>) (got "shop-admission")',
    'release.hooks.afterShift.timeoutSeconds: must be a whole number from 10 to 3600 seconds (got 5)',
    'release.hooks.afterShift.pollSeconds: must be a whole number from 5 to 300 seconds (got 301)',
    "release.hooks.onRollback.functionArn: is required: the hook's function; a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
    'release.hooks.beforeDeplyo: unknown field (did you mean "beforeDeploy"?); allowed: beforeDeploy, afterShift, onRollback',
  ]);
});

test("the hooks' timeouts count in the release's time budget", () => {
  const hooks = {
    beforeDeploy: { functionArn: ARN, timeoutSeconds: 3600 },
    onRollback: { functionArn: ARN, timeoutSeconds: 3600 },
  };
  // Default timings: deploy 900 + bake 300 + finish 300 + 600 fixed = 2100 s; with 7200 s of hooks, over 120 min.
  expect(problemsOf(hooks)).toEqual([
    expect.stringMatching(
      /^release: deployTimeoutSeconds \+ bakeSeconds \+ finishDelaySeconds \+ 7200s of lifecycle hooks \(release.hooks timeouts\) \(\+600s for the other steps\) = 9300s, over the release timeout of 7200s/,
    ),
  ]);
  expect(() => parseConfig(merge(BASE_CONFIG, { release: { maxReleaseMinutes: 160, hooks } }))).not.toThrow();
  // The production hook runs beside the bake: only what outlasts it counts.
  const afterShift = { afterShift: { functionArn: ARN, timeoutSeconds: 3600 } };
  expect(problemsOf(afterShift, { maxReleaseMinutes: 60 })).toEqual([
    expect.stringContaining('+ 3300s of lifecycle hooks'),
  ]);
  expect(() =>
    parseConfig(
      merge(BASE_CONFIG, { release: { bakeSeconds: 3600, maxReleaseMinutes: 90, hooks: afterShift } }),
    ),
  ).not.toThrow();
});
