/**
 * The largest state a release with lifecycle hooks carries, against Step Functions' limits: 256 KB (UTF-8) per
 * state input or output (States.DataLimitExceeded, which a Catch of States.ALL does not catch: the execution just
 * fails), and 32,768 characters per error cause (in which a failed branch of "Bake and production hook" carries
 * what it knew). Run through the synthesized state machine (aws-local-stepfunctions, real handlers, FakeWorld)
 * with every hook at its worst: more answers than are kept (MAX_ANSWERS_PER_HOOK), each summary at its longest in
 * the characters that take the most room, the largest details (MAX_DETAILS_BYTES) in `state.hook`, beside a
 * gradual shift's analysis and the validation report.
 */
import { carriedMarker, takeCarried, withCarried } from '../lambda/shared/carried-state';
import { MAX_ANSWERS_PER_HOOK, MAX_DETAILS_BYTES } from '../lambda/shared/hook-contract';
import type { ReleaseState } from '../lambda/shared/release';
import { runWorkflow, type ExecutionResult } from '../rehearsal/workflow-runner';
import type { HookCall } from './support/fake-hooks';
import { FakeWorld, REPO } from './support/fake-world';
import { ANALYSIS, compiledWorkflow, HOOK_SETTINGS, SETTINGS } from './support/run-workflow';

const STATE_LIMIT = 256 * 1024;
const CAUSE_LIMIT = 32_768;
/** Room left for what this test does not fill to its maximum (longer ARNs, image names, URLs, alarm lists). */
const MARGIN = 0.8;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/**
 * The summaries at their worst, longer than any cap: "€" takes 3 bytes (UTF-8) per character in the state; a quote 2 bytes in the
 * state (\"), 2 characters in a carried cause (JSON text) and 4 bytes once that cause is in the state. Control
 * characters (6 bytes each) are kept as spaces (tidySummary). aws-local-stepfunctions strips every backslash from
 * an intrinsic function's result, so a carried part with quotes in it does not survive a local run (in AWS it
 * does): the quotes' worst case is measured on the states the carried part travels in, built as AWS builds them.
 */
const EURO = '€'.repeat(1000);
const QUOTES = '"'.repeat(1000);
/** Details of the largest size a hook may return. */
const details = (n: number) => ({ n, blob: 'x'.repeat(MAX_DETAILS_BYTES - 40) });

/** Twice as many IN_PROGRESS answers as are kept, then the final one. */
const script = (summary: string, final: 'SUCCEEDED' | 'FAILED'): HookCall[] => [
  ...Array.from({ length: 2 * MAX_ANSWERS_PER_HOOK }, (_, i): HookCall => ({
    returns: { status: 'IN_PROGRESS', summary, details: details(i), callbackDelaySeconds: 5 },
  })),
  { returns: { status: final, summary } },
];

interface Measured {
  readonly result: ExecutionResult;
  /** The largest input or output of any state (the Parallel's includes both branches' results). */
  readonly largest: { readonly state: string; readonly bytes: number };
  readonly largestCause: number;
  /** The most answers a state's release held. */
  readonly answers: number;
  /** The input of each state, the last time it was entered. */
  readonly inputs: ReadonlyMap<string, ReleaseState>;
}

/** One release of the hooked state machine, the production hook answering `afterShift` at last. */
async function measure(summary: string, afterShift: 'SUCCEEDED' | 'FAILED'): Promise<Measured> {
  const world = new FakeWorld(`${REPO}:v1`);
  world.behaviours.set(`${REPO}:v2`, 'good');
  world.hookFunctions.script.set('beforeDeploy', script(summary, 'SUCCEEDED'));
  world.hookFunctions.script.set('afterShift', script(summary, afterShift));
  world.hookFunctions.script.set('onRollback', script(summary, 'SUCCEEDED'));
  let largest = { state: '', bytes: 0 };
  let largestCause = 0;
  let answers = 0;
  const inputs = new Map<string, ReleaseState>();
  const long = { timeoutSeconds: 3600, pollSeconds: 5 };
  const result = await runWorkflow(
    compiledWorkflow({ hooks: true }),
    world.deps(),
    {
      ...SETTINGS,
      maxReleaseSeconds: 6 * 3600,
      analysis: ANALYSIS,
      hooks: { ...HOOK_SETTINGS, beforeDeploy: long, afterShift: long, onRollback: long },
    },
    // A long bake, so that the production hook gives all its answers within it.
    {
      image: `${REPO}:v2`,
      strategy: { type: 'linear', stepPercent: 50, bakeSeconds: 120 },
      bakeSeconds: 1800,
    },
    {
      instant: true,
      tasks: world.tasks(),
      onLog: (event) => {
        if ('state' in event) {
          if (event.type === 'StateEntered') {
            inputs.set(event.state.name, event.state.input as unknown as ReleaseState);
          }
          for (const data of [event.state.input, event.state.output]) {
            const size = bytes(data);
            if (size > largest.bytes) {
              largest = { state: event.state.name, bytes: size };
            }
            const hooks = (data as { release?: { hooks?: unknown[] } } | undefined)?.release?.hooks;
            answers = Math.max(answers, hooks?.length ?? 0);
          }
        }
        if ('Cause' in event && typeof event.Cause === 'string') {
          largestCause = Math.max(largestCause, event.Cause.length);
        }
      },
    },
  );
  return { result, largest, largestCause, answers, inputs };
}

test('hooks that pass at their worst: the largest state (the Parallel, its branches and merge) stays under 256 KB', async () => {
  const { result, largest, answers } = await measure(EURO, 'SUCCEEDED');
  expect(result.status).toBe('SUCCEEDED');
  expect(answers).toBe(2 * MAX_ANSWERS_PER_HOOK);
  console.log(`hooks passed: the largest state is ${largest.bytes} bytes (${largest.state})`);
  expect(largest.bytes).toBeLessThan(MARGIN * STATE_LIMIT);
});

test('all three hooks at their worst, rolled back: every state under 256 KB, every cause under 32,768 characters', async () => {
  const { result, largest, largestCause, answers } = await measure(EURO, 'FAILED');
  expect(result.error).toBe('RolledBack');
  // Every hook gave more answers than are kept, and the production hook's came back to Roll back: the release
  // held the most answers it can.
  expect(answers).toBe(3 * MAX_ANSWERS_PER_HOOK);
  console.log(
    `rolled back: the largest state is ${largest.bytes} bytes (${largest.state}); the longest cause ${largestCause} characters`,
  );
  expect(largest.bytes).toBeLessThan(MARGIN * STATE_LIMIT);
  expect(largestCause).toBeLessThan(MARGIN * CAUSE_LIMIT);
});

test("summaries of quotes: the carried cause, Roll back's input and the release after it, as AWS builds them", async () => {
  const { result, inputs } = await measure(QUOTES, 'FAILED');
  expect(result.error).toBe('RolledBack');
  const branch = inputs.get('Carry production hook answers')!;
  const before = inputs.get('Bake and production hook')!;
  // What the Pass state "Carry production hook answers" writes in AWS (States.Format, States.JsonToString).
  const carried = {
    Error: branch.hook!.failure!.Error,
    Cause: withCarried(branch.hook!.failure!.Cause, 'hooks', branch.release!.hooks),
  };
  expect(branch.release!.hooks).toHaveLength(2 * MAX_ANSWERS_PER_HOOK);
  const rollBackInput: ReleaseState = { ...before, failure: carried };
  const merged = takeCarried(rollBackInput);
  expect(merged.release!.hooks).toEqual(branch.release!.hooks);
  // After Roll back, the rollback hook's answers join them, with its details in state.hook.
  const rollbackHook = (inputs.get('Report rollback')!.release!.hooks ?? []).filter(
    (a) => a.hook === 'onRollback',
  );
  expect(rollbackHook).toHaveLength(MAX_ANSWERS_PER_HOOK);
  const fullest: ReleaseState = {
    ...merged,
    release: { ...merged.release!, hooks: [...merged.release!.hooks!, ...rollbackHook] },
    hook: { name: 'onRollback', attempt: 40, status: 'IN_PROGRESS', details: details(0), waitSeconds: 5 },
  };
  const sizes = {
    cause: carried.Cause.length,
    carried: bytes(carried),
    rollBackInput: bytes(rollBackInput),
    fullest: bytes(fullest),
  };
  console.log(`quotes: ${JSON.stringify(sizes)}`);
  expect(carried.Cause).toContain(carriedMarker('hooks'));
  expect(sizes.cause).toBeLessThan(MARGIN * CAUSE_LIMIT);
  for (const size of [sizes.carried, sizes.rollBackInput, sizes.fullest]) {
    expect(size).toBeLessThan(MARGIN * STATE_LIMIT);
  }
});
