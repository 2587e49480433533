/**
 * Gradual shifts (canary, linear) through the synthesized state machine with the real step handlers over the
 * in-memory AWS: each path of the shift phase, on both platforms. The world's metrics count each color's share of
 * production requests by the listener's weights, with the failures and latency its image's behaviour gives.
 */
import type { WorkflowSettings } from '../lambda/shared/release';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import { stopped } from '../lambda/workflow/conclude';
import {
  ANALYSIS,
  SETTINGS,
  endingOf,
  runRelease as runOnPlatform,
  type ExecutionResult,
} from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

const CANARY = { type: 'canary', percent: 10, bakeSeconds: 120 };
const LINEAR = { type: 'linear', stepPercent: 25, bakeSeconds: 120 };

function worldWith(behaviour: Behaviour): FakeWorld {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, behaviour);
  return world;
}

/** Every production weights change, in order, as shares of green (percent). */
function greenShares(world: FakeWorld): number[] {
  return world.weightChanges.map(({ weights: w }) => Math.round((100 * w.green) / (w.blue + w.green)));
}

function stickiness(world: FakeWorld): (number | undefined)[] {
  return world.weightChanges.map((c) => c.stickySeconds);
}

/** The release as the last state that carried it saw it (the output, or the last Task's input when it failed). */
function lastRelease(result: ExecutionResult) {
  return (result.output ?? result.lastInput)?.release;
}

function dedupe(states: readonly string[]): string[] {
  return states.filter((s, i) => s !== states[i - 1]);
}

function expectBackOnBlue(world: FakeWorld): void {
  expect(world.weights).toEqual({ blue: 100, green: 0 });
  expect(world.record.liveColor).toBe('blue');
  expect(world.record.images.green).toBe(V1);
  expect(world.recordedWeights).toBeUndefined();
  expect(world.stickySeconds).toBeUndefined();
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
}

describe.each(['ecs', 'asg'] as const)(
  'gradual shifts on %s (synthesized ASL, real handlers)',
  (platform) => {
    const runRelease = (world: FakeWorld, input: unknown, settings: Partial<WorkflowSettings> = {}) =>
      runOnPlatform(world, input, { platform, settings: { analysis: ANALYSIS, ...settings } });

    test('canary success: 10% judged, then 100%; each step re-checks, sets weights, then the record', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2, strategy: CANARY });

      expect(result.status).toBe('SUCCEEDED');
      const states = dedupe(result.states);
      const shiftStates = states.slice(
        states.indexOf('Validate idle color'),
        states.indexOf('Bake: wait') + 1,
      );
      // The step bakes in Wait → Analyse loops (each analysis checks health and alarms) until its window is judged.
      expect(shiftStates.slice(0, 6)).toEqual([
        'Validate idle color',
        'Gradual shift?',
        'Shift traffic',
        'Bake step',
        'Analyse step',
        'Step verdict',
      ]);
      expect(shiftStates.slice(-3)).toEqual(['Step verdict', 'Switch traffic', 'Bake: wait']);
      expect(new Set(shiftStates.slice(3, -2))).toEqual(
        new Set(['Bake step', 'Analyse step', 'Step verdict']),
      );
      expect(greenShares(world)).toEqual([10, 100]);
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(world.record.liveColor).toBe('green');
      // The step's verdict: both colors over the same whole-minute window, every metric explained.
      const shift = lastRelease(result)?.shift;
      expect(shift?.verdicts).toHaveLength(1);
      const [verdict] = shift!.verdicts;
      expect(verdict).toMatchObject({ step: 1, percent: 10, result: 'pass', action: 'promote' });
      expect(verdict.window.start.endsWith(':00.000Z')).toBe(true);
      expect(verdict.window.end.endsWith(':00.000Z')).toBe(true);
      expect(verdict.metrics.map((m) => m.metric)).toEqual(['errors', 'latency']);
      expect(verdict.summary).toMatch(
        /^Step 1\/1 \(10% to green, window .*\): PASS: errors: pass, new .* against old/,
      );
      // Both colors were read over that window, and the verdict was published as an event.
      const reads = world.metricReads.map((r) => `${r.color} ${r.start} ${r.end}`);
      expect(reads).toEqual([
        `blue ${verdict.window.start} ${verdict.window.end}`,
        `green ${verdict.window.start} ${verdict.window.end}`,
      ]);
      expect(world.published.map((p) => p.status)).toEqual(['SHIFT_STEP', 'SUCCEEDED']);
      expect(world.published[0].step?.summary).toBe(verdict.summary);
      // The step: listener read, new color re-checked, weights, then the record with the split.
      const calls = world.calls;
      const firstSet = calls.indexOf('router.setProductionWeights');
      expect(calls.slice(firstSet - 3, firstSet + 2)).toEqual([
        'router.productionWeights',
        'fleet.describe',
        'router.targetHealth',
        'router.setProductionWeights',
        'record.write',
      ]);
    });

    test('linear success: 25, 50, 75% each judged, then 100%; no stickiness unless configured', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('SUCCEEDED');
      expect(greenShares(world)).toEqual([25, 50, 75, 100]);
      const verdicts = lastRelease(result)!.shift!.verdicts;
      expect(verdicts.map((v) => [v.step, v.percent, v.result, v.action])).toEqual([
        [1, 25, 'pass', 'next'],
        [2, 50, 'pass', 'next'],
        [3, 75, 'pass', 'promote'],
      ]);
      expect(stickiness(world)).toEqual([undefined, undefined, undefined, undefined]);
    });

    test('a subtly worse canary (2% errors against 0.2%) rolls back at the first step, in one listener change', async () => {
      const world = worldWith('errors-2pct');
      const result = await runRelease(world, { image: V2, strategy: CANARY });

      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RolledBack');
      expect(result.cause).toMatch(
        /^AnalysisFailed: Step 1\/1 \(10% to green, .*FAIL: errors: fail, new \d+ of \d+ failed/,
      );
      expect(result.cause).toMatch(/p = [0-9.e-]+ \(below 0\.005\)/);
      expect(result.cause).toMatch(/Roll back to blue\./);
      expect(greenShares(world)).toEqual([10, 0]);
      expectBackOnBlue(world);
      expect(world.published.map((p) => p.status)).toEqual(['SHIFT_STEP', 'ROLLED_BACK']);
    });

    test('a later step failing rolls back from there: 25% and 50% pass, 75% fails', async () => {
      const world = worldWith('good');
      // The new version degrades once it takes 75% (a load-dependent defect).
      world.onCall = (call, n) => {
        if (call === 'router.setProductionWeights' && n === 3) {
          world.behaviours.set(V2, 'slow');
        }
      };
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RolledBack');
      expect(result.cause).toMatch(
        /Step 3\/3 \(75% to green.*latency: fail, new 120 ms against old 80 ms: ratio 1\.50 \(limit 1\.25\)/,
      );
      expect(greenShares(world)).toEqual([25, 50, 75, 0]);
      expectBackOnBlue(world);
    });

    test('too little traffic is inconclusive, never a pass: the step is baked again once, then rolled back', async () => {
      const world = worldWith('good');
      world.requestsPerSecond = 0.5;
      const result = await runRelease(world, { image: V2, strategy: CANARY });

      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RolledBack');
      expect(result.cause).toMatch(/^AnalysisInconclusive: .*errors: inconclusive, too few requests/);
      expect(result.cause).toMatch(/Inconclusive after 1 extension\(s\)/);
      const published = world.published.filter((p) => p.status === 'SHIFT_STEP').map((p) => p.step!.action);
      expect(published).toEqual(['extend', 'rollback']);
      expect(greenShares(world)).toEqual([10, 0]);
      expectBackOnBlue(world);
    });

    test('dry run: a failing verdict is reported with what a real run would do, and the release goes on', async () => {
      const world = worldWith('errors-2pct');
      const result = await runRelease(world, { image: V2, strategy: CANARY, dryRun: true });

      expect(result.status).toBe('SUCCEEDED');
      const [verdict] = lastRelease(result)!.shift!.verdicts;
      expect(verdict).toMatchObject({ result: 'fail', action: 'promote', wouldHave: 'rollback' });
      expect(verdict.summary).toMatch(/DRY RUN: a real run would roll back\.$/);
      expect(world.weights).toEqual({ blue: 0, green: 100 });
    });

    test("the user's alarm going off during a step fails it at once", async () => {
      const world = worldWith('good');
      world.onCall = (call, n) => {
        if (call === 'alarms.named' && n === 2) {
          world.alarmStates.set('shop-checkout-errors', {
            name: 'shop-checkout-errors',
            color: 'green',
            since: new Date(world.clock).toISOString(),
            reason: 'Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (5.0).',
          });
        }
      };
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('FAILED');
      expect(result.cause).toMatch(
        /^AnalysisFailed: Step 1\/3 .*the user's alarm\(s\) went off: shop-checkout-errors in ALARM since/,
      );
      expectBackOnBlue(world);
    });

    test('promote: the operator skips the remaining steps; the verdicts so far stay, with who promoted', async () => {
      const world = worldWith('good');
      world.onCall = (call, n) => {
        if (call === 'lock.promotion' && n === 3 && world.lock) {
          world.lock.promotion = {
            by: 'arn:aws:sts::123456789012:assumed-role/ops/alice',
            at: '2026-11-26T10:07:00Z',
          };
        }
      };
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('SUCCEEDED');
      expect(greenShares(world)).toEqual([25, 100]);
      expect(lastRelease(result)!.shift!.promotedBy).toEqual({
        by: 'arn:aws:sts::123456789012:assumed-role/ops/alice',
        at: '2026-11-26T10:07:00Z',
      });
    });

    test('stickiness: on for every split, off in the same listener change that rolls back', async () => {
      const world = worldWith('errors-2pct');
      const result = await runRelease(
        world,
        { image: V2, strategy: CANARY },
        { analysis: { ...ANALYSIS, stickySeconds: 3600 } },
      );

      expect(result.error).toBe('RolledBack');
      expect(greenShares(world)).toEqual([10, 0]);
      expect(stickiness(world)).toEqual([3600, undefined]);
      expectBackOnBlue(world);
    });

    test('stickiness is off in the same listener change that promotes to 100%', async () => {
      const world = worldWith('good');
      const result = await runRelease(
        world,
        { image: V2, strategy: LINEAR },
        { analysis: { ...ANALYSIS, stickySeconds: 600 } },
      );

      expect(result.status).toBe('SUCCEEDED');
      expect(stickiness(world)).toEqual([600, 600, 600, undefined]);
    });

    test('a listener moved under a step (a stale change set) rolls back, naming both splits', async () => {
      const world = worldWith('good');
      world.onCall = (call, n) => {
        if (call === 'router.productionWeights' && n === 4) {
          world.weights = { blue: 100, green: 0 };
        }
      };
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('FAILED');
      expect(result.cause).toMatch(/^TrafficMovedDuringRelease: .*sends all production traffic to blue, not/);
      expectBackOnBlue(world);
    });

    test('the new color losing its targets mid-shift rolls back (UnhealthyDuringShift)', async () => {
      const world = worldWith('good');
      world.onCall = (call, n) => {
        if (call === 'router.setProductionWeights' && n === 1) {
          world.services.green.running = 1;
        }
      };
      const result = await runRelease(world, { image: V2, strategy: LINEAR });

      expect(result.status).toBe('FAILED');
      expect(result.cause).toMatch(/^UnhealthyDuringShift: /);
      expect(greenShares(world)[0]).toBe(25);
      expectBackOnBlue(world);
    });

    test.each(['ABORTED', 'TIMED_OUT'] as const)(
      '%s mid-shift: the Stopped step puts all traffic back on the old color in one change, stickiness off',
      async (status) => {
        const world = worldWith('good');
        let baking = 0;
        const result = await runOnPlatform(
          world,
          { image: V2, strategy: LINEAR },
          {
            platform,
            settings: { analysis: { ...ANALYSIS, stickySeconds: 300 } },
            // Stopped while the second step bakes (an operator's StopExecution, or the release's timeout).
            stopWhen: () => (world.weightChanges.length === 2 && ++baking > 3 ? { status } : undefined),
          },
        );
        expect(result.status).toBe(status);
        expect(greenShares(world)).toEqual([25, 50]);
        expect(world.stickySeconds).toBe(300);

        const { outcome } = await stopped(endingOf(result), world.deps(), {
          ...SETTINGS,
          analysis: ANALYSIS,
        });
        expect(greenShares(world)).toEqual([25, 50, 0]);
        expect(world.weights).toEqual({ blue: 100, green: 0 });
        expect(world.stickySeconds).toBeUndefined();
        // The record follows the listener, and says what each color runs (green still runs v2, now idle).
        expect(world.record.liveColor).toBe('blue');
        expect(world.recordedWeights).toBeUndefined();
        expect(world.record.images).toEqual({ blue: world.imageOf('blue'), green: world.imageOf('green') });
        expect(world.lock).toBeUndefined();
        expect(world.capacityHeld).toBe(false);
        expect(outcome.cause).toContain('all production traffic is on blue');
      },
    );

    test('all at once (the default) never enters the shift steps', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2 });

      expect(result.status).toBe('SUCCEEDED');
      expect(dedupe(result.states)).toContain('Gradual shift?');
      expect(result.states).not.toContain('Shift traffic');
      expect(greenShares(world)).toEqual([100]);
    });
  },
);
