/**
 * Strategies: parsing (config, input, CLI short form), the steps and the listener weights they become, the step
 * windows, and the budget a gradual shift adds to a release (timeout and history).
 */
import { parseReleaseInput, type WorkflowSettings } from '../../../lambda/shared/release';
import {
  DEFAULT_POLICY,
  describeStrategy,
  parseStrategy,
  shiftBudget,
  shiftSteps,
  stepWindow,
  weightsFor,
} from '../../../lambda/shared/strategy';
import { REPO } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

const ANALYSIS: NonNullable<WorkflowSettings['analysis']> = {
  policy: DEFAULT_POLICY,
  latencyPercentile: 99,
  onInconclusive: 'extend',
  maxExtensions: 2,
  alarms: [],
  dryRun: false,
  periodSeconds: 60,
  settleSeconds: 180,
};
const WITH_ANALYSIS: WorkflowSettings = { ...SETTINGS, analysis: ANALYSIS };

describe('parseStrategy', () => {
  test.each([
    ['all-at-once', { type: 'all-at-once' }],
    [{ type: 'all-at-once' }, { type: 'all-at-once' }],
    ['canary:10:5m', { type: 'canary', percent: 10, bakeSeconds: 300 }],
    ['canary:0.5%:300s', { type: 'canary', percent: 0.5, bakeSeconds: 300 }],
    ['linear:25:2m', { type: 'linear', stepPercent: 25, bakeSeconds: 120 }],
    [
      { type: 'linear', stepPercent: 20, bakeSeconds: 600 },
      { type: 'linear', stepPercent: 20, bakeSeconds: 600 },
    ],
  ])('%j → %j', (raw, strategy) => {
    expect(parseStrategy(raw, 'strategy', 120)).toEqual({ strategy, problems: [] });
  });

  test.each([
    ['canary', 'strategy: must be "all-at-once"'],
    ['canary:10', 'strategy: must be "all-at-once"'],
    [{ type: 'blue-green' }, 'strategy.type: must be "all-at-once", "canary" or "linear" (got "blue-green")'],
    [
      { type: 'canary', percent: 0, bakeSeconds: 300 },
      'strategy.percent: must be a percentage from 0.1 to 99.9',
    ],
    [
      { type: 'canary', percent: 100, bakeSeconds: 300 },
      'strategy.percent: must be a percentage from 0.1 to 99.9',
    ],
    [{ type: 'canary', percent: 10.25, bakeSeconds: 300 }, 'with at most one decimal'],
    [
      { type: 'linear', stepPercent: 60, bakeSeconds: 300 },
      'strategy.stepPercent: must be a percentage from 0.1 to 50',
    ],
    [
      { type: 'canary', percent: 10, bakeSeconds: 60 },
      'strategy.bakeSeconds: must be a whole number from 120',
    ],
    [{ type: 'canary', percent: 10, bakeSeconds: 300, steps: 3 }, 'unknown field(s) steps'],
  ])('%j is refused: %s', (raw, problem) => {
    const parsed = parseStrategy(raw, 'strategy', 120);
    expect(parsed.strategy).toBeUndefined();
    expect(parsed.problems.join('; ')).toContain(problem);
  });
});

describe('steps and weights', () => {
  test('canary is one step; linear is equal steps below 100', () => {
    expect(shiftSteps({ type: 'canary', percent: 10, bakeSeconds: 300 })).toEqual([10]);
    expect(shiftSteps({ type: 'linear', stepPercent: 25, bakeSeconds: 120 })).toEqual([25, 50, 75]);
    expect(shiftSteps({ type: 'linear', stepPercent: 30, bakeSeconds: 120 })).toEqual([30, 60, 90]);
    expect(shiftSteps({ type: 'linear', stepPercent: 33.3, bakeSeconds: 120 })).toEqual([33.3, 66.6, 99.9]);
    expect(shiftSteps({ type: 'all-at-once' })).toEqual([]);
    expect(describeStrategy({ type: 'linear', stepPercent: 25, bakeSeconds: 120 })).toBe(
      'linear 25% steps (25, 50, 75%) of 2 min each, then 100%',
    );
  });

  test('weights are out of 1000, so every percentage with one decimal stays within ALB’s 0-999', () => {
    expect(weightsFor(10, 'green')).toEqual({ blue: 900, green: 100 });
    expect(weightsFor(0.1, 'blue')).toEqual({ blue: 1, green: 999 });
    expect(weightsFor(99.9, 'green')).toEqual({ blue: 1, green: 999 });
    for (let tenths = 1; tenths < 1000; tenths++) {
      const w = weightsFor(tenths / 10, 'green');
      expect(w.blue + w.green).toBe(1000);
      expect(Math.max(w.blue, w.green)).toBeLessThanOrEqual(999);
      expect(Math.min(w.blue, w.green)).toBeGreaterThanOrEqual(1);
    }
    expect(weightsFor(100, 'green')).toEqual({ blue: 0, green: 100 });
  });

  test('a step’s window is the whole minutes inside its bake; an extension starts where the last ended', () => {
    const since = new Date('2026-11-26T10:00:17Z');
    const w = stepWindow(since, 300, 60);
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual([
      '2026-11-26T10:01:00.000Z',
      '2026-11-26T10:05:00.000Z',
    ]);
    const again = stepWindow(since, 300, 60, w.end);
    expect([again.start.toISOString(), again.end.toISOString()]).toEqual([
      '2026-11-26T10:05:00.000Z',
      '2026-11-26T10:10:00.000Z',
    ]);
    // Seconds in the rehearsal.
    const local = stepWindow(new Date('2026-11-26T10:00:17.400Z'), 8, 1);
    expect([local.start.toISOString(), local.end.toISOString()]).toEqual([
      '2026-11-26T10:00:18.000Z',
      '2026-11-26T10:00:25.000Z',
    ]);
  });
});

describe('the release input with a strategy', () => {
  test('the input’s strategy and dry run, else the stack’s', () => {
    const own = parseReleaseInput(
      { image: `${REPO}:v2`, strategy: 'canary:10:5m', dryRun: true },
      WITH_ANALYSIS,
    );
    expect(own).toMatchObject({ strategy: { type: 'canary', percent: 10, bakeSeconds: 300 }, dryRun: true });
    const stacks = parseReleaseInput(
      { image: `${REPO}:v2` },
      { ...WITH_ANALYSIS, strategy: { type: 'linear', stepPercent: 25, bakeSeconds: 120 } },
    );
    expect(stacks.strategy).toEqual({ type: 'linear', stepPercent: 25, bakeSeconds: 120 });
  });

  test.each([
    [
      { strategy: { type: 'canary', percent: 1000, bakeSeconds: 300 } },
      'strategy.percent: must be a percentage',
    ],
    [{ strategy: 'canary:10:5m', dryRun: 'yes' }, 'dryRun: must be true or false (got "yes")'],
    [{ dryRun: true }, 'dryRun: only the steps of a gradual shift are analysed'],
  ])('%j is refused before anything changes', (extra, problem) => {
    expect(() => parseReleaseInput({ image: `${REPO}:v2`, ...extra }, WITH_ANALYSIS)).toThrow(
      expect.objectContaining({ name: 'InvalidInput', message: expect.stringContaining(problem) }),
    );
  });

  test('a shift that cannot end inside the release timeout is refused, naming the shift steps', () => {
    // 9 linear steps of 10 min, each with 3 min of metrics delay and 2 extensions: 9 × 3 × 780 s = 5.85 h.
    expect(() =>
      parseReleaseInput(
        { image: `${REPO}:v2`, strategy: { type: 'linear', stepPercent: 10, bakeSeconds: 600 } },
        WITH_ANALYSIS,
      ),
    ).toThrow(/\+ 21060s of shift steps .* over the release timeout of 7200s/);
  });

  test('a shift that would overflow the 25,000-event history is refused, naming its loops', () => {
    expect(() =>
      parseReleaseInput(
        {
          image: `${REPO}:v2`,
          strategy: { type: 'linear', stepPercent: 10, bakeSeconds: 3000 },
          watchIntervalSeconds: 1,
        },
        { ...WITH_ANALYSIS, maxReleaseSeconds: 86_400 * 10 },
      ),
    ).toThrow(/shift steps \d+\) would write about \d+ history events, over Step Functions' 25000/);
  });

  test('the budget counts every step, its metrics delay and its extensions', () => {
    const strategy = { type: 'linear', stepPercent: 25, bakeSeconds: 120 } as const;
    expect(shiftBudget(strategy, { maxExtensions: 2, onInconclusive: 'extend' }, 180, 10)).toEqual({
      seconds: 3 * 3 * 300,
      loops: 3 * 3 * (30 + 1),
      steps: 3,
    });
    expect(shiftBudget(strategy, { maxExtensions: 2, onInconclusive: 'rollback' }, 180, 10).seconds).toBe(
      900,
    );
  });
});
