/**
 * `tsx bench/analysis-sim.ts [--runs N] [--seed S]` (part of `npm run bench`): how the comparative analysis
 * (`compareColors`, lambda/shared/analysis.ts) with `DEFAULT_POLICY` judges one canary step of real-looking traffic.
 *
 * Each simulated step analysis: a canary step "canary:10:5m" (10% of production for 300 s) at `rps` requests per
 * second, so rps × 300 requests, each routed to the new color with probability 0.1 (Binomial, as a weighted
 * forward does); each color's requests fail independently at its error rate (Binomial counts); each request's
 * latency is log-normal (median 50 ms), and each color's p99 is the nearest-rank p99 of its own requests'
 * latencies (what the metrics port computes). Three releases per cell:
 *   - identical: the new color fails at the same rate with the same latencies (every "fail" is a false alarm);
 *   - 2x errors: the new color fails at twice the base rate;
 *   - +40% latency: every request of the new color takes 1.4 times as long;
 *   - half the errors: the new color fails half as often (a better release: a one-sided test never fails it on
 *     errors, a two-sided one would).
 * Each cell is `runs` independent step analyses. Within one simulated step the three releases share their
 * random draws where they are the same (the request split, the latencies; a +40% release's latencies are the
 * identical release's × 1.4, so its p99 is too), which makes their differences sharper; cells are not pooled.
 *
 * The grid, and why: 20, 100 and 1000 requests per second are a small, a medium and a busy service (a 10% canary
 * then sees about 600, 3,000 and 30,000 requests in its 5 minutes), 3 rps is below what the policy's minimum of
 * 100 requests per color can judge (about 90 canary requests: mostly inconclusive); base error rates 0.1%, 0.5%
 * and 2% span a healthy service, the issue's example ("doubles a 0.5% error rate") and a noisy one. Latency tails:
 * σ = 0.6 (p99 ≈ 4× the median, a typical web service) in the main table; σ = 1.0 (p99 ≈ 10× the median, a
 * heavy tail) for latency alone, since the p99 of a few hundred requests is itself noisy.
 */
import { compareColors, type AnalysisPolicy } from '../lambda/shared/analysis';
import { DEFAULT_POLICY, parseStrategy, shiftSteps } from '../lambda/shared/strategy';
import { kthSmallest, Random } from './sim-random';

export const STEP = 'canary:10:5m';
export const MEDIAN_MS = 50;
export const SIGMA = 0.6;
export const HEAVY_SIGMA = 1.0;
export const FALSE_ALARM_TARGET = 0.01;

export interface SimOptions {
  readonly runs: number;
  readonly seed: number;
  readonly rps: readonly number[];
  readonly baseErrorRates: readonly number[];
  readonly sigmas: readonly number[];
  readonly policy?: AnalysisPolicy;
  /** The share of traffic on the new color and the step's length (default: canary:10:5m). */
  readonly percent?: number;
  readonly stepSeconds?: number;
}

/** Shares of `runs`: how the overall verdict came out. */
export interface Outcome {
  readonly fail: number;
  readonly inconclusive: number;
  readonly pass: number;
}

export interface ErrorCell {
  readonly rps: number;
  readonly baseErrorRate: number;
  readonly sigma: number;
  readonly meanNew: number;
  readonly meanOld: number;
  readonly identical: Outcome;
  /** Of the identical release's false alarms, the share of runs whose error test (alone) failed. */
  readonly identicalErrorTestFails: number;
  readonly identicalLatencyFails: number;
  readonly doubleErrors: Outcome;
  readonly slower: Outcome;
  /** A new color that fails half as often: one-sided, it never fails on errors. */
  readonly halfErrors: Outcome;
}

export interface SimResult {
  readonly options: SimOptions;
  readonly cells: ErrorCell[];
}

function step(): { percent: number; stepSeconds: number } {
  const { strategy } = parseStrategy(STEP, 'the simulated step', 120);
  if (strategy?.type !== 'canary') {
    throw new Error(`${STEP} is not a canary`);
  }
  return { percent: shiftSteps(strategy)[0], stepSeconds: strategy.bakeSeconds };
}

class Tally {
  fail = 0;
  inconclusive = 0;
  pass = 0;
  add(result: 'pass' | 'fail' | 'inconclusive'): void {
    this[result] += 1;
  }
  shares(runs: number): Outcome {
    return { fail: this.fail / runs, inconclusive: this.inconclusive / runs, pass: this.pass / runs };
  }
}

/**
 * The nearest-rank p99 of `n` log-normal latencies median·exp(σ·z), for each σ: exp is increasing, so the
 * latencies' rank order is the z's, and the nearest-rank p99 of the latencies is median·exp(σ · the z at that rank).
 * One set of draws serves every σ.
 */
function p99s(random: Random, n: number, sigmas: readonly number[], buffer: Float64Array): number[] {
  if (n === 0) {
    return sigmas.map(() => NaN);
  }
  if (sigmas.every((s) => s === 0)) {
    return sigmas.map(() => MEDIAN_MS); // every request takes the median: nothing to draw
  }
  const z = buffer.subarray(0, n);
  for (let i = 0; i < n; i++) {
    z[i] = random.normal();
  }
  const zk = kthSmallest(z, Math.max(0, Math.ceil(n * 0.99) - 1));
  return sigmas.map((s) => MEDIAN_MS * Math.exp(s * zk));
}

export function simulate(options: SimOptions): SimResult {
  const policy = options.policy ?? DEFAULT_POLICY;
  const defaults = step();
  const share = (options.percent ?? defaults.percent) / 100;
  const seconds = options.stepSeconds ?? defaults.stepSeconds;
  const random = new Random(options.seed);
  const cells: ErrorCell[] = [];
  for (const rps of options.rps) {
    const total = Math.round(rps * seconds);
    const buffer = new Float64Array(total);
    type Key = string;
    const tallies = new Map<
      Key,
      { identical: Tally; double: Tally; slower: Tally; half: Tally; err: number; lat: number }
    >();
    const key = (rate: number, sigma: number) => `${rate}|${sigma}`;
    for (const rate of options.baseErrorRates) {
      for (const sigma of options.sigmas) {
        tallies.set(key(rate, sigma), {
          identical: new Tally(),
          double: new Tally(),
          slower: new Tally(),
          half: new Tally(),
          err: 0,
          lat: 0,
        });
      }
    }
    let sumNew = 0;
    for (let run = 0; run < options.runs; run++) {
      const newRequests = random.binomial(total, share);
      const oldRequests = total - newRequests;
      sumNew += newRequests;
      const oldP99 = p99s(random, oldRequests, options.sigmas, buffer);
      const newP99 = p99s(random, newRequests, options.sigmas, buffer);
      for (const rate of options.baseErrorRates) {
        const oldErrors = random.binomial(oldRequests, rate);
        const newErrors = random.binomial(newRequests, rate);
        const newErrorsDoubled = random.binomial(newRequests, Math.min(1, 2 * rate));
        const newErrorsHalved = random.binomial(newRequests, rate / 2);
        options.sigmas.forEach((sigma, i) => {
          const t = tallies.get(key(rate, sigma))!;
          const old = { requests: oldRequests, errors: oldErrors, latencyMs: ms(oldP99[i]) };
          const same = { requests: newRequests, errors: newErrors, latencyMs: ms(newP99[i]) };
          const identical = compareColors(old, same, policy);
          t.identical.add(identical.result);
          t.err += identical.metrics[0].result === 'fail' ? 1 : 0;
          t.lat += identical.metrics[1].result === 'fail' ? 1 : 0;
          t.double.add(compareColors(old, { ...same, errors: newErrorsDoubled }, policy).result);
          t.slower.add(compareColors(old, { ...same, latencyMs: ms(newP99[i] * 1.4) }, policy).result);
          t.half.add(compareColors(old, { ...same, errors: newErrorsHalved }, policy).result);
        });
      }
    }
    for (const rate of options.baseErrorRates) {
      for (const sigma of options.sigmas) {
        const t = tallies.get(key(rate, sigma))!;
        cells.push({
          rps,
          baseErrorRate: rate,
          sigma,
          meanNew: sumNew / options.runs,
          meanOld: total - sumNew / options.runs,
          identical: t.identical.shares(options.runs),
          identicalErrorTestFails: t.err / options.runs,
          identicalLatencyFails: t.lat / options.runs,
          doubleErrors: t.double.shares(options.runs),
          slower: t.slower.shares(options.runs),
          halfErrors: t.half.shares(options.runs),
        });
      }
    }
  }
  return { options, cells };
}

/** Latency as the metrics give it: ms with one decimal; no data without requests. */
function ms(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : Math.round(value * 10) / 10;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatTables(result: SimResult): string {
  const lines: string[] = [];
  const { runs, seed, baseErrorRates } = result.options;
  const p99Of = (sigma: number) => `${(MEDIAN_MS * Math.exp(sigma * 2.3263)).toFixed(0)} ms`;
  lines.push(
    `Comparative analysis, simulated: ${runs} step analyses per cell, seed ${seed}; step ${STEP} ` +
      `(10% of traffic for 300 s); DEFAULT_POLICY (error test one-sided at ${DEFAULT_POLICY.errorSignificance}, ` +
      `latency ratio <= ${1 + DEFAULT_POLICY.latencyMargin}, floor ${DEFAULT_POLICY.latencyFloorMs} ms, ` +
      `at least ${DEFAULT_POLICY.minRequests} requests per color); latency log-normal, median ${MEDIAN_MS} ms.`,
  );
  lines.push('');
  lines.push(`Verdicts (fail / inconclusive), latency σ ${SIGMA} (p99 ≈ ${p99Of(SIGMA)}):`);
  lines.push(
    'rps | canary / old requests | base errors | identical: false alarm (error test, latency) | ' +
      '2x errors: caught | +40% latency: caught | half the errors: fail',
  );
  lines.push('--- | --- | --- | --- | --- | --- | ---');
  const both = (o: Outcome) => `${pct(o.fail)} / ${pct(o.inconclusive)}`;
  for (const c of result.cells.filter((x) => x.sigma === SIGMA)) {
    lines.push(
      [
        String(c.rps),
        `${c.meanNew.toFixed(0)} / ${c.meanOld.toFixed(0)}`,
        pct(c.baseErrorRate),
        `${both(c.identical)} (${pct(c.identicalErrorTestFails)}, ${pct(c.identicalLatencyFails)})`,
        both(c.doubleErrors),
        both(c.slower),
        both(c.halfErrors),
      ].join(' | '),
    );
  }
  lines.push('');
  lines.push('Latency alone, by tail (it does not depend on the error rate):');
  lines.push(
    'rps | σ | p99 (≈) | identical: latency false alarm | +40% latency: caught (fail / inconclusive)',
  );
  lines.push('--- | --- | --- | --- | ---');
  for (const c of result.cells.filter((x) => x.baseErrorRate === baseErrorRates[0])) {
    lines.push(
      [String(c.rps), c.sigma.toFixed(1), p99Of(c.sigma), pct(c.identicalLatencyFails), both(c.slower)].join(
        ' | ',
      ),
    );
  }
  return lines.join('\n');
}

/** Wilson's 95% score interval of a share `x` observed over `n` trials. */
export function wilson(x: number, n: number): [number, number] {
  const z = 1.96;
  const centre = (x + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((x * (1 - x)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function option(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  const started = Date.now();
  const result = simulate({
    runs: option('runs') ?? 1000,
    seed: option('seed') ?? 13,
    rps: [3, 20, 100, 1000],
    baseErrorRates: [0.001, 0.005, 0.02],
    sigmas: [SIGMA, HEAVY_SIGMA],
  });
  console.log(formatTables(result));
  const main = result.cells.filter((c) => c.sigma === SIGMA);
  const worst = main.reduce((a, c) => (c.identical.fail > a.identical.fail ? c : a));
  const worstErrors = main.reduce((a, c) => (c.identicalErrorTestFails > a.identicalErrorTestFails ? c : a));
  const runs = result.options.runs;
  const interval = (x: number) => {
    const [lo, hi] = wilson(x, runs);
    return `95% interval ${pct(lo)}-${pct(hi)}`;
  };
  console.log('');
  console.log(
    `worst false-alarm rate (σ ${SIGMA}): ${pct(worst.identical.fail)} at ${worst.rps} rps, ` +
      `${pct(worst.baseErrorRate)} errors (${interval(worst.identical.fail)}; target at most ` +
      `${pct(FALSE_ALARM_TARGET)})${worst.identical.fail <= FALSE_ALARM_TARGET ? '' : '  (MISSES target)'}`,
  );
  // A step too short to judge is extended (onInconclusive "extend", 2 extensions by default) and judged again over
  // the whole, longer window: at 20 requests/s the third judgement covers 15 minutes.
  const extended = simulate({
    runs: result.options.runs,
    seed: result.options.seed + 1,
    rps: [20],
    baseErrorRates: [0.001, 0.005, 0.02],
    sigmas: [SIGMA],
    stepSeconds: 900,
  });
  console.log('');
  console.log(
    '20 requests/s after the default two extensions (the window judged: 15 minutes, fail / inconclusive):',
  );
  console.log('base errors | identical: false alarm | 2x errors: caught | +40% latency: caught');
  console.log('--- | --- | --- | ---');
  for (const c of extended.cells) {
    const both = (o: { fail: number; inconclusive: number }) => `${pct(o.fail)} / ${pct(o.inconclusive)}`;
    console.log([pct(c.baseErrorRate), both(c.identical), both(c.doubleErrors), both(c.slower)].join(' | '));
  }
  console.log('');
  console.log(
    `worst false-alarm rate of the error test alone: ${pct(worstErrors.identicalErrorTestFails)} at ` +
      `${worstErrors.rps} rps, ${pct(worstErrors.baseErrorRate)} errors ` +
      `(${interval(worstErrors.identicalErrorTestFails)}); ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
