/**
 * The release as it travels through the state machine: the execution input, the settings the stack gives every
 * step, and the state each step returns. Plain JSON, so Step Functions can carry it and show it.
 */
import type { AnalysisResult, MetricVerdict } from './analysis';
import { CATCH_UP_SECONDS, releaseError } from './errors';
import { hookBudget, type HookTimings } from './hook-contract';
import { splitCarried } from './carried-state';
import type { Promotion, ReleaseOutcome } from './ports';
import type { Color } from './release-record';
import type { RecordedCapacity, ScalingSettings } from './scaling';
import { ALL_AT_ONCE, parseStrategy, shiftBudget, type AnalysisSettings, type Strategy } from './strategy';
import type { TrafficWeights } from './traffic';

export interface ReleaseTimings {
  /** How long the new live color is watched after the switch. */
  readonly bakeSeconds: number;
  /** Time between two checks during the bake. */
  readonly watchIntervalSeconds: number;
  /** Consecutive failed checks that trigger a rollback. */
  readonly failureThreshold: number;
  /** How long the idle color may take to become stable and healthy. */
  readonly deployTimeoutSeconds: number;
  /** Time between two checks of the idle color while it deploys. */
  readonly deployPollSeconds: number;
  /** How long the old color stays warm after a successful bake before it is scaled down. */
  readonly finishDelaySeconds: number;
}

export interface SmokeCheck {
  readonly path: string;
  readonly expectStatus: number;
  /** The response body must contain the release's version. */
  readonly expectVersion: boolean;
  readonly latencyBudgetMs: number;
}

/** What the stack tells every step (the BLUEGREEN_SETTINGS environment variable in AWS). */
export interface WorkflowSettings {
  readonly appName: string;
  /** Images must come from this repository. */
  readonly imageRepository: string;
  readonly productionUrl: string;
  readonly testUrl: string;
  readonly testHeader: string;
  readonly healthPath: string;
  readonly smokeChecks: readonly SmokeCheck[];
  readonly hasValidationHook: boolean;
  /** The idle color keeps the live color's capacity between releases. */
  readonly keepIdleWarm: boolean;
  /** Auto scaling of each color (config `scaling`), when configured: lambda/shared/scaling.ts. */
  readonly scaling?: ScalingSettings;
  /** Upper bound of one release (the state machine's timeout); also the lock's lease. */
  readonly maxReleaseSeconds: number;
  readonly timings: ReleaseTimings;
  /** The manual gate before the switch, when configured. */
  readonly approval?: { readonly timeoutSeconds: number; readonly onTimeout: 'abort' | 'approve' };
  /** Database migration phases (expand, backfill, contract), when configured. */
  readonly migrations?: { readonly timeoutSeconds: number };
  /** The lifecycle hooks configured (`release.hooks`), with their timings (their ARNs: the hook step's only). */
  readonly hooks?: HookTimings;
  /** How traffic moves unless the release says otherwise (`release.strategy`). Absent: all at once. */
  readonly strategy?: Strategy;
  /** The comparative analysis of shift steps (`release.analysis`), with the metrics' timing. */
  readonly analysis?: AnalysisSettings & {
    /** Metric periods (60 s in AWS): windows are whole periods, and a step lasts at least two. */
    readonly periodSeconds: number;
    /** How long after a window ends its metrics are complete. */
    readonly settleSeconds: number;
  };
}

/** One shift step's judgement: what the analysis found and what the workflow did with it. */
export interface StepVerdict {
  /** 1-based step number, and the share of production traffic the new color had. */
  readonly step: number;
  readonly percent: number;
  /** The window judged: whole metric periods while the weights held. */
  readonly window: { readonly start: string; readonly end: string };
  readonly result: AnalysisResult;
  /** Per metric: both colors' values, the test, p-value or ratio, the threshold, the result. */
  readonly metrics: readonly MetricVerdict[];
  /** The user's alarms (and the new color's own) in ALARM during the step. */
  readonly alarms: readonly string[];
  /** What the workflow did: the next step, promote to 100%, bake again, or roll back. */
  readonly action: 'next' | 'promote' | 'extend' | 'rollback';
  /** Dry run: the action a real run would have taken, when it differs (the release went on regardless). */
  readonly wouldHave?: 'rollback' | 'extend';
  /** One line for the console, events and `bluegreen status`. */
  readonly summary: string;
}

/** One check's value beside its threshold, as the console and `bluegreen report` show it. */
export interface CheckResult {
  /** What was checked, e.g. "GET /health", "target health", "validation hook". */
  readonly name: string;
  /** What was observed, e.g. "status 200, 12 ms, version 1.4.2 in the body". */
  readonly value: string;
  /** What it had to be, e.g. "status 200, at most 250 ms, body contains 1.4.2". */
  readonly threshold: string;
  readonly passed: boolean;
}

/** What the validate step found (recorded when the idle color passed; a failure's cause lists the problems). */
export interface ValidationReport {
  readonly at: string;
  readonly checks: readonly CheckResult[];
}

/** The lifecycle hooks a release calls besides the validation hook (config `release.hooks`). */
export type HookName = 'beforeDeploy' | 'afterShift' | 'onRollback';

/** One answer of a lifecycle hook (or of the validation hook), as recorded in the release. */
export interface HookAnswer {
  readonly hook: HookName | 'validation';
  readonly functionArn: string;
  /** The hook's own answer, or TIMED_OUT (no final answer by its deadline) or ERROR (no valid answer at all). */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS' | 'TIMED_OUT' | 'ERROR';
  readonly summary: string;
  /** 1-based call number (IN_PROGRESS answers are followed by another call). */
  readonly attempt: number;
  readonly at: string;
}

/** Where a gradual shift stands (canary and linear only). */
export interface Shift {
  readonly strategy: Strategy;
  /** Each step's share of production traffic to the new color, in order (the final 100% is the switch). */
  readonly steps: readonly number[];
  /** The current step, 0-based; -1 before the first. */
  readonly step: number;
  /** When the first step moved traffic: the new color's alarms since then count against it. */
  readonly startedAt?: string;
  /** The production weights the current step set, and when. */
  readonly weights?: TrafficWeights;
  readonly since?: string;
  /** The current step's window (whole periods): judged once its metrics are complete. */
  readonly window?: { readonly start: string; readonly end: string };
  /** Bakes of the current step repeated because its verdict was inconclusive. */
  readonly extensions: number;
  /** Seconds the next Wait lasts (read by the bake Wait state). */
  readonly waitSeconds: number;
  /** Every step's verdict so far, oldest first. */
  readonly verdicts: readonly StepVerdict[];
  /** `bluegreen promote`: who skipped the remaining steps, and when. */
  readonly promotedBy?: Promotion;
  readonly dryRun: boolean;
}

/** Where a release stands; each step returns it updated. */
export interface Release {
  readonly image: string;
  readonly version: string;
  /** Live when the release started (the old color). */
  readonly live: Color;
  /** Idle when the release started (the color being released to). */
  readonly idle: Color;
  readonly liveCount: number;
  /**
   * What the idle color ran before, to restore it on abort or rollback; with auto scaling, the bounds the record
   * gave it.
   */
  readonly idleBefore: {
    readonly count: number;
    readonly image: string;
    readonly revision?: string;
    readonly capacity?: RecordedCapacity;
  };
  readonly timings: ReleaseTimings;
  readonly startedAt: string;
  readonly startedBy?: string;
  /** Set by the deploy step (by the register step when migrations are configured). */
  readonly revision?: string;
  /** The task definition the migration phases run with (migrations only). */
  readonly migrationTask?: string;
  /**
   * The previous release's contract phase, run at this release's start before anything else changes (it waited
   * for a warm old color, or failed and is tried again).
   */
  readonly pendingContract?: {
    readonly image: string;
    readonly release: string;
    readonly taskDefinition: string;
  };
  readonly deployDeadline?: string;
  readonly deployChecks?: number;
  /** How this release moves traffic (the input's, else the config's). */
  readonly strategy?: Strategy;
  /** Set by the shift steps (canary and linear). */
  readonly shift?: Shift;
  /** Set by the validate step when the idle color passed: each check's value beside its threshold. */
  readonly validation?: ValidationReport;
  /** Every lifecycle hook's answers so far, oldest first (the console and `bluegreen report` show them). */
  readonly hooks?: readonly HookAnswer[];
  /** Set by the switch step. */
  readonly switchedAt?: string;
  readonly watch?: {
    readonly until: string;
    readonly checks: number;
    readonly consecutiveFailures: number;
    /** What each bake check confirms (the listener, health, and the version when a smoke check shows it). */
    readonly checked?: string;
    /** Alarms of the new color in ALARM since before the switch, as of the last check: reported, not acted on. */
    readonly ignoredAlarms?: readonly string[];
    /**
     * With auto scaling: the last time a check raised the old color's floor to the count the new color scaled out
     * to (a rollback puts all traffic back on it at once), what it did.
     */
    readonly oldColorRaised?: string;
  };
}

export interface ReleaseState {
  /** The execution input, as given (the Start state puts it here). */
  readonly input?: unknown;
  /** The execution's name: the lock's owner and the release id. */
  readonly execution: string;
  readonly release?: Release;
  /** Read by Choice states. */
  readonly verdict?: 'ready' | 'waiting' | 'watching' | 'baked' | 'shift' | 'promote';
  /**
   * Set by Catch: the error that sent the execution to abort or roll back; `phase` when a migration phase failed
   * (set by the "... failed" Pass state after its Catch).
   */
  readonly failure?: {
    readonly Error: string;
    readonly Cause: string;
    readonly phase?: MigrationPhase;
    /** The old color could not be scaled down before the contract, which therefore did not run. */
    readonly scaleDown?: boolean;
  };
  /** What each migration phase's task reported (Step Functions' ECS RunTask result, trimmed). */
  readonly migrations?: Partial<Record<MigrationPhase, MigrationTaskResult>>;
  /** Set by Catch when the rollback itself failed. */
  readonly rollbackFailure?: { readonly Error: string; readonly Cause: string };
  /** The callback token of the manual gate (only in the gate step's payload). */
  readonly taskToken?: string;
  /** Set by the manual gate: who let the release through, and when. */
  readonly approval?: Approval;
  /** The error and cause the execution ends with (read by Fail states). */
  readonly outcome?: { readonly error: string; readonly cause: string };
  /** The lifecycle hook running now (workflow/hooks.ts): read by its Choice and Wait states. */
  readonly hook?: HookRun;
  /** Set by Catch when the rollback hook's step itself failed (its answer is then unknown). */
  readonly hookFailure?: { readonly Error: string; readonly Cause: string };
  /**
   * The Roll back step's outcome, when a rollback hook runs before it is published: "Report rollback" adds the
   * hook's answer, lets scaling act, releases the lock and publishes it.
   */
  readonly unpublished?: {
    readonly status: 'ROLLED_BACK';
    readonly image?: string;
    readonly liveColor?: Color;
    readonly error: string;
    readonly cause: string;
  };
  /**
   * The outcome an ending step could not publish (its tries failed): the Stopped step reads it from the execution's
   * last state and publishes it (workflow/conclude.ts housekeeping).
   */
  readonly unsent?: ReleaseOutcome;
}

/** One lifecycle hook's progress through its calls (the "Start ... hook" Pass state sets `name` and `attempt: 0`). */
export interface HookRun {
  readonly name: HookName;
  /** Calls made so far. */
  readonly attempt: number;
  /** The last answer's status (absent before the first call). */
  readonly status?: HookAnswer['status'];
  /** When the hook times out (ISO), set by the first call. */
  readonly deadline?: string;
  /** What its last IN_PROGRESS answer returned, passed back to it on the next call. */
  readonly details?: unknown;
  /** Seconds the Wait before the next call lasts. */
  readonly waitSeconds?: number;
  /** A final answer that fails the release: the error and cause the workflow ends with. */
  readonly failure?: { readonly Error: string; readonly Cause: string };
}

/**
 * The three migration phases a release runs, and `previousContract`: the previous release's contract phase, run
 * at this release's start (its command gets `contract`).
 */
export type MigrationPhase = 'expand' | 'backfill' | 'contract' | 'previousContract';

/** What a phase's task reported (the RunTask state's ResultSelector). */
export interface MigrationTaskResult {
  readonly task: string;
  readonly exitCode: number;
}

/** The answer that opened the manual gate (what `bluegreen approve` sends, or the timeout's). */
export interface Approval {
  readonly approvedBy: string;
  readonly at: string;
  readonly comment?: string;
}

/** The optional per-release overrides of the timings, with their allowed ranges. */
const OVERRIDES: Readonly<Record<keyof ReleaseTimings, readonly [number, number]>> = {
  bakeSeconds: [0, 86_400],
  watchIntervalSeconds: [1, 300],
  failureThreshold: [1, 100],
  deployTimeoutSeconds: [60, 7_200],
  deployPollSeconds: [1, 300],
  finishDelaySeconds: [0, 86_400],
};

export interface ReleaseRequest {
  readonly image: string;
  readonly version: string;
  readonly timings: ReleaseTimings;
  /** Who or what started the release (the CLI sends the caller's identity and CI run). */
  readonly startedBy?: string;
  /** How traffic moves: the input's `strategy`, else the config's. */
  readonly strategy: Strategy;
  /** The input's `dryRun`, else the config's `release.analysis.dryRun`. */
  readonly dryRun: boolean;
}

/** The shift phase's budget for `strategy` under these settings (nothing for all at once). */
export function shiftWaits(
  strategy: Strategy,
  settings: Pick<WorkflowSettings, 'analysis'>,
  watchIntervalSeconds: number,
): { readonly seconds: number; readonly loops: number } {
  const analysis = settings.analysis ?? {
    maxExtensions: 0,
    onInconclusive: 'rollback' as const,
    settleSeconds: 0,
  };
  return shiftBudget(strategy, analysis, analysis.settleSeconds, watchIntervalSeconds);
}

/** The shortest shift step the metrics can judge: two whole metric periods. */
export function minStepSeconds(settings: Pick<WorkflowSettings, 'analysis'>): number {
  return 2 * (settings.analysis?.periodSeconds ?? 60);
}

/**
 * Validates the execution input against the settings. Throws InvalidInput naming every wrong field; it has no
 * side effects, so a bad input changes nothing. (Hand-written rather than a schema library: it keeps the step
 * bundles small.)
 */
export function parseReleaseInput(raw: unknown, settings: WorkflowSettings): ReleaseRequest {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw releaseError(
      'InvalidInput',
      `Invalid release input; nothing was changed. input: must be an object like {"image": "${settings.imageRepository}:<tag>"}`,
    );
  }
  const input = raw as Record<string, unknown>;
  const fields = ['image', 'version', 'startedBy', 'strategy', 'dryRun'];
  const unknown = Object.keys(input).filter((k) => !fields.includes(k) && !(k in OVERRIDES));
  if (unknown.length > 0) {
    problems.push(
      `input: unknown field(s) ${unknown.join(', ')} (allowed: ${[...fields, ...Object.keys(OVERRIDES)].join(', ')})`,
    );
  }
  const startedBy = input.startedBy;
  if (startedBy !== undefined && (typeof startedBy !== 'string' || !/^[\x20-\x7e]{1,300}$/.test(startedBy))) {
    problems.push(`startedBy: must be 1-300 printable characters (got ${JSON.stringify(startedBy)})`);
  }
  const repo = settings.imageRepository;
  let version = '';
  const image = input.image;
  if (image === undefined) {
    problems.push(`image: is required: the image to release, "${repo}:<tag>" or "${repo}@sha256:<digest>"`);
  } else if (typeof image !== 'string') {
    problems.push(`image: must be a string, "${repo}:<tag>" or "${repo}@sha256:<digest>"`);
  } else {
    const tag = image.startsWith(`${repo}:`) ? image.slice(repo.length + 1) : undefined;
    const digest = image.startsWith(`${repo}@`) ? image.slice(repo.length + 1) : undefined;
    if (tag !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      version = tag;
    } else if (digest !== undefined && /^sha256:[a-f0-9]{64}$/.test(digest)) {
      version = digest;
    } else {
      problems.push(`image: must be "${repo}:<tag>" or "${repo}@sha256:<digest>" (got "${image}")`);
    }
  }
  if (input.version !== undefined) {
    if (typeof input.version === 'string' && /^[\x21-\x7e]{1,128}$/.test(input.version)) {
      version = input.version;
    } else {
      problems.push(`version: must be 1-128 visible characters (got ${JSON.stringify(input.version)})`);
    }
  }
  let strategy = settings.strategy ?? ALL_AT_ONCE;
  if (input.strategy !== undefined) {
    const parsed = parseStrategy(input.strategy, 'strategy', minStepSeconds(settings));
    problems.push(...parsed.problems);
    strategy = parsed.strategy ?? strategy;
  }
  if (strategy.type !== 'all-at-once' && !settings.analysis) {
    problems.push(
      `strategy: ${strategy.type} needs the comparative analysis, which this stack does not configure`,
    );
  }
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') {
    problems.push(`dryRun: must be true or false (got ${JSON.stringify(input.dryRun)})`);
  }
  if (input.dryRun === true && strategy.type === 'all-at-once') {
    problems.push(
      'dryRun: only the steps of a gradual shift are analysed, and this release moves all at once: give a ' +
        'strategy ("canary:10:5m") or leave dryRun out',
    );
  }
  const dryRun = typeof input.dryRun === 'boolean' ? input.dryRun : (settings.analysis?.dryRun ?? false);
  const timings: Record<string, number> = { ...settings.timings };
  for (const [key, [min, max]] of Object.entries(OVERRIDES)) {
    const value = input[key];
    if (value === undefined) {
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    } else {
      timings[key] = value;
    }
  }
  if (problems.length === 0) {
    problems.push(
      ...budgetProblems(timings as unknown as ReleaseTimings, settings.maxReleaseSeconds, {
        approvalSeconds: settings.approval?.timeoutSeconds ?? 0,
        // Four at most: a contract left pending by the previous release, then expand, backfill, contract.
        migrationSeconds: settings.migrations ? 4 * settings.migrations.timeoutSeconds : 0,
        shift: shiftWaits(strategy, settings, timings.watchIntervalSeconds),
        catchUpSeconds: settings.scaling ? CATCH_UP_SECONDS : 0,
        hooks: hookBudget(settings.hooks, timings.bakeSeconds),
      }),
    );
  }
  if (problems.length > 0) {
    throw releaseError('InvalidInput', `Invalid release input; nothing was changed. ${problems.join('; ')}`);
  }
  return {
    image: image as string,
    version,
    timings: timings as unknown as ReleaseTimings,
    ...(typeof startedBy === 'string' ? { startedBy } : {}),
    strategy,
    dryRun,
  };
}

/** Step Functions ends a Standard execution at 25,000 history events; a loop iteration writes about 10. */
export const HISTORY_EVENTS_LIMIT = 25_000;
const EVENTS_PER_LOOP = 10;
const EVENTS_OUTSIDE_LOOPS = 200;
/** Time for everything outside the loops (prepare, validate, switch, finish), with room for retries. */
export const FIXED_SECONDS = 600;

/**
 * A release must be able to end inside the state machine's timeout and its history limit, or it would stop
 * without its cleanup step. Checked up front, so such a release is refused before it changes anything.
 */
export function budgetProblems(
  t: ReleaseTimings,
  maxReleaseSeconds: number,
  waits: {
    readonly approvalSeconds?: number;
    readonly migrationSeconds?: number;
    /** A gradual shift's steps (shiftWaits). */
    readonly shift?: { readonly seconds: number; readonly loops: number };
    /** Auto scaling: the longest the switch waits for the new color to catch up with the live one. */
    readonly catchUpSeconds?: number;
    /** Lifecycle hooks (hookBudget). */
    readonly hooks?: { readonly seconds: number; readonly loops: number };
  } = {},
): string[] {
  const problems: string[] = [];
  const approval = waits.approvalSeconds ?? 0;
  const migrations = waits.migrationSeconds ?? 0;
  const shift = waits.shift ?? { seconds: 0, loops: 0 };
  const catchUp = Math.ceil(waits.catchUpSeconds ?? 0);
  const hooks = waits.hooks ?? { seconds: 0, loops: 0 };
  const seconds =
    catchUp +
    hooks.seconds +
    t.deployTimeoutSeconds +
    t.bakeSeconds +
    t.finishDelaySeconds +
    approval +
    migrations +
    shift.seconds +
    FIXED_SECONDS;
  if (seconds > maxReleaseSeconds) {
    const extra =
      (approval > 0 ? ' + the approval timeout' : '') +
      (migrations > 0 ? ' + 4 migration phases (migrations.timeoutMinutes each)' : '') +
      (shift.seconds > 0
        ? ` + ${shift.seconds}s of shift steps (each step's bake and metrics delay, with every allowed extension)`
        : '') +
      (catchUp > 0 ? ` + ${catchUp}s for the new color to catch up with the live color's scaling` : '') +
      (hooks.seconds > 0 ? ` + ${hooks.seconds}s of lifecycle hooks (release.hooks timeouts)` : '');
    problems.push(
      `deployTimeoutSeconds + bakeSeconds + finishDelaySeconds${extra} (+${FIXED_SECONDS}s for the other steps) = ${seconds}s, ` +
        `over the release timeout of ${maxReleaseSeconds}s (release.maxReleaseMinutes): shorten them or raise the timeout`,
    );
  }
  const loops =
    Math.ceil(t.deployTimeoutSeconds / t.deployPollSeconds) +
    Math.ceil(t.bakeSeconds / t.watchIntervalSeconds) +
    shift.loops +
    hooks.loops;
  const events = loops * EVENTS_PER_LOOP + EVENTS_OUTSIDE_LOOPS;
  if (events > HISTORY_EVENTS_LIMIT) {
    problems.push(
      `${loops} polling loops (deploy ${t.deployTimeoutSeconds}/${t.deployPollSeconds}s, bake ${t.bakeSeconds}/${t.watchIntervalSeconds}s` +
        `${shift.loops > 0 ? `, shift steps ${shift.loops}` : ''}` +
        `${hooks.loops > 0 ? `, lifecycle hooks ${hooks.loops}` : ''}) ` +
        `would write about ${events} history events, over Step Functions' ${HISTORY_EVENTS_LIMIT}: poll less often`,
    );
  }
  return problems;
}

/** The release of a state that must have one (every step after Prepare). */
export function requireRelease(state: ReleaseState): Release {
  if (!state.release) {
    throw new Error('internal: this step runs after Prepare and needs state.release');
  }
  return state.release;
}

/**
 * The human message of a caught error. Step Functions passes a Lambda error's Cause as the JSON Lambda wrote
 * ({"errorType","errorMessage","trace"}); other causes are plain text. A part carried after the cause by a failed
 * branch of "Bake and production hook" (carried-state.ts) is left out.
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) {
    return '';
  }
  // What a failed Parallel branch carried after its cause (carried-state.ts) is state, not words.
  const readable = splitCarried(cause).cause;
  try {
    const parsed = JSON.parse(readable) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : readable;
  } catch {
    return readable;
  }
}
