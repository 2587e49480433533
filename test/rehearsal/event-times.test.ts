/**
 * The runner stamps each state event when it happened (the moment aws-local-stepfunctions entered or left the
 * state), not when its event log hands the event over: on a busy machine the two differ by the time the step
 * code runs before it first waits, and the rehearsal's timeline, switch duration and windows read these stamps.
 */
import { FakeWorld, REPO } from '../support/fake-world';
import { compiledWorkflow, SETTINGS } from '../support/run-workflow';
import { runWorkflow } from '../../rehearsal/workflow-runner';

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
