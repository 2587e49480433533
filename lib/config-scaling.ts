/**
 * The `scaling` block of the configuration (auto scaling of each color: lambda/shared/scaling.ts says what the
 * bounds mean between and during releases): its schema, and the checks against the other fields, reported with
 * every other problem by lib/config.ts.
 */
import { z } from 'zod';
import { MAX_BOUND } from '../lambda/shared/scaling';

export const DEFAULT_SCALE_IN_COOLDOWN_SECONDS = 300;
export const DEFAULT_SCALE_OUT_COOLDOWN_SECONDS = 60;

const TARGETS = ['requestsPerTarget', 'cpuPercent', 'memoryPercent'] as const;
const COOLDOWNS = ['scaleInCooldownSeconds', 'scaleOutCooldownSeconds'] as const;

/** A whole number in [min, max]; `what` says it in words. */
const int = (min: number, max: number, what: string) =>
  z
    .int({ error: `must be ${what}` })
    .min(min, `must be ${what}`)
    .max(max, `must be ${what}`);

/** A required count from 1 to MAX_BOUND: "is required" when absent, "must be" when wrong. */
const count = (what: string) =>
  z
    .int({ error: `is required: ${what}, a whole number from 1 to ${MAX_BOUND}` })
    .min(1, `must be a whole number from 1 to ${MAX_BOUND}`)
    .max(MAX_BOUND, `must be a whole number from 1 to ${MAX_BOUND}`);

const percent = int(1, 100, 'a whole number from 1 to 100 percent');

export const scalingSchema = z
  .object({
    minCount: count('the fewest tasks or instances the live color runs'),
    maxCount: count('the most tasks or instances a color may scale to'),
    targets: z
      .object({
        // ALBRequestCountPerTarget: requests per target per minute.
        requestsPerTarget: int(
          1,
          1_000_000,
          'a whole number of requests per target per minute, 1 to 1000000',
        ).optional(),
        cpuPercent: percent.optional(),
        memoryPercent: percent.optional(),
      })
      .strict()
      .refine(
        (t) => TARGETS.some((k) => t[k] !== undefined),
        `must name at least one target: ${TARGETS.join(', ')}`,
      ),
    scaleInCooldownSeconds: int(0, 3600, 'a whole number from 0 to 3600 seconds').default(
      DEFAULT_SCALE_IN_COOLDOWN_SECONDS,
    ),
    scaleOutCooldownSeconds: int(0, 3600, 'a whole number from 0 to 3600 seconds').default(
      DEFAULT_SCALE_OUT_COOLDOWN_SECONDS,
    ),
  })
  .strict()
  .optional();

export type ScalingConfig = NonNullable<z.output<typeof scalingSchema>>;

/**
 * The checks of `scaling` against the other fields, on the raw input (each only looks at values well-formed on
 * their own, so one run reports everything). `desiredCount` and `instancesMaxCount` are the values in effect
 * (given or defaulted).
 */
export function scalingProblems(
  raw: unknown,
  context: { platform: 'ecs' | 'asg'; desiredCount: number; instancesMaxCount: number },
): string[] {
  const scaling = asRecord(raw);
  if (!scaling) {
    return [];
  }
  const problems: string[] = [];
  const whole = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
  const min = whole(scaling.minCount);
  const max = whole(scaling.maxCount);
  const { platform, desiredCount } = context;
  if (min !== undefined && max !== undefined && min > max) {
    problems.push(`scaling.minCount: must be at most scaling.maxCount (${max}) (got ${min})`);
  }
  const ordered = min === undefined || max === undefined || min <= max;
  if (ordered && min !== undefined && desiredCount < min) {
    problems.push(
      `container.desiredCount: must be at least scaling.minCount (${min}), the count the live color starts ` +
        `with (got ${desiredCount}); raise it or lower scaling.minCount`,
    );
  }
  if (ordered && max !== undefined && desiredCount > max) {
    problems.push(
      `container.desiredCount: must be at most scaling.maxCount (${max}), the count the live color starts ` +
        `with (got ${desiredCount}); lower it or raise scaling.maxCount`,
    );
  }
  if (platform === 'asg') {
    if (max !== undefined && max > context.instancesMaxCount) {
      problems.push(
        `scaling.maxCount: must be at most instances.maxCount (${context.instancesMaxCount}), the size of each ` +
          `group (got ${max}); lower it or raise instances.maxCount`,
      );
    }
    if (asRecord(scaling.targets)?.memoryPercent !== undefined) {
      problems.push(
        'scaling.targets.memoryPercent: not on platform "asg": EC2 publishes no memory metric without the ' +
          'CloudWatch agent; use cpuPercent or requestsPerTarget',
      );
    }
    for (const key of COOLDOWNS.filter((k) => scaling[k] !== undefined)) {
      problems.push(
        `scaling.${key}: not on platform "asg": EC2 Auto Scaling's target tracking has no cooldowns (a new ` +
          'instance counts once it has warmed up, after instances.gracePeriodSeconds); remove it',
      );
    }
  }
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
