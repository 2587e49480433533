/**
 * The simulation's own randomness (bench/analysis-sim.ts): a seeded PRNG, and exact samplers built on it, so the
 * same seed always prints the same table.
 *
 * - `Random`: xoshiro128** (Blackman & Vigna), seeded through splitmix32; doubles with 53 random bits.
 * - `binomial`: the sum of geometric waiting times (exact at any n and p; its cost is about n·min(p, 1-p) draws,
 *   cheap for the rates simulated here). No normal approximation: at 0.1% of 600 requests the count is 0, 1 or 2.
 * - `normal`: Box-Muller; `logNormal` from it.
 * - `kthSmallest`: quickselect, the same value as sorting and indexing (what `nearestRank` does), in linear time.
 */

// Taken once: in Jest's sandbox every lookup of the global Math costs about 15 times a plain call.
const { cos, floor, log, log1p, PI, sin, sqrt, exp, imul } = Math;

export class Random {
  private s: Uint32Array;
  private spare: number | undefined;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      // splitmix32: spreads any seed (0 included) over the four words of state
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  /** 32 random bits. */
  uint32(): number {
    const s = this.s;
    const result = imul(rotl(imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), 53 bits. */
  next(): number {
    return ((this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6)) / 9007199254740992;
  }

  /** Uniform in (0, 1]: safe under a logarithm. */
  nextPositive(): number {
    return 1 - this.next();
  }

  /** Standard normal (Box-Muller, the second value of each pair kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const r = sqrt(-2 * log(this.nextPositive()));
    const theta = 2 * PI * this.next();
    this.spare = r * sin(theta);
    return r * cos(theta);
  }

  /** Log-normal with the given median and σ of its logarithm. */
  logNormal(median: number, sigma: number): number {
    return median * exp(sigma * this.normal());
  }

  /** Binomial(n, p), exactly: successes counted by geometric jumps between them. */
  binomial(n: number, p: number): number {
    if (!(p >= 0 && p <= 1) || !Number.isInteger(n) || n < 0) {
      throw new RangeError(`binomial(${n}, ${p}): n must be a whole number >= 0 and p in [0, 1]`);
    }
    if (p > 0.5) {
      return n - this.binomial(n, 1 - p);
    }
    if (p === 0 || n === 0) {
      return 0;
    }
    const lnq = log1p(-p);
    let successes = 0;
    // The trial of the next success: 1 + Geometric(p) failures after the previous one.
    let at = floor(log(this.nextPositive()) / lnq) + 1;
    while (at <= n) {
      successes += 1;
      at += floor(log(this.nextPositive()) / lnq) + 1;
    }
    return successes;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The k-th smallest (0-based) of `values`, which it reorders (quickselect, Hoare partition, median of three). */
export function kthSmallest(values: Float64Array, k: number): number {
  if (k < 0 || k >= values.length) {
    throw new RangeError(`kthSmallest: k ${k} outside 0..${values.length - 1}`);
  }
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = values[lo];
    const b = values[mid];
    const c = values[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) {
      hi = j;
    } else if (k >= i) {
      lo = i;
    } else {
      return values[k];
    }
  }
  return values[k];
}

/** The nearest-rank p-quantile (0 < p ≤ 1), as `nearestRank` in rehearsal/load.ts computes it. */
export function nearestRankOf(values: Float64Array, p: number): number {
  return values.length === 0 ? 0 : kthSmallest(values, Math.max(0, Math.ceil(values.length * p) - 1));
}
