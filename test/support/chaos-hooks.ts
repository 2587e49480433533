/**
 * The chaos test's lifecycle hooks dimension (release.hooks): for a share of the releases, the state machine has
 * all three hooks (admission, production beside the bake, rollback), and each hook's function answers as the
 * scenario says: IN_PROGRESS some times, then SUCCEEDED, FAILED, a thrown error, a hang, or IN_PROGRESS forever.
 * The events' triggers and the Lambda failures then favour the hooks' states (chaos.ts), and the judge adds what
 * the hooks promise (`hookProblems`): nothing deployed that the admission hook did not admit, nothing released
 * that the production hook did not pass, and every publication of the release says what its ending was, whoever
 * published it (a rollback stays a rollback when the rollback hook or "Report rollback" did not finish).
 */
import fc from 'fast-check';
import type { ReleaseOutcome } from '../../lambda/shared/ports';
import type { HookName } from '../../lambda/shared/release';
import { HOOK_STATES, STATES } from '../../lambda/shared/state-names';
import type { ExecutionResult } from '../../rehearsal/workflow-runner';
import type { HookCall } from './fake-hooks';
import type { FakeWorld } from './fake-world';

/** How one hook's function answers: IN_PROGRESS `inProgress` times, then `then` (IN_PROGRESS: forever). */
export interface HookScript {
  readonly inProgress: number;
  readonly then: 'SUCCEEDED' | 'FAILED' | 'throws' | 'hangs' | 'IN_PROGRESS';
}

export type HookScripts = Readonly<Record<HookName, HookScript>>;

const HOOKS: readonly HookName[] = ['beforeDeploy', 'afterShift', 'onRollback'];

/** A hook's script: its final answer SUCCEEDED `succeeded` times in `succeeded` + 5. */
function script(succeeded: number): fc.Arbitrary<HookScript> {
  return fc.record({
    inProgress: fc.integer({ min: 0, max: 2 }),
    then: fc.oneof(
      { weight: succeeded, arbitrary: fc.constant('SUCCEEDED' as const) },
      { weight: 2, arbitrary: fc.constant('FAILED' as const) },
      { weight: 1, arbitrary: fc.constant('throws' as const) },
      { weight: 1, arbitrary: fc.constant('hangs' as const) },
      { weight: 1, arbitrary: fc.constant('IN_PROGRESS' as const) },
    ),
  });
}

export function hookScripts(): fc.Arbitrary<HookScripts> {
  // The admission hook refuses 1 release in 4, so that most get to the later hooks' states; the production hook
  // fails nearly 1 in 2 (its rollbacks reach the rollback hook).
  return fc.record({ beforeDeploy: script(15), afterShift: script(6), onRollback: script(6) });
}

/** The calls of the fake hook function (test/support/fake-hooks.ts) that play `script`. */
export function hookCalls(hook: HookName, script: HookScript): HookCall[] {
  const answer = (status: string, summary: string): HookCall => ({
    returns: { status, summary, ...(status === 'IN_PROGRESS' ? { details: { hook } } : {}) },
  });
  const last: HookCall =
    script.then === 'throws'
      ? { throws: `${hook} hook crashed` }
      : script.then === 'hangs'
        ? 'hang'
        : answer(script.then, `${hook} says ${script.then}`);
  return [...Array.from({ length: script.inProgress }, () => answer('IN_PROGRESS', 'still at it')), last];
}

/** Gives the world's hook functions their scripts. */
export function scriptHooks(world: FakeWorld, scripts: HookScripts): void {
  for (const hook of HOOKS) {
    world.hookFunctions.script.set(hook, hookCalls(hook, scripts[hook]));
  }
}

/** The states the hooks add, and "Roll back" (before the rollback hook): where the triggers aim more often. */
export const HOOK_TARGETS: readonly string[] = [...HOOK_STATES, STATES.rollback];

/** Whether the last call `world`'s function for `hook` received answered SUCCEEDED (undefined: never called). */
function lastAnsweredSucceeded(world: FakeWorld, hook: HookName): boolean | undefined {
  const n = world.hookFunctions.callsOf(hook).length;
  const script = world.hookFunctions.script.get(hook) ?? [];
  if (n === 0 || script.length === 0) {
    return undefined;
  }
  const call = script[Math.min(n, script.length) - 1];
  return (
    typeof call === 'object' &&
    'returns' in call &&
    (call.returns as { status?: unknown } | null)?.status === 'SUCCEEDED'
  );
}

/** The Fail states each of which says what the release came to (the ones whose status the outcome must carry). */
const ENDING_STATUS: Readonly<Record<string, ReleaseOutcome['status']>> = {
  [STATES.releasedUnsent]: 'SUCCEEDED',
  [STATES.refused]: 'REFUSED',
  [STATES.refusedCleanupFailed]: 'REFUSED',
  [STATES.aborted]: 'ABORTED',
  [STATES.abortFailed]: 'ABORTED',
  [STATES.rolledBack]: 'ROLLED_BACK',
  [STATES.rolledBackReportFailed]: 'ROLLED_BACK',
};

/**
 * The status every publication of the release must carry, when its history says it: the Fail state's; and once
 * "Start rollback hook" was entered (the Roll back step returned: traffic went back to the old color), ROLLED_BACK,
 * whatever stopped or failed after it (the rollback hook, "Report rollback", a stop or a timeout).
 */
export function expectedStatus(result: ExecutionResult): ReleaseOutcome['status'] | undefined {
  if (result.status === 'SUCCEEDED') {
    return 'SUCCEEDED';
  }
  if (result.states.includes(STATES.startRollbackHook)) {
    return 'ROLLED_BACK';
  }
  return result.status === 'FAILED'
    ? ENDING_STATUS[result.states[result.states.length - 1] ?? '']
    : undefined;
}

/**
 * 7. The hooks are obeyed: no deploy unless the admission hook's last answer was SUCCEEDED; no SUCCEEDED release
 *    unless the production hook's last answer was; and the outcome published (by the workflow or by the Stopped
 *    step) carries the status the ending says (`expectedStatus`), however many times it was published.
 */
export function hookProblems(
  world: FakeWorld,
  result: ExecutionResult,
  published: readonly ReleaseOutcome[],
  hooks: boolean,
): string[] {
  const v: string[] = [];
  if (hooks) {
    if (world.calls.includes('fleet.deploy') && lastAnsweredSucceeded(world, 'beforeDeploy') !== true) {
      v.push('the new revision was deployed, but the admission hook never answered SUCCEEDED');
    }
    const released = published.some((p) => p.status === 'SUCCEEDED');
    if (released && lastAnsweredSucceeded(world, 'afterShift') !== true) {
      v.push('declared SUCCEEDED, but the production hook never answered SUCCEEDED');
    }
  }
  const expected = expectedStatus(result);
  const wrong = published.filter((p) => p.status !== expected);
  if (expected && wrong.length > 0) {
    v.push(
      `it ended ${result.status} in "${result.states[result.states.length - 1]}", which is ${expected}, but ` +
        `published ${wrong.map((p) => `${p.status} (${p.error ?? ''}: ${p.cause ?? ''})`).join('; ')}`,
    );
  }
  return v;
}
