/**
 * Comparative analysis (issue 13's judge): is the new color worse than the old one over the same window of real
 * traffic? Pure arithmetic on counts and percentiles; the adapters feed it CloudWatch's per-target-group metrics.
 *
 * - Errors: Fisher's exact test, one-sided (only "the new color fails more often" can fail), on the 2×2 table of
 *   each color's failed and answered requests. Exact at any count, so a doubled 0.5% error rate is caught once
 *   there is enough traffic, and a handful of requests never passes for evidence.
 * - Latency: the ratio of the new color's percentile to the old one's, against 1 + margin; differences under an
 *   absolute floor never fail (1 ms against 2 ms is not a regression users feel).
 * - Too few requests on either color is `inconclusive`, never a pass: the policy decides whether to wait longer or
 *   roll back.
 *
 * Each metric is critical (its failure fails the verdict) or advisory (reported only), and every metric verdict
 * carries both colors' values, the test, its p-value or ratio, the threshold and a sentence saying it all.
 */

export interface ColorWindow {
  /** Requests the color answered in the window (ALB RequestCount per target group). */
  readonly requests: number;
  /** Of those, the ones that failed (target 5xx). */
  readonly errors: number;
  /** The latency percentile the policy compares (e.g. p99 of TargetResponseTime), in ms; absent without data. */
  readonly latencyMs?: number;
}

export interface AnalysisPolicy {
  /** Fewer requests than this on either color: inconclusive. */
  readonly minRequests: number;
  /** The error test's significance level (e.g. 0.05): a p-value below it fails. */
  readonly errorSignificance: number;
  /** The new color's latency may be up to (1 + latencyMargin) × the old one's. */
  readonly latencyMargin: number;
  /** A latency difference below this many ms never fails. */
  readonly latencyFloorMs: number;
  /**
   * A percentile is judged only when at least this many requests lie beyond it on each color (p99 of 600
   * requests is its 6th slowest, too noisy for a ratio: 10 beyond it needs 1,000): otherwise inconclusive.
   * @default 10
   */
  readonly minTailRequests?: number;
  readonly critical: { readonly errors: boolean; readonly latency: boolean };
}

export type AnalysisResult = 'pass' | 'fail' | 'inconclusive';

export interface MetricVerdict {
  readonly metric: 'errors' | 'latency';
  readonly critical: boolean;
  readonly result: AnalysisResult;
  readonly old: string;
  readonly new: string;
  readonly test: string;
  /** The p-value (errors) or the ratio new/old (latency); absent when there was nothing to compute. */
  readonly value?: number;
  readonly threshold: number;
  readonly explanation: string;
}

export interface AnalysisVerdict {
  readonly result: AnalysisResult;
  readonly metrics: readonly MetricVerdict[];
  /** One line: the result and each metric's explanation. */
  readonly summary: string;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 coefficients: about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) {
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  }
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) {
    a += c[i] / (z + i);
  }
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function lnChoose(n: number, k: number): number {
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);
}

/**
 * Fisher's exact test, one-sided: the probability, if both colors failed at the same rate, of the new color
 * seeing at least `newErrors` of all the errors, given each color's request count (the hypergeometric upper tail).
 */
export function fisherOneSided(
  newErrors: number,
  newRequests: number,
  oldErrors: number,
  oldRequests: number,
): number {
  const total = newRequests + oldRequests;
  const errors = newErrors + oldErrors;
  const last = Math.min(errors, newRequests);
  const lnAll = lnChoose(total, newRequests);
  let p = 0;
  for (let k = newErrors; k <= last; k++) {
    const term = Math.exp(lnChoose(errors, k) + lnChoose(total - errors, newRequests - k) - lnAll);
    p += term;
    if (term < p * 1e-15 && k > (errors * newRequests) / total) {
      break; // past the mode the terms only shrink: the rest cannot change the sum
    }
  }
  return Math.min(1, p);
}

const percent = (w: ColorWindow) =>
  w.requests === 0 ? '0%' : `${((100 * w.errors) / w.requests).toPrecision(2)}%`;
const rate = (w: ColorWindow) => `${w.errors} of ${w.requests} failed (${percent(w)})`;

function errorVerdict(old: ColorWindow, neu: ColorWindow, policy: AnalysisPolicy): MetricVerdict {
  const base = {
    metric: 'errors' as const,
    critical: policy.critical.errors,
    old: rate(old),
    new: rate(neu),
    test: "Fisher's exact test, one-sided (new fails more often)",
    threshold: policy.errorSignificance,
  };
  const fewest = Math.min(old.requests, neu.requests);
  if (fewest < policy.minRequests) {
    return {
      ...base,
      result: 'inconclusive',
      explanation:
        `errors: inconclusive, too few requests (old ${old.requests}, new ${neu.requests}; at least ` +
        `${policy.minRequests} each)`,
    };
  }
  const p = fisherOneSided(neu.errors, neu.requests, old.errors, old.requests);
  const fail = p < policy.errorSignificance;
  return {
    ...base,
    result: fail ? 'fail' : 'pass',
    value: p,
    explanation:
      `errors: ${fail ? 'fail' : 'pass'}, new ${base.new} against old ${base.old}: p = ${p.toPrecision(2)} ` +
      `(${fail ? 'below' : 'not below'} ${policy.errorSignificance})`,
  };
}

function latencyVerdict(
  old: ColorWindow,
  neu: ColorWindow,
  policy: AnalysisPolicy,
  percentile: number,
): MetricVerdict {
  const limit = 1 + policy.latencyMargin;
  const tail = policy.minTailRequests ?? 10;
  // Requests beyond the percentile it takes for each color's value to be judged (p99: 1,000; p90: 100).
  const needed = Math.max(policy.minRequests, Math.ceil(tail / (1 - percentile / 100) - 1e-9));
  const ms = (v: number | undefined) => (v === undefined ? 'no data' : `${Number(v.toFixed(1))} ms`);
  const base = {
    metric: 'latency' as const,
    critical: policy.critical.latency,
    old: ms(old.latencyMs),
    new: ms(neu.latencyMs),
    test: `ratio new/old, at most ${limit} (differences under ${policy.latencyFloorMs} ms never fail)`,
    threshold: limit,
  };
  if (
    old.latencyMs === undefined ||
    neu.latencyMs === undefined ||
    Math.min(old.requests, neu.requests) < needed
  ) {
    return {
      ...base,
      result: 'inconclusive',
      explanation:
        `latency: inconclusive, too few requests for a p${percentile} (old ${old.requests}, new ${neu.requests}; ` +
        `at least ${needed} each, ${tail} beyond the percentile)`,
    };
  }
  const ratio = old.latencyMs === 0 ? (neu.latencyMs === 0 ? 1 : Infinity) : neu.latencyMs / old.latencyMs;
  const fail = ratio > limit && neu.latencyMs - old.latencyMs >= policy.latencyFloorMs;
  return {
    ...base,
    result: fail ? 'fail' : 'pass',
    value: ratio,
    explanation:
      `latency: ${fail ? 'fail' : 'pass'}, new ${base.new} against old ${base.old}: ratio ` +
      `${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'} (limit ${limit})`,
  };
}

/**
 * The new color against the old over the same window: per metric, and overall by the critical ones. `percentile`
 * is the latency percentile the windows carry (99 for p99).
 */
export function compareColors(
  old: ColorWindow,
  neu: ColorWindow,
  policy: AnalysisPolicy,
  percentile = 99,
): AnalysisVerdict {
  const metrics = [errorVerdict(old, neu, policy), latencyVerdict(old, neu, policy, percentile)];
  const critical = metrics.filter((m) => m.critical);
  const result: AnalysisResult = critical.some((m) => m.result === 'fail')
    ? 'fail'
    : critical.some((m) => m.result === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  const described = metrics.map((m) => `${m.explanation}${m.critical ? '' : ' [advisory]'}`);
  return { result, metrics, summary: `${result.toUpperCase()}: ${described.join('; ')}.` };
}
