/**
 * The release workflow's blocks of the configuration: `release` (timings, smoke checks, strategy, analysis, hooks),
 * `approval` (the manual gate) and `migrations`, with the limits they share and what they add up to in seconds.
 * lib/config-schema.ts puts them in the whole schema; lib/config-cross-field.ts checks that they fit together.
 */
import { z } from 'zod';
import { FIXED_SECONDS } from '../lambda/shared/release';
import { DEFAULT_POLICY } from '../lambda/shared/strategy';
import { hooksSchema, LAMBDA_ARN_RULE, LAMBDA_FUNCTION_ARN } from './config-hooks';
import { int, MAX_PATH } from './config-fields';

/** The release timeout's range (release.maxReleaseMinutes). */
export const MAX_RELEASE_MINUTES = 1440;
const MIN_DEPLOY_TIMEOUT_SECONDS = 60;
/**
 * The longest manual gate any release can have: the longest release, less the least the rest of it takes (the
 * shortest deploy timeout, no bake, no finish delay, and the other steps' fixed allowance). The budget check then
 * holds it to what the configured timings leave.
 */
const MAX_APPROVAL_MINUTES =
  MAX_RELEASE_MINUTES - Math.ceil((MIN_DEPLOY_TIMEOUT_SECONDS + FIXED_SECONDS) / 60);
/**
 * How long after a minute ends CloudWatch has ALB's metrics for it: they are published once a minute, late (the
 * default waits three minutes; raise it if analyses see fewer requests than the access logs).
 */
export const DEFAULT_SETTLE_SECONDS = 180;
/** The ALB metrics' period: shift steps last at least two of them. */
export const METRICS_PERIOD_SECONDS = 60;

/** `release`: the workflow's timings, smoke checks, strategy, analysis and lifecycle hooks. */
export const releaseSchema = z
  .object({
    bakeSeconds: int(0, 86_400, 'a whole number from 0 to 86400 seconds').default(300),
    watchIntervalSeconds: int(1, 300, 'a whole number from 1 to 300 seconds').default(10),
    failureThreshold: int(1, 100, 'a whole number from 1 to 100 checks').default(3),
    deployTimeoutSeconds: int(
      MIN_DEPLOY_TIMEOUT_SECONDS,
      7_200,
      `a whole number from ${MIN_DEPLOY_TIMEOUT_SECONDS} to 7200 seconds`,
    ).default(900),
    deployPollSeconds: int(1, 300, 'a whole number from 1 to 300 seconds').default(15),
    finishDelaySeconds: int(0, 86_400, 'a whole number from 0 to 86400 seconds').default(300),
    // `bluegreen rollback` after the old color went cold: only within this many hours of the last release.
    coldRollbackWindowHours: int(1, 8_760, 'a whole number from 1 to 8760 hours').default(24),
    maxReleaseMinutes: int(
      15,
      MAX_RELEASE_MINUTES,
      `a whole number from 15 to ${MAX_RELEASE_MINUTES} minutes`,
    ).default(120),
    smokeChecks: z
      .array(
        z
          .object({
            path: z
              .string()
              .regex(/^\/[\x21-\x7e]*$/, 'must be a URL path starting with "/"')
              .max(MAX_PATH, `must be at most ${MAX_PATH} characters`),
            expectStatus: int(100, 599, 'an HTTP status from 100 to 599').default(200),
            expectVersion: z.boolean({ error: 'must be true or false' }).default(false),
            latencyBudgetMs: int(1, 60_000, 'a whole number from 1 to 60000 ms').default(1000),
          })
          .strict(),
      )
      .max(20, 'must list at most 20 checks')
      .optional(),
    // How traffic moves (each release may say otherwise): checked by parseStrategy, one line per problem.
    strategy: z.unknown().optional(),
    analysis: z
      .object({
        minRequests: int(1, 10_000_000, 'a whole number from 1 to 10000000 requests').default(
          DEFAULT_POLICY.minRequests,
        ),
        errorSignificance: z
          .number({ error: 'must be a number from 0.0001 to 0.2' })
          .min(0.0001, 'must be a number from 0.0001 to 0.2')
          .max(0.2, 'must be a number from 0.0001 to 0.2')
          .default(DEFAULT_POLICY.errorSignificance),
        latencyMargin: z
          .number({ error: 'must be a number from 0 to 10 (0.25: 25% slower at most)' })
          .min(0, 'must be a number from 0 to 10 (0.25: 25% slower at most)')
          .max(10, 'must be a number from 0 to 10 (0.25: 25% slower at most)')
          .default(DEFAULT_POLICY.latencyMargin),
        latencyFloorMs: int(0, 60_000, 'a whole number from 0 to 60000 ms').default(
          DEFAULT_POLICY.latencyFloorMs,
        ),
        minTailRequests: int(1, 10_000, 'a whole number from 1 to 10000 requests').default(10),
        latencyPercentile: z
          .union([z.literal(50), z.literal(90), z.literal(95), z.literal(99), z.literal(99.9)], {
            error: 'must be 50, 90, 95, 99 or 99.9',
          })
          .default(99),
        critical: z
          .object({
            errors: z.boolean({ error: 'must be true or false' }).default(true),
            latency: z.boolean({ error: 'must be true or false' }).default(true),
          })
          .strict()
          .prefault({}),
        onInconclusive: z
          .enum(['extend', 'rollback'], { error: 'must be "extend" (bake the step again) or "rollback"' })
          .default('extend'),
        maxExtensions: int(0, 10, 'a whole number from 0 to 10').default(2),
        alarms: z
          .array(
            z
              .string()
              .regex(/^[\x20-\x7e]{1,255}$/, 'must be a CloudWatch alarm name (1-255 printable characters)'),
          )
          .max(20, 'must list at most 20 alarms')
          .default([]),
        dryRun: z.boolean({ error: 'must be true or false' }).default(false),
        stickySeconds: int(
          1,
          604_800,
          'a whole number from 1 to 604800 seconds (ALB group stickiness)',
        ).optional(),
        settleSeconds: int(60, 900, 'a whole number from 60 to 900 seconds').default(DEFAULT_SETTLE_SECONDS),
      })
      .strict()
      .prefault({}),
    validationHookArn: z.string().regex(LAMBDA_FUNCTION_ARN, LAMBDA_ARN_RULE).optional(),
    // Lifecycle hooks (lib/config-hooks.ts).
    hooks: hooksSchema,
  })
  .strict()
  .prefault({});

/** `approval`: the manual gate before the switch, normalized by normalizeApproval. */
export const approvalSchema = z
  .union(
    [
      z.literal('none'),
      z.literal('before-switch'),
      z
        .object({
          at: z.literal('before-switch', { error: 'must be "before-switch"' }),
          // It counts against release.maxReleaseMinutes: a longer gate could never fit in a release.
          timeoutMinutes: int(
            1,
            MAX_APPROVAL_MINUTES,
            `a whole number from 1 to ${MAX_APPROVAL_MINUTES} minutes (it counts against release.maxReleaseMinutes, at most ${MAX_RELEASE_MINUTES})`,
          ).default(60),
          onTimeout: z
            .enum(['abort', 'approve'], { error: 'must be "abort" (the default) or "approve"' })
            .default('abort'),
        })
        .strict(),
    ],
    {
      error:
        'must be "none", "before-switch", or {"at": "before-switch", "timeoutMinutes": 60, "onTimeout": "abort"}',
    },
  )
  .default('none')
  .transform(normalizeApproval);

/** `migrations`: the command the migration task runs, and how long each phase may take. */
export const migrationsSchema = z
  .object({
    command: z
      .array(z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'), {
        error: 'must be a list of strings such as ["node", "migrate.js"]',
      })
      .min(1, 'must name the program to run, such as ["node", "migrate.js"]')
      .max(20, 'must have at most 20 words'),
    timeoutMinutes: int(1, 240, 'a whole number from 1 to 240 minutes').default(15),
  })
  .strict()
  .optional();

/** The manual gate, normalized: off, or before the switch with its timeout and what a timeout does. */
export type ApprovalConfig =
  | { readonly at: 'none' }
  | {
      readonly at: 'before-switch';
      readonly timeoutMinutes: number;
      readonly onTimeout: 'abort' | 'approve';
    };

function normalizeApproval(
  value:
    | 'none'
    | 'before-switch'
    | { at: 'before-switch'; timeoutMinutes: number; onTimeout: 'abort' | 'approve' },
): ApprovalConfig {
  if (value === 'none') {
    return { at: 'none' };
  }
  return value === 'before-switch' ? { at: 'before-switch', timeoutMinutes: 60, onTimeout: 'abort' } : value;
}

/** The longest a release may wait at the manual gate (0 without one). */
export function approvalSeconds(approval: ApprovalConfig): number {
  return approval.at === 'before-switch' ? approval.timeoutMinutes * 60 : 0;
}

/**
 * The longest a release may spend in database migrations (0 without): four phases at most, a contract the
 * previous release left pending, then expand, backfill and contract.
 */
export function migrationSeconds(migrations: { readonly timeoutMinutes: number } | undefined): number {
  return migrations ? 4 * migrations.timeoutMinutes * 60 : 0;
}
