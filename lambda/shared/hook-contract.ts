/**
 * The lifecycle hooks' contract (config `release.hooks`), the one ECS's built-in lifecycle hooks use: the user's
 * Lambda gets a request, answers SUCCEEDED, FAILED or IN_PROGRESS (called again after a delay, with the details it
 * returned, until the hook's timeout). Pure: the AWS adapter (adapters/lifecycle-hook.ts), the tests' world and
 * the workflow core (workflow/hooks.ts) share it.
 */
import type { HookAnswer, HookName } from './release';
import type { Color } from './release-record';

/** Each hook's timing (config `release.hooks.<hook>`, without its ARN, which only the hook step gets). */
export interface HookTiming {
  /** How long the hook may take, all its calls and waits together. */
  readonly timeoutSeconds: number;
  /** Time between two calls after IN_PROGRESS (unless the hook's callbackDelaySeconds says otherwise). */
  readonly pollSeconds: number;
}

export type HookTimings = Readonly<Partial<Record<HookName, HookTiming>>>;

export const HOOK_NAMES: readonly HookName[] = ['beforeDeploy', 'afterShift', 'onRollback'];

/** What the user's Lambda receives. */
export interface LifecycleHookRequest {
  readonly hook: HookName;
  readonly app: string;
  /** The release id (the execution's name). */
  readonly release: string;
  readonly image: string;
  readonly version: string;
  /** The color being released to. */
  readonly color: Color;
  /** The color live when the release started. */
  readonly liveColor: Color;
  readonly productionUrl: string;
  readonly testUrl: string;
  /** 1-based call number. */
  readonly attempt: number;
  /** What the hook returned with its last IN_PROGRESS answer (absent on the first call). */
  readonly details?: unknown;
}

/** A hook call's answer as the workflow reads it: the hook's own, or ERROR / TIMED_OUT when it gave none. */
export interface LifecycleHookReply {
  readonly functionArn: string;
  readonly status: HookAnswer['status'];
  readonly summary: string;
  readonly details?: unknown;
  readonly callbackDelaySeconds?: number;
}

/** The largest `details` a hook may return (it travels in the state, which Step Functions caps at 256 KB). */
export const MAX_DETAILS_BYTES = 8 * 1024;
/** The range a hook's callbackDelaySeconds is clamped to. */
export const CALLBACK_DELAY_SECONDS = { min: 5, max: 300 } as const;
/** At most this many answers per hook are kept in the release (the oldest go first): the state stays small. */
export const MAX_ANSWERS_PER_HOOK = 20;
/**
 * A hook's summary is kept to this many characters; with the summaries bluegreen writes (ERROR, TIMED_OUT: at most
 * MAX_KEPT_SUMMARY), the answers of 3 hooks stay well inside the state's 256 KB, and the production hook's branch
 * can carry the release's answers in an error cause (at most 32,768 characters) when it fails
 * (test/workflow-hooks-limits.test.ts measures both).
 */
export const MAX_SUMMARY = 200;
/** Any answer's summary, as kept in the release (a hook's own, or what bluegreen wrote for ERROR or TIMED_OUT). */
export const MAX_KEPT_SUMMARY = 600;

const EXPECTED =
  '{"status": "SUCCEEDED" | "FAILED" | "IN_PROGRESS", "summary"?: string, "details"?: JSON up to 8 KB, ' +
  '"callbackDelaySeconds"?: number}';

/**
 * Reads what the hook function returned (its payload as text; `functionError` when Lambda reports one). Anything
 * but a valid answer is an ERROR answer whose summary says what arrived.
 */
export function parseHookReply(
  functionArn: string,
  text: string,
  functionError?: string,
): LifecycleHookReply {
  const error = (summary: string): LifecycleHookReply => ({ functionArn, status: 'ERROR', summary });
  if (functionError) {
    return error(`the hook ${functionArn} failed (${functionError}): ${text.slice(0, 300)}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return error(
      `the hook answered ${JSON.stringify(text.slice(0, 200))}, which is not JSON; expected ${EXPECTED}`,
    );
  }
  const a = answer as Record<string, unknown> | null;
  const status = a && typeof a === 'object' && !Array.isArray(a) ? a.status : undefined;
  if (status !== 'SUCCEEDED' && status !== 'FAILED' && status !== 'IN_PROGRESS') {
    return error(`the hook answered ${text.slice(0, 200)}, not ${EXPECTED}`);
  }
  const fields = a as Record<string, unknown>;
  if (fields.summary !== undefined && typeof fields.summary !== 'string') {
    return error(`the hook's summary must be a string (got ${JSON.stringify(fields.summary).slice(0, 100)})`);
  }
  const delay = fields.callbackDelaySeconds;
  if (delay !== undefined && (typeof delay !== 'number' || !Number.isFinite(delay))) {
    return error(
      `the hook's callbackDelaySeconds must be a number of seconds (got ${JSON.stringify(delay)})`,
    );
  }
  const details = fields.details;
  if (details !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(details));
    if (size > MAX_DETAILS_BYTES) {
      return error(`the hook's details are ${size} bytes, over the ${MAX_DETAILS_BYTES} allowed`);
    }
  }
  const summary = typeof fields.summary === 'string' ? tidySummary(fields.summary, MAX_SUMMARY) : '';
  return {
    functionArn,
    status,
    summary,
    ...(details !== undefined ? { details } : {}),
    ...(typeof delay === 'number' ? { callbackDelaySeconds: delay } : {}),
  };
}

/** How long to wait before the next call after IN_PROGRESS: the hook's own delay (clamped) or the poll interval. */
export function nextDelaySeconds(
  reply: Pick<LifecycleHookReply, 'callbackDelaySeconds'>,
  timing: HookTiming,
) {
  const asked = reply.callbackDelaySeconds ?? timing.pollSeconds;
  return Math.min(CALLBACK_DELAY_SECONDS.max, Math.max(CALLBACK_DELAY_SECONDS.min, Math.round(asked)));
}

/**
 * A summary as kept: control characters (which JSON escapes to 6 bytes each) as spaces, at most `max` characters,
 * never ending in half a surrogate pair.
 */
export function tidySummary(summary: string, max = MAX_KEPT_SUMMARY): string {
  const cut = summary
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    // The marker of a carried part (carried-state.ts) never comes from a hook: it would cut the cause short there.
    .replace(/\[bluegreen carried/gi, '(bluegreen carried')
    .slice(0, max);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * `answers` with `answer` appended (its summary tidied: tidySummary), keeping at most the last
 * MAX_ANSWERS_PER_HOOK of each hook.
 */
export function appendAnswer(answers: readonly HookAnswer[], answer: HookAnswer): HookAnswer[] {
  const all = [...answers, { ...answer, summary: tidySummary(answer.summary) }];
  const same = all.filter((a) => a.hook === answer.hook);
  const drop = new Set(same.slice(0, Math.max(0, same.length - MAX_ANSWERS_PER_HOOK)));
  return all.filter((a) => !drop.has(a));
}

/** "SUCCEEDED after 3 calls: 42 tests passed" (for causes and notes). */
export function describeAnswer(answer: Pick<HookAnswer, 'status' | 'summary' | 'attempt'>): string {
  const calls = answer.attempt === 1 ? '1 call' : `${answer.attempt} calls`;
  return `${answer.status} after ${calls}${answer.summary ? `: ${answer.summary}` : ''}`;
}

/**
 * What the hooks may add to a release, for the budget checks: seconds (the admission hook's timeout, the part of
 * the production hook's that outlasts the bake, which runs beside it, and the rollback hook's) and polling loops
 * (a hook may ask to be called every 5 s).
 */
export function hookBudget(
  hooks: HookTimings | undefined,
  bakeSeconds: number,
): { readonly seconds: number; readonly loops: number } {
  if (!hooks) {
    return { seconds: 0, loops: 0 };
  }
  const before = hooks.beforeDeploy?.timeoutSeconds ?? 0;
  const after = hooks.afterShift?.timeoutSeconds ?? 0;
  const rollback = hooks.onRollback?.timeoutSeconds ?? 0;
  const loops = HOOK_NAMES.map((h) => hooks[h])
    .filter((t): t is HookTiming => t !== undefined)
    .reduce((n, t) => n + Math.ceil(t.timeoutSeconds / CALLBACK_DELAY_SECONDS.min) + 1, 0);
  return { seconds: before + Math.max(0, after - bakeSeconds) + rollback, loops };
}
