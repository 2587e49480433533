/**
 * The safety net's invariant, over many randomized releases: whatever the new image does and whichever AWS calls
 * fail (transiently: at most twice per operation, which the state machine's retries and the steps' own retries
 * must absorb), every execution ends with
 *   - all production traffic on one color, and that color running a healthy version;
 *   - the release record naming that color, and the image it really runs;
 *   - the in-flight lock released.
 */
import fc from 'fast-check';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import { runRelease } from './support/run-workflow';

const OPERATIONS = [
  'record.read',
  'record.write',
  'router.productionWeights',
  'router.setProductionWeights',
  'router.setTestWeights',
  'router.targetHealth',
  'fleet.describe',
  'fleet.deploy',
  'fleet.restore',
  'fleet.retire',
  'fleet.holdCapacity',
  'probe.get',
  'alarms.firing',
  'lock.acquire',
  'lock.release',
  'notifier.publish',
  'testToken',
] as const;

const BEHAVIOURS: Behaviour[] = [
  'good',
  'crash',
  'never-healthy',
  'fails-validation',
  'fails-after-switch',
  'alarms-after-switch',
];

/** Images that must never end up taking the traffic. */
const UNHEALTHY: ReadonlySet<Behaviour> = new Set(BEHAVIOURS.filter((b) => b !== 'good'));

const RUNS = Number(process.env.INVARIANT_RUNS ?? 150);

const scenario = fc.record({
  behaviour: fc.constantFrom(...BEHAVIOURS),
  keepIdleWarm: fc.boolean(),
  faults: fc
    .uniqueArray(
      fc.record({ operation: fc.constantFrom(...OPERATIONS), nth: fc.integer({ min: 1, max: 8 }) }),
      {
        maxLength: 8,
        selector: (f) => `${f.operation}#${f.nth}`,
      },
    )
    // Transient: at most two failures of any one operation (the retries allow three tries).
    .filter((faults) => OPERATIONS.every((op) => faults.filter((f) => f.operation === op).length <= 2)),
});

test(`invariant over ${RUNS} randomized fault sequences: healthy traffic, record = listener, lock released`, async () => {
  const seen = { runs: 0, faults: 0, outcomes: new Map<string, number>() };
  await fc.assert(
    fc.asyncProperty(scenario, async ({ behaviour, keepIdleWarm, faults }) => {
      const world = new FakeWorld(`${REPO}:v1`, { transient: faults });
      world.behaviours.set(`${REPO}:v2`, behaviour);
      const result = await runRelease(
        world,
        { image: `${REPO}:v2`, bakeSeconds: 20, deployTimeoutSeconds: 60 },
        { settings: { keepIdleWarm } },
      );
      seen.runs += 1;
      seen.faults += faults.length;
      const label = result.status === 'SUCCEEDED' ? 'Released' : (result.error ?? '?');
      seen.outcomes.set(label, (seen.outcomes.get(label) ?? 0) + 1);

      const live = world.liveTarget();
      const context = `${behaviour}, faults ${JSON.stringify(faults)}, ended ${label}: ${result.cause ?? ''}`;
      if (!live) {
        throw new Error(`traffic is split or nowhere (${JSON.stringify(world.weights)}) after ${context}`);
      }
      if (UNHEALTHY.has(world.behaviourOf(live)) || world.services[live].running === 0) {
        throw new Error(
          `traffic is on ${live} running ${world.imageOf(live)} (${world.behaviourOf(live)}) after ${context}`,
        );
      }
      if (world.record.liveColor !== live || world.record.images[live] !== world.imageOf(live)) {
        throw new Error(
          `record ${JSON.stringify(world.record)} disagrees with the listener (${live}) after ${context}`,
        );
      }
      if (world.lock) {
        throw new Error(`lock still held by ${world.lock.owner} after ${context}`);
      }
      // Letting scaling act again is housekeeping: retried, and reported (not thrown) when it keeps failing.
      if (
        world.capacityHeld &&
        !world.published.some((p) => p.cause?.includes('could not let scaling act again'))
      ) {
        throw new Error(`scaling still held after ${context}`);
      }
      if (result.status === 'SUCCEEDED' && behaviour !== 'good') {
        throw new Error(`a ${behaviour} image was released: ${context}`);
      }
    }),
    { numRuns: RUNS },
  );
  console.log(
    `invariant: ${seen.runs} releases, ${seen.faults} injected faults; outcomes ` +
      [...seen.outcomes].map(([k, v]) => `${k} ${v}`).join(', '),
  );
  expect(seen.runs).toBe(RUNS);
}, 120_000);
