/**
 * The runner as the rehearsal needs it on a busy machine: each state event stamped when it happened (the moment
 * aws-local-stepfunctions entered or left the state), not when its event log hands the event over; and no
 * seconds-long synchronous work when a release starts (the ASL is validated once, when it is compiled).
 */
import { FakeWorld, REPO } from '../support/fake-world';
import { compiledWorkflow, SETTINGS } from '../support/run-workflow';
import { runWorkflow } from '../../rehearsal/workflow-runner';

// The ASL validator aws-local-stepfunctions runs, counted (the real one runs).
const validations = { count: 0 };
jest.mock('asl-validator', () => {
  const actual = jest.requireActual<(...args: unknown[]) => unknown>('asl-validator');
  return (...args: unknown[]) => {
    validations.count += 1;
    return actual(...args);
  };
});

/** Holds the thread for `ms` (a step's synchronous work on a busy machine). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

test("'entered' is stamped before the state's step code runs, however long that code keeps the thread", async () => {
  const world = new FakeWorld(`${REPO}:v1`);
  world.behaviours.set(`${REPO}:v2`, 'good');
  const deps = world.deps();
  // Prepare reads the clock first thing, synchronously: the first call stands for 50 ms of busy step code.
  let firstCall: number | undefined;
  const now = () => {
    if (firstCall === undefined) {
      firstCall = Date.now();
      busy(50);
    }
    return deps.now();
  };
  const result = await runWorkflow(
    compiledWorkflow(),
    { ...deps, now },
    SETTINGS,
    { image: `${REPO}:v2` },
    { instant: true },
  );
  expect(result.status).toBe('SUCCEEDED');
  const prepare = result.events.find((e) => e.type === 'entered' && e.state === 'Prepare')!;
  const startLeft = result.events.find((e) => e.type === 'exited' && e.state === 'Start')!;
  expect(firstCall).toBeDefined();
  expect(prepare.at).toBeLessThanOrEqual(firstCall!);
  expect(startLeft.at).toBeLessThanOrEqual(prepare.at);
  // And the events stay in the order they happened.
  const times = result.events.map((e) => e.at);
  expect(times).toEqual([...times].sort((a, b) => a - b));
});

test('a release starts without validating the ASL again: it was validated once, when compiled', async () => {
  const compiled = compiledWorkflow({ keepIdleWarm: true }, { compileHere: true }); // compiled (validated) here
  const afterCompile = validations.count;
  expect(afterCompile).toBeGreaterThan(0);
  // asl-validator is 1-6 s of synchronous CPU on a busy 2-core machine: at every release's start it stalled the
  // rehearsal's load balancer and load generator on the same thread, and requests timed out.
  for (const release of ['release-a', 'release-b']) {
    const world = new FakeWorld(`${REPO}:v1`);
    world.behaviours.set(`${REPO}:v2`, 'good');
    const result = await runWorkflow(
      compiled,
      world.deps(),
      SETTINGS,
      { image: `${REPO}:v2` },
      {
        execution: release,
        instant: true,
      },
    );
    expect(result.status).toBe('SUCCEEDED');
  }
  expect(validations.count).toBe(afterCompile);
});
