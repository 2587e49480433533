/**
 * How a release moves production traffic (issue 13): all at once (the default), a canary share then 100%, or
 * equal linear steps up to 100%, each shift step baked and judged by comparing the new color with the old one.
 * Pure: parsing, validation, the steps' percentages and the listener weights they become.
 */
import type { AnalysisPolicy } from './analysis';
import type { Color } from './release-record';
import type { TrafficWeights } from './traffic';

export type Strategy =
  | { readonly type: 'all-at-once' }
  /** `percent` of production traffic to the new color for `bakeSeconds`, judged, then 100%. */
  | { readonly type: 'canary'; readonly percent: number; readonly bakeSeconds: number }
  /** `stepPercent`, 2 × `stepPercent`, ... (below 100), each for `bakeSeconds` and judged, then 100%. */
  | { readonly type: 'linear'; readonly stepPercent: number; readonly bakeSeconds: number };

export const ALL_AT_ONCE: Strategy = { type: 'all-at-once' };

/**
 * The comparative analysis of each shift step, as configured (`release.analysis`): the statistics' policy, the
 * latency percentile compared, what an inconclusive verdict does, the user's own alarms, dry-run, stickiness.
 */
export interface AnalysisSettings {
  readonly policy: AnalysisPolicy;
  /** The TargetResponseTime percentile compared (99 → p99). */
  readonly latencyPercentile: number;
  /** Too little traffic to judge: bake the step again (up to `maxExtensions` times), or roll back. */
  readonly onInconclusive: 'extend' | 'rollback';
  readonly maxExtensions: number;
  /** The user's own CloudWatch alarms (by name): one in ALARM during a step fails it. */
  readonly alarms: readonly string[];
  /** Compute and report every verdict, act on none (a failing step goes on as if it passed). */
  readonly dryRun: boolean;
  /**
   * Group-level stickiness on the production listener's weighted forward while traffic is split (seconds);
   * absent: none. Switched off by the rollback and the final promotion, in the same listener change.
   */
  readonly stickySeconds?: number;
}

export const DEFAULT_POLICY: AnalysisPolicy = {
  minRequests: 100,
  errorSignificance: 0.005,
  latencyMargin: 0.25,
  latencyFloorMs: 20,
  minTailRequests: 10,
  critical: { errors: true, latency: true },
};

/** ALB's group stickiness lasts 1 s to 7 days (TargetGroupStickinessConfig.DurationSeconds). */
export const ALB_MAX_STICKY_SECONDS = 604_800;

/** A stickiness duration ALB accepts: a whole number of seconds from 1 to ALB_MAX_STICKY_SECONDS. */
export function isStickySeconds(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= ALB_MAX_STICKY_SECONDS;
}

/** Listener weights out of 1000: percentages with one decimal (0.1% .. 99.9%) stay within ALB's 0-999. */
export const WEIGHT_SCALE = 1000;

/** The shift steps' percentages of production traffic to the new color, before the final 100%. */
export function shiftSteps(strategy: Strategy): number[] {
  switch (strategy.type) {
    case 'all-at-once':
      return [];
    case 'canary':
      return [strategy.percent];
    case 'linear': {
      const steps: number[] = [];
      for (let p = strategy.stepPercent; p < 100 - 1e-9; p = round1(p + strategy.stepPercent)) {
        steps.push(round1(p));
      }
      return steps;
    }
  }
}

/** The listener weights that send `percent` of production traffic to `to` and the rest to the other color. */
export function weightsFor(percent: number, to: Color): TrafficWeights {
  const toWeight = Math.round(percent * (WEIGHT_SCALE / 100));
  const other = WEIGHT_SCALE - toWeight;
  if (toWeight >= WEIGHT_SCALE) {
    return to === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
  }
  return to === 'blue' ? { blue: toWeight, green: other } : { blue: other, green: toWeight };
}

/** "canary 10% for 5 min, then 100%", "linear 25% steps (25, 50, 75) of 2 min each, then 100%", "all at once". */
export function describeStrategy(strategy: Strategy): string {
  switch (strategy.type) {
    case 'all-at-once':
      return 'all at once';
    case 'canary':
      return `canary ${strategy.percent}% for ${duration(strategy.bakeSeconds)}, then 100%`;
    case 'linear':
      return (
        `linear ${strategy.stepPercent}% steps (${shiftSteps(strategy).join(', ')}%) of ` +
        `${duration(strategy.bakeSeconds)} each, then 100%`
      );
  }
}

/**
 * What a release's shift steps may cost at most, for the budget checks: seconds (every step baked, its metrics
 * settled, and every allowed extension) and polling loops (the analysis runs every `watchIntervalSeconds`).
 */
export function shiftBudget(
  strategy: Strategy,
  analysis: Pick<AnalysisSettings, 'maxExtensions' | 'onInconclusive'>,
  settleSeconds: number,
  watchIntervalSeconds: number,
): { readonly seconds: number; readonly loops: number; readonly steps: number } {
  if (strategy.type === 'all-at-once') {
    return { seconds: 0, loops: 0, steps: 0 };
  }
  const tries =
    shiftSteps(strategy).length * (1 + (analysis.onInconclusive === 'extend' ? analysis.maxExtensions : 0));
  const perTry = strategy.bakeSeconds + settleSeconds;
  return {
    seconds: tries * perTry,
    loops: tries * (Math.ceil(perTry / watchIntervalSeconds) + 1),
    steps: shiftSteps(strategy).length,
  };
}

const PERCENT = /^(?:[1-9]\d?|0)(?:\.\d)?$/;

/**
 * Parses a strategy from the config or the execution input (an object, or "all-at-once"), or from the CLI's
 * short form ("canary:10:5m", "linear:25:2m", "all-at-once"). Returns the problems, one line each, naming `where`.
 * `minBakeSeconds`: the shortest step the metrics can judge (two whole metric periods).
 */
export function parseStrategy(
  raw: unknown,
  where: string,
  minBakeSeconds: number,
): { readonly strategy?: Strategy; readonly problems: string[] } {
  const shape =
    `must be "all-at-once", {"type": "canary", "percent": 10, "bakeSeconds": 300} or ` +
    `{"type": "linear", "stepPercent": 25, "bakeSeconds": 120} (or "canary:10:5m", "linear:25:2m")`;
  let value = raw;
  if (typeof raw === 'string' && raw !== 'all-at-once') {
    const short = /^(canary|linear):([0-9.]+)%?:(\d+)(s|m)?$/.exec(raw);
    if (!short) {
      return { problems: [`${where}: ${shape} (got ${JSON.stringify(raw)})`] };
    }
    const seconds = Number(short[3]) * (short[4] === 'm' ? 60 : 1);
    value =
      short[1] === 'canary'
        ? { type: 'canary', percent: Number(short[2]), bakeSeconds: seconds }
        : { type: 'linear', stepPercent: Number(short[2]), bakeSeconds: seconds };
  }
  if (value === 'all-at-once') {
    return { strategy: ALL_AT_ONCE, problems: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [`${where}: ${shape} (got ${JSON.stringify(raw)})`] };
  }
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  const key = o.type === 'canary' ? 'percent' : o.type === 'linear' ? 'stepPercent' : undefined;
  if (key === undefined) {
    if (o.type === 'all-at-once' && Object.keys(o).length === 1) {
      return { strategy: ALL_AT_ONCE, problems: [] };
    }
    return {
      problems: [
        `${where}.type: must be "all-at-once", "canary" or "linear" (got ${JSON.stringify(o.type)})`,
      ],
    };
  }
  const unknown = Object.keys(o).filter((k) => !['type', key, 'bakeSeconds'].includes(k));
  if (unknown.length > 0) {
    problems.push(`${where}: unknown field(s) ${unknown.join(', ')} (allowed: type, ${key}, bakeSeconds)`);
  }
  const percent = o[key];
  const max = key === 'percent' ? 99.9 : 50;
  if (typeof percent !== 'number' || !PERCENT.test(String(percent)) || percent < 0.1 || percent > max) {
    problems.push(
      `${where}.${key}: must be a percentage from 0.1 to ${max} with at most one decimal (ALB weights are ` +
        `whole numbers 0-999, so bluegreen uses weights out of ${WEIGHT_SCALE}) (got ${JSON.stringify(percent)})`,
    );
  }
  const bake = o.bakeSeconds;
  if (typeof bake !== 'number' || !Number.isInteger(bake) || bake < minBakeSeconds || bake > 86_400) {
    problems.push(
      `${where}.bakeSeconds: must be a whole number from ${minBakeSeconds} (two whole metric periods, so each ` +
        `step has a complete window to judge) to 86400 (got ${JSON.stringify(bake)})`,
    );
  }
  if (problems.length > 0) {
    return { problems };
  }
  const strategy =
    o.type === 'canary'
      ? { type: 'canary' as const, percent: percent as number, bakeSeconds: bake as number }
      : { type: 'linear' as const, stepPercent: percent as number, bakeSeconds: bake as number };
  return { strategy, problems: [] };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function duration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/**
 * The window a shift step is judged on: the whole metric periods inside [since, since + bakeSeconds), so that no
 * minute with the old weights is counted. `after` (an extension) starts at the previous window's end instead.
 */
export function stepWindow(
  since: Date,
  bakeSeconds: number,
  periodSeconds: number,
  after?: Date,
): { readonly start: Date; readonly end: Date } {
  const period = periodSeconds * 1000;
  const start = after ? after.getTime() : Math.ceil(since.getTime() / period) * period;
  const end = after
    ? start + Math.max(1, Math.floor(bakeSeconds / periodSeconds)) * period
    : Math.max(start + period, Math.floor((since.getTime() + bakeSeconds * 1000) / period) * period);
  return { start: new Date(start), end: new Date(end) };
}
