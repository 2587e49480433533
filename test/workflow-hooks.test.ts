/**
 * Lifecycle hooks (release.hooks) through the synthesized state machine (aws-local-stepfunctions, real handlers,
 * FakeWorld): each hook's Lambda behind the real adapter (test/support/fake-hooks.ts), answering as a test says.
 */
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { HookAnswer } from '../lambda/shared/release';
import { HOOK_STATES } from '../lambda/shared/state-names';
import { stopped } from '../lambda/workflow/conclude';
import { HOOK_ARNS, type HookCall } from './support/fake-hooks';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import {
  ANALYSIS,
  compiledWorkflowOf,
  endingOf,
  HOOK_SETTINGS,
  HOOKS_CONFIG,
  runRelease,
  SETTINGS,
  type ExecutionResult,
} from './support/run-workflow';
import { resourcesOfType, synth, type CfnTemplate } from './support/synth';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

const ok = (summary = 'fine'): HookCall => ({ returns: { status: 'SUCCEEDED', summary } });
const failed = (summary: string): HookCall => ({ returns: { status: 'FAILED', summary } });
const inProgress = (details: unknown, callbackDelaySeconds?: number): HookCall => ({
  returns: { status: 'IN_PROGRESS', summary: 'still testing', details, callbackDelaySeconds },
});

function worldWith(behaviour: Behaviour, hooks: Partial<Record<keyof typeof HOOK_ARNS, HookCall[]>>) {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, behaviour);
  for (const [hook, calls] of Object.entries(hooks)) {
    world.hookFunctions.script.set(hook as keyof typeof HOOK_ARNS, calls);
  }
  return world;
}

const release = (world: FakeWorld) => runRelease(world, { image: V2 }, { hooks: true });

/** Consecutive repeats of a state collapsed (a loop's iterations). */
function dedupe(states: string[]): string[] {
  return states.filter((s, i) => s !== states[i - 1]);
}

/** The states of the "Bake and production hook" Parallel's branches. */
const BRANCH_STATES: ReadonlySet<string> = new Set(
  (
    compiledWorkflowOf({ release: { hooks: HOOKS_CONFIG } }).definition.States as Record<
      string,
      { Branches?: { States: Record<string, unknown> }[] }
    >
  )['Bake and production hook'].Branches!.flatMap((b) => Object.keys(b.States)),
);

/**
 * The states from "Roll back" on. A Parallel branch's events reach the log later than the outer machine's, so
 * `result.states` may list the stopped branch's last state after "Roll back"; `branchStatesAfterRollBack` says
 * whether one was entered after it (by the engine's stamps, taken as each state is entered).
 */
function fromRollBack(result: ExecutionResult): string[] {
  const states = dedupe(result.states);
  return states.slice(states.indexOf('Roll back')).filter((s) => !BRANCH_STATES.has(s));
}
function branchStatesAfterRollBack(result: ExecutionResult): string[] {
  const entered = result.events.filter((e) => e.type === 'entered');
  const rollBack = entered.find((e) => e.state === 'Roll back')!;
  return entered.filter((e) => BRANCH_STATES.has(e.state) && e.at > rollBack.at).map((e) => e.state);
}

/** The hooks' answers the execution's last state carried (its output, else the last Task's input). */
function answers(result: ExecutionResult): HookAnswer[] {
  return [...(result.output?.release?.hooks ?? result.lastInput?.release?.hooks ?? [])];
}

function expectCleanEnding(world: FakeWorld, status: string): void {
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
  expect(world.published.map((p) => p.status)).toEqual([status]);
  expect(world.record.liveColor).toBe(world.liveTarget());
}

describe('admission hook (beforeDeploy)', () => {
  test('a FAILED answer refuses the image: nothing deployed, lock free, REFUSED published with the summary', async () => {
    const world = worldWith('good', { beforeDeploy: [failed('image v2 has 3 critical CVEs')] });
    const result = await release(world);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AdmissionRefused');
    expect(result.cause).toContain('image v2 has 3 critical CVEs');
    expect(result.cause).toContain(HOOK_ARNS.beforeDeploy);
    expect(dedupe(result.states)).toEqual([
      'Start',
      'Prepare',
      'Start admission hook',
      'Admission hook',
      'Admission hook done?',
      'Admission refused',
      'Refuse',
      'Release refused',
    ]);
    expect(world.calls.filter((c) => c.startsWith('fleet.'))).toEqual(
      world.calls.filter((c) => c === 'fleet.describe'),
    );
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.imageOf('green')).toBe(V1);
    expectCleanEnding(world, 'REFUSED');
    expect(world.published[0]).toMatchObject({
      error: 'AdmissionRefused',
      cause: expect.stringContaining('FAILED after 1 call: image v2 has 3 critical CVEs'),
    });
    expect(world.hookFunctions.callsOf('beforeDeploy')).toEqual([
      {
        hook: 'beforeDeploy',
        app: 'shop',
        release: 'release-1',
        image: V2,
        version: 'v2',
        color: 'green',
        liveColor: 'blue',
        productionUrl: 'http://shop-alb.example.com',
        testUrl: 'http://shop-alb.example.com:9000',
        attempt: 1,
      },
    ]);
  });

  test('IN_PROGRESS twice, then SUCCEEDED: three calls, details passed back, a Wait between calls', async () => {
    const world = worldWith('good', {
      beforeDeploy: [
        inProgress({ scan: 'queued' }),
        inProgress({ scan: 'running', pct: 50 }, 12),
        ok('no CVEs'),
      ],
      afterShift: [ok()],
    });
    const result = await release(world);

    expect(result.status).toBe('SUCCEEDED');
    const calls = world.hookFunctions.callsOf('beforeDeploy');
    expect(calls.map((c) => [c.attempt, c.details])).toEqual([
      [1, undefined],
      [2, { scan: 'queued' }],
      [3, { scan: 'running', pct: 50 }],
    ]);
    const admission = result.states.slice(0, result.states.indexOf('Deploy to idle color'));
    expect(admission).toEqual([
      'Start',
      'Prepare',
      'Start admission hook',
      'Admission hook',
      'Admission hook done?',
      'Wait for admission hook',
      'Admission hook',
      'Admission hook done?',
      'Wait for admission hook',
      'Admission hook',
      'Admission hook done?',
    ]);
    expect(
      answers(result)
        .filter((a) => a.hook === 'beforeDeploy')
        .map((a) => [a.attempt, a.status, a.summary]),
    ).toEqual([
      [1, 'IN_PROGRESS', 'still testing'],
      [2, 'IN_PROGRESS', 'still testing'],
      [3, 'SUCCEEDED', 'no CVEs'],
    ]);
    expect(world.published.map((p) => p.status)).toEqual(['SUCCEEDED']);
  });

  test('the admission step itself failing (after its retries) refuses the release with its error', async () => {
    const world = worldWith('good', { beforeDeploy: [ok()] });
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        lambdaFailures: {
          'Admission hook': { name: 'Sandbox.Timedout', message: 'Task timed out after 900 s' },
        },
      },
    );
    expect(result.status).toBe('FAILED');
    // Named, with a cause that reads well: which hook, the step's error and message, what became of the release.
    expect(result.error).toBe('HookStepFailed');
    expect(result.cause).toMatch(
      /^The admission hook's step failed after its retries \(Sandbox\.Timedout: Task timed out after 900 s\), so the hook \(release\.hooks\.beforeDeploy\) gave no answer\. The release is refused: nothing was registered or deployed and traffic never moved\. See the hook step's log group \S+ and the hook function's logs, then release again\.$/,
    );
    expect(dedupe(result.states).slice(-7)).toEqual([
      'Admission hook',
      'Admission hook step failed',
      'Admission hook step error',
      'Name admission hook step failure',
      'Admission refused',
      'Refuse',
      'Release refused',
    ]);
    expect(world.calls.filter((c) => c.startsWith('fleet.') && c !== 'fleet.describe')).toEqual([]);
    expectCleanEnding(world, 'REFUSED');
    expect(world.published[0]).toMatchObject({ error: 'HookStepFailed', cause: result.cause });
  });

  test("the admission step failing with a Lambda error: the cause quotes the error's message, not its JSON", async () => {
    const world = worldWith('good', { beforeDeploy: [ok()] });
    const lambdaError = JSON.stringify({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Error: Cannot find module 'hook'",
      trace: [
        'Runtime.ImportModuleError: Error: Cannot find module',
        '    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)',
      ],
    });
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        lambdaFailures: { 'Admission hook': { name: 'Runtime.ImportModuleError', message: lambdaError } },
      },
    );
    expect(result.error).toBe('HookStepFailed');
    expect(result.cause).toContain(
      "The admission hook's step failed after its retries (Runtime.ImportModuleError: Error: Cannot find module 'hook'), so",
    );
    expect(result.cause).not.toContain('errorMessage');
    expect(result.cause).not.toContain('_loadUserApp');
    expect(dedupe(result.states)).toContain('Admission hook step error (Lambda)');
    expectCleanEnding(world, 'REFUSED');
  });

  test('no final answer within its timeout: TIMED_OUT refuses the release', async () => {
    const world = worldWith('good', { beforeDeploy: [inProgress({ n: 1 })] });
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        settings: {
          hooks: {
            beforeDeploy: { timeoutSeconds: 120, pollSeconds: 30 },
            afterShift: { timeoutSeconds: 600, pollSeconds: 30 },
            onRollback: { timeoutSeconds: 600, pollSeconds: 30 },
          },
        },
      },
    );

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AdmissionRefused');
    expect(result.cause).toMatch(/TIMED_OUT after \d+ calls: no final answer within its timeout of 120 s/);
    // Called until the deadline (the world's clock moves 5 s per read), never after it.
    const calls = world.hookFunctions.callsOf('beforeDeploy');
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.length).toBeLessThan(120 / 5);
    expect(world.imageOf('green')).toBe(V1);
    expectCleanEnding(world, 'REFUSED');
  });
});

describe('production hook (afterShift), beside the bake', () => {
  test('SUCCEEDED while the watch bakes → Finish; the answers are in release.hooks', async () => {
    const world = worldWith('good', {
      beforeDeploy: [ok('admitted')],
      afterShift: [inProgress({ suite: 1 }), ok('212 tests passed against production')],
    });
    const result = await release(world);

    expect(result.status).toBe('SUCCEEDED');
    const states = dedupe(result.states);
    expect(states).toEqual(
      expect.arrayContaining([
        'Switch traffic',
        'Bake and production hook',
        'Start production hook',
        'Production hook',
        'Wait for production hook',
        'Check new live color',
        'Bake passed',
        'Production hook passed',
        'Bake and production hook passed',
        'Finish',
        'Outcome published?',
        'Released',
      ]),
    );
    expect(states.indexOf('Bake and production hook passed')).toBeLessThan(states.indexOf('Finish'));
    // The production hook ran while production traffic was all on the new color.
    expect(world.hookFunctions.callsOf('afterShift').map((c) => [c.color, c.attempt])).toEqual([
      ['green', 1],
      ['green', 2],
    ]);
    expect(answers(result).map((a) => [a.hook, a.status, a.functionArn])).toEqual([
      ['beforeDeploy', 'SUCCEEDED', HOOK_ARNS.beforeDeploy],
      ['afterShift', 'IN_PROGRESS', HOOK_ARNS.afterShift],
      ['afterShift', 'SUCCEEDED', HOOK_ARNS.afterShift],
    ]);
    // The bake's own state came through the Parallel too.
    expect(result.output?.release?.watch?.checks).toBeGreaterThan(0);
    expect(world.record.liveColor).toBe('green');
    expect(world.hookFunctions.callsOf('onRollback')).toEqual([]);
    expectCleanEnding(world, 'SUCCEEDED');
  });

  test('after a gradual shift, it starts only once the final promotion put all traffic on the new color', async () => {
    const world = worldWith('good', { beforeDeploy: [ok()], afterShift: [ok('smoke suite passed')] });
    const trafficAtCall: string[] = [];
    world.hookFunctions.onCall = (r) => {
      if (r.hook === 'afterShift') {
        trafficAtCall.push(world.liveTarget() ?? 'split');
      }
    };
    const result = await runRelease(
      world,
      { image: V2, strategy: { type: 'linear', stepPercent: 50, bakeSeconds: 120 } },
      { hooks: true, settings: { analysis: ANALYSIS } },
    );

    expect(result.status).toBe('SUCCEEDED');
    const states = dedupe(result.states);
    expect(states.indexOf('Shift traffic')).toBeLessThan(states.indexOf('Switch traffic'));
    expect(states[states.indexOf('Switch traffic') + 1]).toBe('Bake and production hook');
    expect(trafficAtCall).toEqual(['green']);
    expect(
      answers(result)
        .filter((a) => a.hook === 'afterShift')
        .map((a) => a.status),
    ).toEqual(['SUCCEEDED']);
  });

  test('FAILED during the bake → rolled back (ProductionHookFailed), traffic on the old color', async () => {
    const world = worldWith('good', {
      beforeDeploy: [ok()],
      afterShift: [failed('checkout returns 500 for EUR carts')],
      onRollback: [ok('on-call paged')],
    });
    const result = await release(world);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RolledBack');
    expect(result.cause).toContain('ProductionHookFailed');
    expect(result.cause).toContain('checkout returns 500 for EUR carts');
    expect(dedupe(result.states)).toEqual(
      expect.arrayContaining(['Production hook failed', 'Roll back', 'Rolled back']),
    );
    expect(result.states).not.toContain('Finish');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expectCleanEnding(world, 'ROLLED_BACK');
  });

  test('a watch failure while the hook is IN_PROGRESS rolls back at once', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({ suite: 'long' }, 300)],
      onRollback: [ok()],
    });
    // Where production traffic was at each call of the production hook.
    const trafficAtCall: string[] = [];
    world.hookFunctions.onCall = (r) => {
      if (r.hook === 'afterShift') {
        trafficAtCall.push(world.liveTarget() ?? 'split');
      }
    };
    const result = await release(world);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RolledBack');
    expect(result.cause).toContain('UnhealthyAfterSwitch');
    // The hook was still in progress (no final answer, far from its 600 s timeout) when the watch failed, and
    // the branch stopped with it: every call came before the rollback moved traffic back.
    expect(trafficAtCall.length).toBeGreaterThan(0);
    expect(trafficAtCall.every((t) => t === 'green')).toBe(true);
    expect(result.states).not.toContain('Production hook passed');
    expect(result.states).not.toContain('Production hook failed');
    expect(branchStatesAfterRollBack(result)).toEqual([]);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expectCleanEnding(world, 'ROLLED_BACK');
  });
});

describe('production hook: what a failed branch knew reaches Roll back', () => {
  /** The release Roll back left (the input of the step after it, "Report rollback"). */
  const rolledBackRelease = (result: ExecutionResult) => {
    expect(result.lastInput?.unpublished).toBeDefined();
    return result.lastInput!.release!;
  };
  const noBlob = (cause: string | undefined) => {
    expect(cause).not.toContain('[bluegreen carried');
    expect(cause).not.toMatch(/[{[]"/);
  };

  test("IN_PROGRESS then FAILED: after Roll back the release has the hook's answers; the cause is a sentence", async () => {
    const world = worldWith('good', {
      beforeDeploy: [ok('admitted')],
      afterShift: [inProgress({ suite: 1 }), failed('checkout returns 500 for EUR carts')],
      onRollback: [ok('paged')],
    });
    const result = await release(world);

    expect(result.error).toBe('RolledBack');
    expect(dedupe(result.states)).toEqual(
      expect.arrayContaining(['Carry production hook answers', 'Production hook failed', 'Roll back']),
    );
    const hooks = rolledBackRelease(result).hooks ?? [];
    expect(hooks.map((a) => [a.hook, a.status, a.attempt])).toEqual([
      ['beforeDeploy', 'SUCCEEDED', 1],
      ['afterShift', 'IN_PROGRESS', 1],
      ['afterShift', 'FAILED', 2],
      ['onRollback', 'SUCCEEDED', 1],
    ]);
    expect(result.cause).toMatch(
      /^ProductionHookFailed: The production hook .* answered FAILED after 2 calls: checkout returns 500 for EUR carts\. Rolled back: all traffic is on blue again/,
    );
    noBlob(result.cause);
    noBlob(world.published[0].cause);
    expect(world.published[0].cause).toContain('ProductionHookFailed: The production hook');
    expectCleanEnding(world, 'ROLLED_BACK');
  });

  test("the production hook's step fails after its retries: HookStepFailed rolls back, with the answers so far", async () => {
    const world = worldWith('good', { beforeDeploy: [ok()], afterShift: [ok()], onRollback: [ok()] });
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        lambdaFailures: {
          'Production hook': { name: 'Lambda.Unknown', message: 'The cause could not be determined' },
        },
      },
    );

    expect(result.error).toBe('RolledBack');
    expect(result.cause).toContain(
      "HookStepFailed: The production hook's step failed after its retries (Lambda.Unknown: The cause could not " +
        'be determined), so the hook (release.hooks.afterShift) gave no answer while the new color took all ' +
        'traffic. The release rolls back to the old color.',
    );
    noBlob(result.cause);
    expect(dedupe(result.states)).toEqual(
      expect.arrayContaining([
        'Production hook step failed',
        'Production hook step error',
        'Name production hook step failure',
        'Production hook answered?',
        'Carry production hook answers',
        'Roll back',
      ]),
    );
    expect(rolledBackRelease(result).hooks?.map((a) => a.hook)).toEqual(['beforeDeploy', 'onRollback']);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expectCleanEnding(world, 'ROLLED_BACK');
  });

  test("the bake fails while the hook is IN_PROGRESS: after Roll back the release has the bake's progress", async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({ suite: 'long' }, 300)],
      onRollback: [ok()],
    });
    // Without a version check: aws-local-stepfunctions strips every backslash from an intrinsic's result, so a
    // carried string with quotes in it ("v2") is not JSON locally (in AWS it is); the carried part is then left
    // out (takeCarried), never shown.
    const result = await runRelease(
      world,
      { image: V2 },
      { hooks: true, settings: { smokeChecks: [{ ...SETTINGS.smokeChecks[0] }] } },
    );

    expect(result.error).toBe('RolledBack');
    expect(result.cause).toMatch(/^UnhealthyAfterSwitch: green .* failed during the bake, check 3: /);
    expect(dedupe(result.states)).toEqual(expect.arrayContaining(['Carry bake progress', 'Bake failed']));
    // The failing check threw; the two checks before it are the progress the bake branch carried.
    expect(rolledBackRelease(result).watch).toMatchObject({ checks: 2, consecutiveFailures: 2 });
    noBlob(result.cause);
    noBlob(world.published[0].cause);
    expectCleanEnding(world, 'ROLLED_BACK');
  });
});

describe('rollback hook (onRollback)', () => {
  test('called once after traffic went back; its answer is in the published cause', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({})],
      onRollback: [ok('incident INC-42 opened')],
    });
    const result = await release(world);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RolledBack');
    const rollbackCalls = world.hookFunctions.callsOf('onRollback');
    expect(rollbackCalls).toHaveLength(1);
    expect(rollbackCalls[0]).toMatchObject({ color: 'green', liveColor: 'blue', attempt: 1 });
    const tail = fromRollBack(result);
    expect(branchStatesAfterRollBack(result)).toEqual([]);
    expect(tail).toEqual([
      'Roll back',
      'Start rollback hook',
      'Rollback hook',
      'Rollback hook done?',
      'Report rollback',
      'Rolled back',
    ]);
    const said = `The rollback hook ${HOOK_ARNS.onRollback} answered SUCCEEDED after 1 call: incident INC-42 opened.`;
    expect(result.cause).toContain(said);
    expect(world.published).toHaveLength(1);
    expect(world.published[0].cause).toContain(said);
    expectCleanEnding(world, 'ROLLED_BACK');
  });

  test.each<[string, HookCall[], RegExp]>([
    ['hangs', ['hang'], /answered ERROR after 1 call: the hook .* did not answer within 0 s/],
    [
      'throws',
      [{ throws: 'pager API down' }],
      /answered ERROR after 1 call: the hook .* failed \(Unhandled\): .*pager API down/,
    ],
    [
      'answers nonsense',
      [{ returns: 'done!' }],
      /answered ERROR after 1 call: the hook answered "done!", not \{"status"/,
    ],
  ])(
    'a rollback hook that %s: still ROLLED_BACK, lock free, outcome published with why',
    async (_, calls, why) => {
      const world = worldWith('fails-after-switch', {
        beforeDeploy: [ok()],
        afterShift: [inProgress({})],
        onRollback: calls,
      });
      const result = await release(world);

      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('RolledBack');
      expect(result.cause).toMatch(why);
      expect(world.published[0].cause).toMatch(why);
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expectCleanEnding(world, 'ROLLED_BACK');
    },
  );

  test('a rollback hook step that fails outright: the report still runs, with why', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({})],
      onRollback: [ok()],
    });
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        lambdaFailures: {
          'Rollback hook': { name: 'Sandbox.Timedout', message: 'Task timed out after 900 s' },
        },
      },
    );

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RolledBack');
    expect(result.cause).toContain(
      "The rollback hook's step failed (Sandbox.Timedout: Task timed out after 900 s)",
    );
    expectCleanEnding(world, 'ROLLED_BACK');
  });
});

describe('every ending stays clean around the rollback hook', () => {
  const TIMED_OUT = { name: 'Sandbox.Timedout', message: 'Task timed out after 900.00 seconds' };

  test('"Report rollback" itself fails: the Stopped step frees the lock, lets scaling act, publishes ROLLED_BACK', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({})],
      onRollback: [ok('paged')],
    });
    const result = await runRelease(
      world,
      { image: V2 },
      { hooks: true, lambdaFailures: { 'Report rollback': TIMED_OUT } },
    );
    expect(result.status).toBe('FAILED');
    expect(result.states[result.states.length - 1]).toBe('Rolled back (report failed)');
    // Traffic went back before the hook; the lock and the publication waited for the report.
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.lock?.owner).toBe('release-1');
    expect(world.published).toEqual([]);

    const { outcome } = await stopped(endingOf(result), world.deps(), { ...SETTINGS, hooks: HOOK_SETTINGS });
    expectCleanEnding(world, 'ROLLED_BACK');
    expect(outcome.cause).toContain('ended FAILED in "Rolled back (report failed)"');
    // Why it rolled back is not lost with the report: the Roll back step's outcome leads the cause.
    expect(outcome.error).toBe('RolledBack');
    expect(outcome.cause).toMatch(/^UnhealthyAfterSwitch: .* Rolled back: all traffic is on blue again/);
  });

  test('scaling acts again as soon as traffic is back, not only once the rollback hook answered', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({})],
      onRollback: [inProgress({ paging: true }), ok('paged')],
    });
    const heldWhenCalled: boolean[] = [];
    world.hookFunctions.onCall = (r) => {
      if (r.hook === 'onRollback') {
        heldWhenCalled.push(world.capacityHeld);
      }
    };
    const result = await release(world);

    expect(result.error).toBe('RolledBack');
    // Both calls of the rollback hook found scaling acting; the lock waited for the report.
    expect(heldWhenCalled).toEqual([false, false]);
    expectCleanEnding(world, 'ROLLED_BACK');
  });

  test('the execution times out while the rollback hook runs: the Stopped step ends it clean', async () => {
    const world = worldWith('fails-after-switch', {
      beforeDeploy: [ok()],
      afterShift: [inProgress({})],
      onRollback: [inProgress({ paging: true })],
    });
    let hookCalled = false;
    world.hookFunctions.onCall = (r) => void (hookCalled ||= r.hook === 'onRollback');
    const result = await runRelease(
      world,
      { image: V2 },
      {
        hooks: true,
        stopWhen: () =>
          hookCalled
            ? { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution timed out' }
            : undefined,
      },
    );
    expect(result.status).toBe('TIMED_OUT');
    expect(result.states).not.toContain('Report rollback');
    expect(world.lock?.owner).toBe('release-1');

    const { outcome } = await stopped(endingOf(result), world.deps(), { ...SETTINGS, hooks: HOOK_SETTINGS });
    // The rollback had moved traffic back before the hook ran: a rollback, not a stop "with no rollback".
    expect(outcome.status).toBe('ROLLED_BACK');
    expectCleanEnding(world, 'ROLLED_BACK');
    expect(outcome.error).toBe('RolledBack');
    expect(outcome.cause).toMatch(/^UnhealthyAfterSwitch: .* Rolled back: all traffic is on blue again/);
    expect(outcome.cause).toContain('The rollback hook did not finish: release release-1 ended TIMED_OUT in');
    expect(outcome.cause).not.toContain('no rollback');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
  });
});

describe('the template with hooks (CDK assertions)', () => {
  const ADMISSION = HOOK_ARNS.beforeDeploy;
  const synthesized = synth({ release: { hooks: HOOKS_CONFIG } });
  const { serviceJson, stacks } = synthesized;
  const invokersOf = (template: CfnTemplate, arn: string) =>
    Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter(([, p]) =>
        (
          p.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
        ).Statement.some(
          (st) =>
            [st.Action].flat().includes('lambda:InvokeFunction') && JSON.stringify(st.Resource).includes(arn),
        ),
      )
      .map(([id]) => id);

  test('only the hook step may invoke the hook functions, and only those', () => {
    for (const arn of Object.values(HOOK_ARNS)) {
      expect(invokersOf(serviceJson, arn)).toEqual([expect.stringMatching(/^ReleaseWorkflowStepsHookRole/)]);
    }
    const statements = Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('ReleaseWorkflowStepsHookRole'))
      .flatMap(
        ([, p]) => (p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      );
    const invoke = statements.filter((st) => [st.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect([invoke[0].Resource].flat().sort()).toEqual(Object.values(HOOK_ARNS).sort());
    // Nothing else but its own logs and tracing.
    expect(statements.flatMap((st) => [st.Action].flat()).sort()).toEqual(
      [
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  test("the hook functions travel in the hook step's environment only; their timings to the steps that read them", () => {
    const settingsOf = (step: string) => {
      const fn = stacks.service.workflow.functions[step as 'hook']!;
      const env = stacks.service.resolve((fn.node.defaultChild as CfnFunction).environment) as {
        variables: Record<string, unknown>;
      };
      return JSON.stringify(stacks.service.resolve(env.variables.BLUEGREEN_SETTINGS));
    };
    expect(settingsOf('hook')).toContain(ADMISSION);
    const timings = '\\"onRollback\\":{\\"timeoutSeconds\\":600,\\"pollSeconds\\":30}';
    expect(settingsOf('hook')).toContain(timings);
    // Only the steps that read them get the timings: Prepare (the budget), Roll back (the hook after it).
    for (const step of ['prepare', 'rollback']) {
      expect(settingsOf(step)).not.toContain(ADMISSION);
      expect(settingsOf(step)).toContain(timings);
    }
    for (const step of ['watch', 'validate', 'finish', 'stopped']) {
      expect(settingsOf(step)).not.toContain(ADMISSION);
      expect(settingsOf(step)).not.toContain('onRollback');
    }
  });

  test('the states read well in the console, where each hook runs', () => {
    const { definition } = compiledWorkflowOf({ release: { hooks: HOOKS_CONFIG } });
    const states = definition.States as Record<string, { Type: string; Next?: string; Branches?: unknown[] }>;
    expect(states.Prepare.Next).toBe('Start admission hook');
    expect(states['Switch traffic'].Next).toBe('Bake and production hook');
    expect(states['Roll back'].Next).toBe('Start rollback hook');
    const parallel = states['Bake and production hook'] as unknown as {
      Branches: { StartAt: string; States: Record<string, unknown> }[];
      Catch: { Next: string }[];
    };
    expect(parallel.Branches.map((b) => [b.StartAt, Object.keys(b.States).sort()])).toEqual([
      [
        'Bake: wait',
        [
          'Bake done?',
          'Bake failed',
          'Bake passed',
          'Bake: wait',
          'Carry bake progress',
          'Check new live color',
        ],
      ],
      [
        'Start production hook',
        [
          'Carry production hook answers',
          'Name production hook step failure',
          'Production hook',
          'Production hook answered?',
          'Production hook done?',
          'Production hook failed',
          'Production hook failed (no answer)',
          'Production hook passed',
          'Production hook step error',
          'Production hook step error (Lambda)',
          'Production hook step failed',
          'Start production hook',
          'Wait for production hook',
        ],
      ],
    ]);
    expect(parallel.Catch.map((c) => c.Next)).toEqual(['Roll back']);
    const all = [...Object.keys(states), ...parallel.Branches.flatMap((b) => Object.keys(b.States))];
    expect(HOOK_STATES.filter((s) => !all.includes(s))).toEqual([]);
  });

  test('only the hooks configured get states and grants', () => {
    const onlyRollback = synth({ release: { hooks: { onRollback: HOOKS_CONFIG.onRollback } } });
    expect(invokersOf(onlyRollback.serviceJson, HOOK_ARNS.onRollback)).toHaveLength(1);
    expect(invokersOf(onlyRollback.serviceJson, ADMISSION)).toEqual([]);
    const { definition } = compiledWorkflowOf({
      release: { hooks: { onRollback: HOOKS_CONFIG.onRollback } },
    });
    const names = Object.keys(definition.States);
    expect(names).toContain('Rollback hook');
    expect(names).not.toContain('Admission hook');
    expect(names).not.toContain('Bake and production hook');
    expect((definition.States as Record<string, { Next?: string }>)['Switch traffic'].Next).toBe(
      'Bake: wait',
    );
  });
});
