/**
 * The safety net's invariant in a world that changes under the workflow (test/support/chaos.ts: the events, and
 * what is expected after each kind of ending): someone moves the listener, idle tasks are lost, alarms go off
 * before or after the switch, CloudFormation deregisters a revision, a Lambda times out after a partial write or
 * fails, the execution is stopped or times out at any point, the notifier is down; each non-SUCCEEDED execution
 * then goes through the Stopped step. Two in five releases run with the lifecycle hooks, each hook's function
 * answering as the scenario says (test/support/chaos-hooks.ts; one event at a time: workflow-chaos-hooks.test.ts). `npm run chaos` runs 1,000 of these; CI runs CHAOS_RUNS (default 100).
 */
import fc from 'fast-check';
import { runChaos, scenarios } from './support/chaos';
import { Tally } from './support/chaos-tally';

const RUNS = Number(process.env.CHAOS_RUNS ?? 100);
/** A fixed seed in CI (the same releases every run); `npm run chaos` explores with a fresh one. */
const SEED = Number(process.env.CHAOS_SEED ?? 42);

test(`chaos: ${RUNS} randomized releases in a changing world end clean, or loud and truthful`, async () => {
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(scenarios(), async (scenario) => {
      const run = await runChaos(scenario);
      tally.add(run);
      if (run.violations.length > 0) {
        throw new Error(
          `${run.violations.join('; ')} (ended ${run.ending}: ${run.result.error ?? ''} ${run.result.cause ?? ''}; ` +
            `states ${run.result.states.join(' → ')})`,
        );
      }
    }),
    { numRuns: RUNS, seed: SEED },
  );
  console.log(`chaos: ${tally.report()}`);
  expect(tally.runs).toBeGreaterThanOrEqual(RUNS);
}, 300_000);

test('a good release with only a stale alarm (in ALARM since before the switch) is released, not rolled back', async () => {
  const run = await runChaos({
    behaviour: 'good',
    keepIdleWarm: false,
    faults: [],
    events: [{ kind: 'alarm', at: { on: 'state', state: 'Validate idle color' } }],
  });
  expect(run.fired).toEqual(['stale-alarm']);
  expect(run.violations).toEqual([]);
  expect(run.ending).toBe('Released');
});

test('a failing image that keeps an alarm in ALARM since before the switch is rolled back when the bake ends', async () => {
  const run = await runChaos({
    behaviour: 'alarms-after-switch',
    keepIdleWarm: false,
    faults: [],
    events: [{ kind: 'alarm', at: { on: 'state', state: 'Prepare' } }],
  });
  expect(run.fired).toEqual(['stale-alarm']);
  expect(run.violations).toEqual([]);
  expect(run.ending).toBe('Rolled back');
  expect(run.result.cause).toContain('in ALARM since before the switch and still at the end of the bake');
});

test('an alarm entering ALARM during the bake rolls a good release back', async () => {
  const run = await runChaos({
    behaviour: 'good',
    keepIdleWarm: false,
    faults: [],
    events: [{ kind: 'alarm', at: { on: 'state', state: 'Check new live color' } }],
  });
  expect(run.fired).toEqual(['alarm']);
  expect(run.violations).toEqual([]);
  expect(run.ending).toBe('Rolled back');
});

// Found by the chaos property: Finish re-read the listener but not the new color's health. When the new color lost
// its tasks after the bake ("Keep old color warm"), Finish declared SUCCEEDED and scaled the old color down: no
// color served. Finish now reads the new color's targets first (UnhealthyAfterSwitch → Roll back).
test('the new color losing its tasks after the bake is not released (Finish re-checks its health)', async () => {
  const run = await runChaos({
    behaviour: 'good',
    keepIdleWarm: false,
    faults: [],
    events: [{ kind: 'idle-lost', at: { on: 'state', state: 'Keep old color warm' } }],
  });
  expect(run.fired).toEqual(['idle-lost']);
  expect(run.violations).toEqual([]);
});

// Found by the chaos property (CHAOS_SEED=7, CHAOS_RUNS=400, the 156th release; no hooks), a defect of the Abort
// step, fixed (ending-chores.ts putIdleBackOnceSafe: put back again once traffic is all on blue): someone splits
// the production listener 50/50 while the validation of a failing image runs; Abort refuses to put green back
// (TrafficMovedDuringRelease: green has production weight), then sends all traffic back to blue, but green keeps
// the release's scaling bounds (min 3, max 10, scale-in suspended) and no published cause says scaling was left
// so. Now: once traffic is all on blue again, green is put back (or pinned at the count it runs), or the
// cause says its scaling was left held.
test('an abort that finds the listener split puts the idle color to rest once traffic is back (fixed defect)', async () => {
  const run = await runChaos({
    behaviour: 'fails-validation',
    keepIdleWarm: false,
    scaling: true,
    faults: [],
    events: [
      {
        kind: 'listener-moved',
        to: 'split',
        at: { on: 'call', operation: 'router.productionWeights', nth: 3 },
      },
    ],
  });
  expect(run.ending).toBe('Aborted');
  expect(run.violations).toEqual([]);
  // Put to rest, not excused: no outcome says the idle color could not be put back.
  expect(run.world.published.map((p) => p.cause ?? '').join(' ')).not.toMatch(/could not put \w+ back/);
  const idle = run.world.record.liveColor === 'blue' ? 'green' : 'blue';
  expect(run.world.scaling![idle].min).toBe(run.world.scaling![idle].max);
});

// The same defect's other face (CHAOS_SEED=8, hooks-only exploration; the hooks only precede it): the listener
// sent to the new color while it deploys, the image crashing: Abort puts green at 0 (bounds 0..0) but the record
// keeps the bounds it wrote for the release (3..10), so record and fleet disagree about green's scaling.
test('an abort after the listener was sent to the idle color leaves record and fleet agreeing on its bounds (fixed defect)', async () => {
  const run = await runChaos({
    behaviour: 'crash',
    keepIdleWarm: false,
    scaling: true,
    faults: [
      { operation: 'fleet.retire', nth: 1 },
      { operation: 'fleet.describe', nth: 6 },
      { operation: 'fleet.deploy', nth: 1 },
      { operation: 'fleet.register', nth: 3 },
    ],
    events: [
      { kind: 'listener-moved', to: 'new', at: { on: 'call', operation: 'fleet.setCapacity', nth: 2 } },
    ],
  });
  expect(run.ending).toBe('Aborted');
  expect(run.violations).toEqual([]);
  // Put to rest, not excused: no outcome says the idle color could not be put back.
  expect(run.world.published.map((p) => p.cause ?? '').join(' ')).not.toMatch(/could not put \w+ back/);
  const idle = run.world.record.liveColor === 'blue' ? 'green' : 'blue';
  expect(run.world.scaling![idle].min).toBe(run.world.scaling![idle].max);
});

// Found with the hooks (CHAOS_SEED=77), a gap of the judge, not of the product: a release refused for a drift
// (someone split the listener) is stopped while Refuse releases its lock. The listener still sends green half of
// production, so the Stopped step holds green at the count it runs or more (never pinned: it serves), and says so.
test('a stop during Refuse with the listener left split: the idle color that serves keeps a floor, not a pin', async () => {
  const run = await runChaos({
    behaviour: 'never-healthy',
    keepIdleWarm: false,
    scaling: true,
    faults: [],
    events: [
      { kind: 'listener-moved', to: 'split', at: { on: 'state', state: 'Prepare' } },
      { kind: 'stopped', status: 'ABORTED', at: { on: 'call', operation: 'lock.release', nth: 1 } },
    ],
  });
  expect(run.ending).toBe('Stopped (ABORTED)');
  expect(run.world.weights).toEqual({ blue: 50, green: 50 });
  expect(run.world.published.map((p) => p.cause).join(' ')).toContain(
    'green, which takes production traffic though the record names blue, is held at',
  );
  expect(run.violations).toEqual([]);
});
