/**
 * The release as it travels through the state machine: the execution input, the settings the stack gives every
 * step, and the state each step returns. Plain JSON, so Step Functions can carry it and show it.
 */
import { z } from 'zod';
import { releaseError } from './errors';
import type { Color } from './release-record';

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
  /** Upper bound of one release (the state machine's timeout); also the lock's lease. */
  readonly maxReleaseSeconds: number;
  readonly timings: ReleaseTimings;
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
  /** What the idle color ran before, to restore it on abort or rollback. */
  readonly idleBefore: { readonly count: number; readonly image: string; readonly revision?: string };
  readonly timings: ReleaseTimings;
  readonly startedAt: string;
  /** Set by the deploy step. */
  readonly revision?: string;
  readonly deployDeadline?: string;
  readonly deployChecks?: number;
  /** Set by the switch step. */
  readonly switchedAt?: string;
  readonly watch?: { readonly until: string; readonly checks: number; readonly consecutiveFailures: number };
}

export interface ReleaseState {
  /** The execution input, as given (the Start state puts it here). */
  readonly input?: unknown;
  /** The execution's name: the lock's owner and the release id. */
  readonly execution: string;
  readonly release?: Release;
  /** Read by Choice states. */
  readonly verdict?: 'ready' | 'waiting' | 'watching' | 'baked';
  /** Set by Catch: the error that sent the execution to abort or roll back. */
  readonly failure?: { readonly Error: string; readonly Cause: string };
  /** Set by Catch when the rollback itself failed. */
  readonly rollbackFailure?: { readonly Error: string; readonly Cause: string };
  /** The error and cause the execution ends with (read by Fail states). */
  readonly outcome?: { readonly error: string; readonly cause: string };
}

const positive = (max: number) => z.int().min(1).max(max);

const inputSchema = z
  .object({
    image: z.string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the image to release, "<repository>:<tag>" or "<repository>@sha256:<digest>"'
          : 'must be a string, "<repository>:<tag>" or "<repository>@sha256:<digest>"',
    }),
    version: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible characters')
      .optional(),
    bakeSeconds: z.int().min(0).max(86_400).optional(),
    watchIntervalSeconds: positive(300).optional(),
    failureThreshold: positive(100).optional(),
    deployTimeoutSeconds: z.int().min(60).max(7_200).optional(),
    deployPollSeconds: z.int().min(1).max(300).optional(),
    finishDelaySeconds: z.int().min(0).max(86_400).optional(),
  })
  .strict();

export interface ReleaseRequest {
  readonly image: string;
  readonly version: string;
  readonly timings: ReleaseTimings;
}

/**
 * Validates the execution input against the settings. Throws InvalidInput naming every wrong field; it has no
 * side effects, so a bad input changes nothing.
 */
export function parseReleaseInput(raw: unknown, settings: WorkflowSettings): ReleaseRequest {
  const parsed = inputSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const field = i.path.length > 0 ? i.path.join('.') : 'input';
        const what = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message;
        return `${field}: ${what}`;
      });
  let version = '';
  if (parsed.success) {
    const { image } = parsed.data;
    const repo = settings.imageRepository;
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
  if (!parsed.success || problems.length > 0) {
    throw releaseError('InvalidInput', `Invalid release input; nothing was changed. ${problems.join('; ')}`);
  }
  const { image, version: given, ...overrides } = parsed.data;
  return { image, version: given ?? version, timings: { ...settings.timings, ...overrides } };
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
 * ({"errorType","errorMessage","trace"}); other causes are plain text.
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) {
    return '';
  }
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
