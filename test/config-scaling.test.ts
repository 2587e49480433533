import { ConfigError, parseConfig } from '../lib/config';
import { BASE_CONFIG, merge } from './support/synth';

/** The problems reported for BASE_CONFIG with `overrides` applied (fails the test if none are). */
function problemsOf(overrides: unknown): readonly string[] {
  try {
    parseConfig(merge(BASE_CONFIG, overrides));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

const SCALING = { minCount: 2, maxCount: 20, targets: { requestsPerTarget: 1000 } };

describe('configuration: scaling', () => {
  test('absent by default: no scaling', () => {
    expect(parseConfig(BASE_CONFIG).scaling).toBeUndefined();
  });

  test('given, it gets the documented cooldowns', () => {
    expect(parseConfig(merge(BASE_CONFIG, { scaling: SCALING })).scaling).toEqual({
      ...SCALING,
      scaleInCooldownSeconds: 300,
      scaleOutCooldownSeconds: 60,
    });
  });

  test('every target on ecs, with its own cooldowns', () => {
    const scaling = {
      ...SCALING,
      targets: { requestsPerTarget: 500, cpuPercent: 60, memoryPercent: 70 },
      scaleInCooldownSeconds: 600,
      scaleOutCooldownSeconds: 30,
    };
    expect(parseConfig(merge(BASE_CONFIG, { scaling })).scaling).toEqual(scaling);
  });

  test.each([
    [
      'no target',
      { ...SCALING, targets: {} },
      /^scaling\.targets: must name at least one target: requestsPerTarget, cpuPercent, memoryPercent/,
    ],
    [
      'a missing minCount',
      { maxCount: 4, targets: { cpuPercent: 50 } },
      /^scaling\.minCount: is required: the fewest tasks/,
    ],
    [
      'a zero minCount',
      { ...SCALING, minCount: 0 },
      /^scaling\.minCount: must be a whole number from 1 to 1000 \(got 0\)$/,
    ],
    [
      'a maxCount beyond 1000',
      { ...SCALING, maxCount: 1001 },
      /^scaling\.maxCount: must be a whole number from 1 to 1000 \(got 1001\)$/,
    ],
    [
      'a CPU target of 0',
      { ...SCALING, targets: { cpuPercent: 0 } },
      /^scaling\.targets\.cpuPercent: must be a whole number from 1 to 100 percent \(got 0\)$/,
    ],
    [
      'a negative cooldown',
      { ...SCALING, scaleInCooldownSeconds: -1 },
      /^scaling\.scaleInCooldownSeconds: must be a whole number from 0 to 3600 seconds/,
    ],
  ])('%s is a one-line error naming the field', (_what, scaling, expected) => {
    const problems = problemsOf({ scaling });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  test('an unknown target is named, with the allowed ones', () => {
    expect(problemsOf({ scaling: { ...SCALING, targets: { cpu: 50 } } })).toEqual([
      'scaling.targets.cpu: unknown field; allowed: requestsPerTarget, cpuPercent, memoryPercent',
      'scaling.targets: must name at least one target: requestsPerTarget, cpuPercent, memoryPercent (got {})',
    ]);
  });

  test.each([
    [
      'minCount above maxCount',
      { scaling: { ...SCALING, minCount: 5, maxCount: 4 }, container: { desiredCount: 4 } },
      'scaling.minCount: must be at most scaling.maxCount (4) (got 5)',
    ],
    [
      'desiredCount below minCount',
      { scaling: { ...SCALING, minCount: 3 } },
      'container.desiredCount: must be at least scaling.minCount (3), the count the live color starts with (got 2); raise it or lower scaling.minCount',
    ],
    [
      'desiredCount above maxCount',
      { scaling: { ...SCALING, maxCount: 4 }, container: { desiredCount: 6 } },
      'container.desiredCount: must be at most scaling.maxCount (4), the count the live color starts with (got 6); lower it or raise scaling.maxCount',
    ],
    [
      'asg: maxCount above the groups',
      { platform: 'asg', scaling: SCALING },
      'scaling.maxCount: must be at most instances.maxCount (10), the size of each group (got 20); lower it or raise instances.maxCount',
    ],
  ])('%s is refused, saying what to do', (_what, overrides, expected) => {
    expect(problemsOf(overrides)).toEqual([expected]);
  });

  test('asg: a memory target or cooldowns are refused (EC2 has neither), with every other problem at once', () => {
    const problems = problemsOf({
      platform: 'asg',
      instances: { maxCount: 20 },
      healthCheck: { timeoutSeconds: 30 },
      scaling: {
        ...SCALING,
        minCount: 3,
        targets: { cpuPercent: 60, memoryPercent: 70 },
        scaleInCooldownSeconds: 300,
        scaleOutCooldownSeconds: 60,
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^container\.desiredCount: must be at least scaling\.minCount \(3\)/),
      expect.stringMatching(
        /^scaling\.targets\.memoryPercent: not on platform "asg": EC2 publishes no memory metric/,
      ),
      expect.stringMatching(
        /^scaling\.scaleInCooldownSeconds: not on platform "asg": EC2 Auto Scaling's target tracking has no cooldowns/,
      ),
      expect.stringMatching(/^scaling\.scaleOutCooldownSeconds: not on platform "asg"/),
      expect.stringMatching(/^healthCheck\.timeoutSeconds: must be less than healthCheck\.intervalSeconds/),
    ]);
  });

  test('asg: bounds within the groups and a CPU or request target are accepted', () => {
    const config = parseConfig(
      merge(BASE_CONFIG, {
        platform: 'asg',
        instances: { maxCount: 20 },
        scaling: { ...SCALING, targets: { cpuPercent: 60, requestsPerTarget: 1000 } },
      }),
    );
    expect(config.scaling).toMatchObject({ minCount: 2, maxCount: 20 });
  });
});
