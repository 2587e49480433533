/**
 * The manual gate (`approval: before-switch`), run through the synthesized state machine with the real handlers:
 * the release pauses after validation with traffic untouched, says so, and goes on only on approve; reject and
 * the timeout abort (or, with onTimeout "approve", the timeout lets it through).
 */
import {
  compileWorkflow,
  LocalCallbacks,
  runWorkflow,
  type CompiledWorkflow,
  type ExecutionResult,
} from '../rehearsal/workflow-runner';
import { FakeWorld, REPO } from './support/fake-world';
import { SETTINGS } from './support/run-workflow';
import { synth } from './support/synth';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const GATE = { timeoutSeconds: 3600, onTimeout: 'abort' as const };

let withGate: CompiledWorkflow;
let approveOnTimeout: CompiledWorkflow;

beforeAll(() => {
  const a = synth({ approval: 'before-switch' });
  withGate = compileWorkflow(a.serviceJson, a.stacks);
  const b = synth({ approval: { at: 'before-switch', timeoutMinutes: 30, onTimeout: 'approve' } });
  approveOnTimeout = compileWorkflow(b.serviceJson, b.stacks);
});

function start(
  compiled: CompiledWorkflow,
  world: FakeWorld,
  options: { callbackTimeoutSeconds?: number; onTimeout?: 'abort' | 'approve' } = {},
): { callbacks: LocalCallbacks; result: Promise<ExecutionResult> } {
  const callbacks = new LocalCallbacks();
  const settings = { ...SETTINGS, approval: { ...GATE, onTimeout: options.onTimeout ?? 'abort' } };
  const result = runWorkflow(
    compiled,
    world.deps(),
    settings,
    { image: V2, startedBy: 'ci run 42' },
    {
      instant: true,
      callbacks,
      callbackTimeoutSeconds: options.callbackTimeoutSeconds,
    },
  );
  return { callbacks, result };
}

function goodWorld(): FakeWorld {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, 'good');
  return world;
}

describe('manual gate before the switch', () => {
  test('the synthesized gate is a callback task with the configured timeout, between validation and switch', () => {
    const state = withGate.definition.States['Wait for approval'] as unknown as Record<string, unknown>;
    expect(state.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(state.TimeoutSeconds).toBe(3600);
    expect(JSON.stringify(state.Parameters)).toContain('"taskToken.$":"$$.Task.Token"');
    // A throttled notification is retried, never a reason to abort a validated release; an answer never is.
    const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
    expect(retried).toContain('Lambda.TooManyRequestsException');
    expect(retried).not.toContain('Rejected');
    expect(retried).not.toContain('States.ALL');
    const validate = withGate.definition.States['Validate idle color'] as unknown as { Next: string };
    expect(validate.Next).toBe('Wait for approval');
    expect((state as { Next: string }).Next).toBe('Gradual shift?');
  });

  test('approve: the release waits with traffic untouched and the lock held, then switches', async () => {
    const world = goodWorld();
    const { callbacks, result } = start(withGate, world);
    const { token, state } = await callbacks.nextToken();

    expect(state).toBe('Wait for approval');
    // Paused: validated green is up, production untouched, lock held, operators told how to answer.
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record.liveColor).toBe('blue');
    expect(world.services.green.desired).toBe(2);
    expect(world.lock?.owner).toBe('release-1');
    expect(world.published.map((p) => p.status)).toEqual(['APPROVAL_REQUIRED']);
    expect(world.published[0].cause).toContain('npx bluegreen approve --app shop');
    expect(world.published[0].cause).toContain('is aborted (traffic stays on blue)');

    callbacks.sendTaskSuccess(token, { approvedBy: 'arn:aws:iam::123456789012:user/alice', at: 'now' });
    const done = await result;

    expect(done.status).toBe('SUCCEEDED');
    const order = done.states.filter((s) => /Validate|approval|Switch/.test(s));
    expect(order).toEqual(['Validate idle color', 'Wait for approval', 'Switch traffic']);
    expect(done.output?.approval?.approvedBy).toBe('arn:aws:iam::123456789012:user/alice');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.record).toEqual({ liveColor: 'green', images: { blue: V1, green: V2 } });
    expect(world.lock).toBeUndefined();
    expect(world.published.map((p) => p.status)).toEqual(['APPROVAL_REQUIRED', 'SUCCEEDED']);
  });

  test('a task of the validated color is lost while the gate waits: approve, then the switch re-checks and aborts (IdleNotReady), traffic untouched', async () => {
    const world = goodWorld();
    const { callbacks, result } = start(withGate, world);
    const { token } = await callbacks.nextToken();
    world.services.green.running = 1; // a task stopped (a host retired, an OOM kill) during the wait
    callbacks.sendTaskSuccess(token, {
      approvedBy: 'arn:aws:iam::123456789012:user/alice',
      at: '2026-11-27T09:00:00Z',
    });
    const done = await result;

    expect(done).toMatchObject({ status: 'FAILED', error: 'IdleNotReady' });
    expect(done.states.slice(-3)).toEqual(['Switch traffic', 'Abort', 'Aborted']);
    expect(done.cause).toContain(
      'No switch: green was validated (approved by arn:aws:iam::123456789012:user/alice at 2026-11-27T09:00:00Z), but re-checked just before the production listener would change, it is no longer ready',
    );
    expect(done.cause).toContain('1 of 2 tasks running (desired 2)');
    expect(done.cause).toContain('Traffic never moved: blue still serves every request');
    expect(world.calls).not.toContain('router.setProductionWeights');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record).toEqual({ liveColor: 'blue', images: { blue: V1, green: V1 } });
    expect(world.services.green.desired).toBe(0);
    expect(world.lock).toBeUndefined();
    expect(world.published.map((p) => p.status)).toEqual(['APPROVAL_REQUIRED', 'ABORTED']);
  });

  test("the validated color's targets turn unhealthy while the gate waits: no switch, the reason names the targets", async () => {
    const world = goodWorld();
    const { callbacks, result } = start(withGate, world);
    const { token } = await callbacks.nextToken();
    world.behaviours.set(V2, 'never-healthy'); // its health checks fail from now on
    callbacks.sendTaskSuccess(token, { approvedBy: 'alice', at: 'now' });
    const done = await result;

    expect(done).toMatchObject({ status: 'FAILED', error: 'IdleNotReady' });
    expect(done.cause).toContain(
      '0/2 targets healthy, 2 not healthy (2 target(s) unhealthy (Target.ResponseCodeMismatch))',
    );
    expect(world.calls).not.toContain('router.setProductionWeights');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.lock).toBeUndefined();
  });

  test('the listener was pointed at the idle color during the wait, then the release is rejected: Abort sends traffic back before it puts the idle color back', async () => {
    const world = goodWorld();
    const { callbacks, result } = start(withGate, world);
    const { token } = await callbacks.nextToken();
    world.weights = { blue: 0, green: 100 }; // an operator's modify-listener onto the validated, unreleased color
    callbacks.sendTaskFailure(token, 'Rejected', 'Rejected by alice: not during the sale');
    const done = await result;

    expect(done).toMatchObject({ status: 'FAILED', error: 'Rejected' });
    expect(done.cause).toContain(
      'When the abort began, the production listener sent all production traffic to green',
    );
    expect(done.cause).toContain(
      'All traffic is back on blue, which serves every request again, and the record says so',
    );
    // Traffic first, then the idle color: green was never scaled down while it had the traffic.
    const order = world.calls.filter((c) => /setProductionWeights|fleet\.restore/.test(c));
    expect(order).toEqual(['router.setProductionWeights', 'fleet.restore']);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record).toEqual({ liveColor: 'blue', images: { blue: V1, green: V1 } });
    expect(world.services.green.desired).toBe(0);
    expect(world.services.blue.desired).toBe(2);
    expect(world.lock).toBeUndefined();
    expect(world.published.map((p) => p.status)).toEqual(['APPROVAL_REQUIRED', 'ABORTED']);
  });

  test('reject: aborts with the reason; traffic never moved, idle color put back, lock released', async () => {
    const world = goodWorld();
    const { callbacks, result } = start(withGate, world);
    const { token } = await callbacks.nextToken();
    callbacks.sendTaskFailure(token, 'Rejected', 'Rejected by alice: not during the sale');
    const done = await result;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Rejected');
    expect(done.cause).toContain('Rejected by alice: not during the sale');
    expect(done.cause).toContain('Traffic never moved');
    expect(done.states).not.toContain('Switch traffic');
    expect(done.states.slice(-3)).toEqual(['Wait for approval', 'Abort', 'Aborted']);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record).toEqual({ liveColor: 'blue', images: { blue: V1, green: V1 } });
    expect(world.services.green.desired).toBe(0);
    expect(world.lock).toBeUndefined();
    expect(world.published.map((p) => p.status)).toEqual(['APPROVAL_REQUIRED', 'ABORTED']);
    // An answer after the end is refused, as Step Functions refuses a used token.
    expect(() => callbacks.sendTaskSuccess(token, {})).toThrow(/not waiting/);
  });

  test('timeout (default): aborts with ApprovalTimedOut; traffic never moved', async () => {
    const world = goodWorld();
    const { result } = start(withGate, world, { callbackTimeoutSeconds: 1 });
    const done = await result;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ApprovalTimedOut');
    expect(done.cause).toContain('No approve or reject within 60 minutes');
    expect(done.states.slice(-4)).toEqual(['Wait for approval', 'Approval timed out', 'Abort', 'Aborted']);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.services.green.desired).toBe(0);
    expect(world.lock).toBeUndefined();
  });

  test('timeout with onTimeout "approve": the release goes ahead and says nobody approved', async () => {
    const world = goodWorld();
    const { result } = start(approveOnTimeout, world, { callbackTimeoutSeconds: 1, onTimeout: 'approve' });
    const done = await result;

    expect(done.status).toBe('SUCCEEDED');
    expect(done.states).toContain('Approved on timeout');
    expect(done.output?.approval?.approvedBy).toContain('nobody: no answer within 30 minutes');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.published[0].cause).toContain('the release goes ahead');
  });

  test('the gate cannot tell anyone: the release aborts rather than wait unseen', async () => {
    const world = new FakeWorld(V1, { transient: [{ operation: 'notifier.publish', nth: 1 }] });
    world.behaviours.set(V2, 'good');
    const { result } = start(withGate, world);
    const done = await result;

    expect(done.status).toBe('FAILED');
    expect(done.cause).toContain('Wait for approval: ');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.lock).toBeUndefined();
    expect(world.published.map((p) => p.status)).toEqual(['ABORTED']);
  });
});
