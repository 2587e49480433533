/** The hook step's core (lambda/workflow/hooks.ts) and the contract's pure parts (lambda/shared/hook-contract.ts). */
import {
  appendAnswer,
  hookBudget,
  MAX_ANSWERS_PER_HOOK,
  nextDelaySeconds,
  parseHookReply,
  MAX_SUMMARY,
  MAX_KEPT_SUMMARY,
  type LifecycleHookReply,
  type LifecycleHookRequest,
} from '../../../lambda/shared/hook-contract';
import type { HookAnswer, ReleaseState } from '../../../lambda/shared/release';
import { callHook, rollbackHookSaid } from '../../../lambda/workflow/hooks';
import { REPO } from '../../support/fake-world';
import { aRelease } from '../../support/release-fixture';
import { SETTINGS } from '../../support/run-workflow';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-production-tests';
const HOOKS = { afterShift: { timeoutSeconds: 120, pollSeconds: 30 } };

function state(hook: ReleaseState['hook']): ReleaseState {
  return aRelease({ before: 'shop-green:3', release: 'shop-green:4' }, { hook });
}

/** A port that answers `replies` in order, and a clock that moves only when told. */
function world(replies: Omit<LifecycleHookReply, 'functionArn'>[]) {
  let clock = Date.parse('2026-11-26T10:00:00Z');
  const calls: { request: LifecycleHookRequest; deadline: Date }[] = [];
  const deps = {
    now: () => new Date(clock),
    lifecycleHooks: {
      invoke: (request: LifecycleHookRequest, deadline: Date) => {
        calls.push({ request, deadline });
        return Promise.resolve({ functionArn: ARN, ...replies[calls.length - 1] });
      },
    },
  };
  return { deps, calls, advance: (seconds: number) => void (clock += seconds * 1000) };
}

const settings = { ...SETTINGS, hooks: HOOKS };

test('IN_PROGRESS: its details and delay for the next call; the deadline is set once, by the first call', async () => {
  const w = world([
    { status: 'IN_PROGRESS', summary: 'suite 1/3', details: { suite: 1 }, callbackDelaySeconds: 2 },
    { status: 'SUCCEEDED', summary: 'all green' },
  ]);
  const first = await callHook(state({ name: 'afterShift', attempt: 0 }), w.deps, settings);
  expect(first.hook).toEqual({
    name: 'afterShift',
    attempt: 1,
    status: 'IN_PROGRESS',
    deadline: '2026-11-26T10:02:00.000Z',
    details: { suite: 1 },
    waitSeconds: 5, // its 2 s clamped to the 5 s minimum
  });
  w.advance(5);
  const second = await callHook(first, w.deps, settings);
  expect(w.calls[1].request).toMatchObject({ attempt: 2, details: { suite: 1 } });
  expect(w.calls[1].deadline.toISOString()).toBe('2026-11-26T10:02:00.000Z');
  expect(second.hook).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
  expect(second.hook?.failure).toBeUndefined();
  expect(second.release?.hooks?.map((a) => [a.hook, a.functionArn, a.status, a.summary, a.attempt])).toEqual([
    ['afterShift', ARN, 'IN_PROGRESS', 'suite 1/3', 1],
    ['afterShift', ARN, 'SUCCEEDED', 'all green', 2],
  ]);
});

test('the wait never passes the deadline, and a call due after it is not made: TIMED_OUT', async () => {
  const w = world([
    { status: 'IN_PROGRESS', summary: 'suite 1' },
    { status: 'IN_PROGRESS', summary: 'slow suite' },
  ]);
  const first = await callHook(state({ name: 'afterShift', attempt: 0 }), w.deps, settings);
  expect(first.hook?.waitSeconds).toBe(30);
  w.advance(100);
  const second = await callHook(first, w.deps, settings);
  // 20 s left before the deadline: the next wait is 20 s, not the poll's 30.
  expect(second.hook).toMatchObject({ status: 'IN_PROGRESS', attempt: 2, waitSeconds: 20 });
  w.advance(20);
  const late = await callHook(second, w.deps, settings);
  expect(w.calls).toHaveLength(2);
  expect(late.hook).toMatchObject({ status: 'TIMED_OUT', attempt: 2 });
  expect(late.hook?.failure).toEqual({
    Error: 'ProductionHookFailed',
    Cause: expect.stringContaining(
      'answered TIMED_OUT after 2 calls: no final answer within its timeout of 120 s ' +
        '(release.hooks.afterShift.timeoutSeconds); its last answer said: slow suite',
    ),
  });
  expect(late.release?.hooks?.map((a) => a.status)).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'TIMED_OUT']);
});

test('waits are clamped: at most 300 s, at least 5 s, and never past the deadline', async () => {
  expect(nextDelaySeconds({ callbackDelaySeconds: 3600 }, HOOKS.afterShift)).toBe(300);
  expect(nextDelaySeconds({ callbackDelaySeconds: 0 }, HOOKS.afterShift)).toBe(5);
  const w = world([{ status: 'IN_PROGRESS', summary: '', callbackDelaySeconds: 300 }]);
  const out = await callHook(state({ name: 'afterShift', attempt: 0 }), w.deps, settings);
  expect(out.hook?.waitSeconds).toBe(120);
});

test('FAILED and ERROR answers of the admission and production hooks carry named errors; the rollback hook none', async () => {
  const hooks = {
    beforeDeploy: { timeoutSeconds: 60, pollSeconds: 5 },
    onRollback: { timeoutSeconds: 60, pollSeconds: 5 },
  };
  const admission = await callHook(
    state({ name: 'beforeDeploy', attempt: 0 }),
    world([{ status: 'FAILED', summary: '3 critical CVEs' }]).deps,
    { ...SETTINGS, hooks },
  );
  expect(admission.hook?.failure).toEqual({
    Error: 'AdmissionRefused',
    Cause: `The admission hook ${ARN} did not admit ${REPO}:v2: FAILED after 1 call: 3 critical CVEs. Nothing was registered or deployed and traffic never moved; fix what the hook reports, then release again.`,
  });
  const rollback = await callHook(
    state({ name: 'onRollback', attempt: 0 }),
    world([{ status: 'ERROR', summary: 'the hook answered "ok", not ...' }]).deps,
    { ...SETTINGS, hooks },
  );
  expect(rollback.hook).toMatchObject({ status: 'ERROR' });
  expect(rollback.hook?.failure).toBeUndefined();
  expect(rollbackHookSaid(rollback)).toBe(
    `The rollback hook ${ARN} answered ERROR after 1 call: the hook answered "ok", not ....`,
  );
  expect(
    rollbackHookSaid({ ...rollback, hookFailure: { Error: 'Sandbox.Timedout', Cause: 'Task timed out' } }),
  ).toBe("The rollback hook's step failed (Sandbox.Timedout: Task timed out); the rollback stands.");
});

test('at most the last 20 answers per hook are kept, oldest first', () => {
  const answer = (hook: HookAnswer['hook'], attempt: number): HookAnswer => ({
    hook,
    functionArn: ARN,
    status: 'IN_PROGRESS',
    summary: '',
    attempt,
    at: '2026-11-26T10:00:00Z',
  });
  let answers: HookAnswer[] = [answer('beforeDeploy', 1)];
  for (let i = 1; i <= 30; i++) {
    answers = appendAnswer(answers, answer('afterShift', i));
  }
  expect(answers).toHaveLength(1 + MAX_ANSWERS_PER_HOOK);
  expect(answers[0].hook).toBe('beforeDeploy');
  expect(answers.slice(1).map((a) => a.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
});

test("the hooks' budget: admission + what the production hook adds beyond the bake + rollback; 5 s loops", () => {
  expect(hookBudget(undefined, 300)).toEqual({ seconds: 0, loops: 0 });
  const all = {
    beforeDeploy: { timeoutSeconds: 600, pollSeconds: 30 },
    afterShift: { timeoutSeconds: 600, pollSeconds: 30 },
    onRollback: { timeoutSeconds: 60, pollSeconds: 30 },
  };
  expect(hookBudget(all, 300)).toEqual({ seconds: 600 + 300 + 60, loops: 121 + 121 + 13 });
  expect(hookBudget(all, 900).seconds).toBe(600 + 0 + 60);
});

test('the production hook is not called again once the bake is over: still IN_PROGRESS then fails the release, so production is never left unwatched', async () => {
  const w = world([
    { status: 'IN_PROGRESS', summary: 'suite 1/3', details: { suite: 1 }, callbackDelaySeconds: 30 },
    { status: 'SUCCEEDED', summary: 'never asked' },
  ]);
  // The switch set the bake's end: 60 s from now; the hook's own timeout (120 s) is longer.
  const baking = state({ name: 'afterShift', attempt: 0 });
  const withBake: ReleaseState = {
    ...baking,
    release: {
      ...baking.release!,
      watch: { until: '2026-11-26T10:01:00.000Z', checks: 0, consecutiveFailures: 0 },
    },
  };
  const first = await callHook(withBake, w.deps, settings);
  expect(first.hook?.status).toBe('IN_PROGRESS');

  w.advance(61); // past the bake's end, within the hook's timeout
  const second = await callHook(first, w.deps, settings);
  expect(w.calls).toHaveLength(1);
  expect(second.hook?.status).toBe('TIMED_OUT');
  expect(second.hook?.failure?.Error).toBe('ProductionHookFailed');
  expect(second.release?.hooks?.at(-1)?.summary).toContain('no final answer by the end of the bake');
  expect(second.release?.hooks?.at(-1)?.summary).toContain('its last answer said: suite 1/3');
});

test("a production hook call still running at the bake's end is abandoned then (not at the hook's deadline): TIMED_OUT with the bake's sentence", async () => {
  let clock = Date.parse('2026-11-26T10:00:00Z');
  const deadlines: string[] = [];
  // A hook that never answers: the call returns when its deadline comes (as the adapter abandons it), TIMED_OUT.
  const deps = {
    now: () => new Date(clock),
    lifecycleHooks: {
      invoke: (_request: LifecycleHookRequest, deadline: Date): Promise<LifecycleHookReply> => {
        deadlines.push(deadline.toISOString());
        clock = deadline.getTime();
        return Promise.resolve({
          functionArn: ARN,
          status: 'TIMED_OUT',
          summary: 'did not answer before its timeout',
        });
      },
    },
  };
  // The bake ends 60 s from now; the hook's own timeout (120 s) is later.
  const baking = state({ name: 'afterShift', attempt: 0 });
  const withBake: ReleaseState = {
    ...baking,
    release: {
      ...baking.release!,
      watch: { until: '2026-11-26T10:01:00.000Z', checks: 0, consecutiveFailures: 0 },
    },
  };
  const out = await callHook(withBake, deps, settings);
  expect(deadlines).toEqual(['2026-11-26T10:01:00.000Z']);
  expect(out.hook).toMatchObject({ status: 'TIMED_OUT', deadline: '2026-11-26T10:02:00.000Z' });
  expect(out.hook?.failure?.Error).toBe('ProductionHookFailed');
  expect(out.release?.hooks?.at(-1)?.summary).toContain('no final answer by the end of the bake');

  // Without a bake (the admission hook), or with the bake ending after the hook's deadline: the hook's deadline.
  deadlines.length = 0;
  clock = Date.parse('2026-11-26T10:00:00Z');
  const longBake: ReleaseState = {
    ...withBake,
    release: {
      ...withBake.release!,
      watch: { ...withBake.release!.watch!, until: '2026-11-26T10:05:00.000Z' },
    },
  };
  await callHook(longBake, deps, settings);
  expect(deadlines).toEqual(['2026-11-26T10:02:00.000Z']);
});

test("after IN_PROGRESS the next call comes by the bake's end at the latest", async () => {
  const w = world([{ status: 'IN_PROGRESS', summary: 'suite 1/3', callbackDelaySeconds: 300 }]);
  const baking = state({ name: 'afterShift', attempt: 0 });
  const withBake: ReleaseState = {
    ...baking,
    release: {
      ...baking.release!,
      watch: { until: '2026-11-26T10:00:40.000Z', checks: 0, consecutiveFailures: 0 },
    },
  };
  const out = await callHook(withBake, w.deps, settings);
  expect(w.calls[0].deadline.toISOString()).toBe('2026-11-26T10:00:40.000Z');
  expect(out.hook?.waitSeconds).toBe(40);
});

test('summaries are kept short and printable: control characters as spaces, no half surrogate pair at the cut', () => {
  const reply = parseHookReply(
    ARN,
    JSON.stringify({ status: 'FAILED', summary: `a\u0000b\nc${'x'.repeat(1000)}` }),
  );
  expect(reply.summary).toHaveLength(MAX_SUMMARY);
  expect(reply.summary.startsWith('a b c')).toBe(true);
  const emoji = parseHookReply(
    ARN,
    JSON.stringify({ status: 'FAILED', summary: `${'x'.repeat(MAX_SUMMARY - 1)}😀` }),
  );
  expect(emoji.summary).toBe('x'.repeat(MAX_SUMMARY - 1));
  // What bluegreen writes itself (ERROR, TIMED_OUT) is kept to MAX_KEPT_SUMMARY.
  const long = appendAnswer([], {
    hook: 'afterShift',
    functionArn: ARN,
    status: 'ERROR',
    summary: 'y'.repeat(2000),
    attempt: 1,
    at: '2026-11-26T10:00:00Z',
  });
  expect(long[0].summary).toHaveLength(MAX_KEPT_SUMMARY);
});
