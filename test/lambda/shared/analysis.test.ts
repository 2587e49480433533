import { DEFAULT_POLICY } from '../../../lambda/shared/strategy';
import fc from 'fast-check';
import { compareColors, fisherOneSided, lnGamma, type AnalysisPolicy } from '../../../lambda/shared/analysis';

const POLICY: AnalysisPolicy = {
  minRequests: 500,
  errorSignificance: 0.05,
  latencyMargin: 0.2,
  latencyFloorMs: 5,
  critical: { errors: true, latency: true },
};

/** The exact upper tail by brute force with BigInt binomials (small tables only). */
function exactTail(a: number, n1: number, b: number, n2: number): number {
  const choose = (n: number, k: number): bigint => {
    if (k < 0 || k > n) {
      return 0n;
    }
    let r = 1n;
    for (let i = 1; i <= k; i++) {
      r = (r * BigInt(n - k + i)) / BigInt(i);
    }
    return r;
  };
  const errors = a + b;
  let num = 0n;
  for (let k = a; k <= Math.min(errors, n1); k++) {
    num += choose(errors, k) * choose(n1 + n2 - errors, n1 - k);
  }
  return Number((num * 10n ** 15n) / choose(n1 + n2, n1)) / 1e15;
}

describe("comparative analysis: Fisher's exact test", () => {
  test('ln Γ matches the factorials', () => {
    for (const [n, factorial] of [
      [1, 1],
      [5, 24],
      [11, 3628800],
    ]) {
      expect(lnGamma(n)).toBeCloseTo(Math.log(factorial), 10);
    }
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  test("Fisher's tea-tasting table: 3 of 4 against 1 of 4 gives 17/70", () => {
    expect(fisherOneSided(3, 4, 1, 4)).toBeCloseTo(17 / 70, 12);
  });

  test('agrees with the exact tail on random small tables', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.nat(),
        fc.nat(),
        (n1, n2, x, y) => {
          const a = x % (n1 + 1);
          const b = y % (n2 + 1);
          expect(fisherOneSided(a, n1, b, n2)).toBeCloseTo(exactTail(a, n1, b, n2), 9);
        },
      ),
      { numRuns: 300, seed: 13 },
    );
  });

  test('no errors on the new color is never evidence against it (p = 1)', () => {
    expect(fisherOneSided(0, 1000, 40, 1000)).toBeCloseTo(1, 12);
  });
});

describe('comparative analysis: the verdict', () => {
  test('a doubled 0.5% error rate with 10,000 requests each fails, and says why with both values', () => {
    const v = compareColors(
      { requests: 10_000, errors: 50, latencyMs: 120 },
      { requests: 10_000, errors: 100, latencyMs: 118 },
      POLICY,
    );
    expect(v.result).toBe('fail');
    const errors = v.metrics.find((m) => m.metric === 'errors')!;
    expect(errors).toMatchObject({
      result: 'fail',
      old: '50 of 10000 failed (0.50%)',
      new: '100 of 10000 failed (1.0%)',
    });
    expect(errors.value).toBeLessThan(1e-4);
    expect(v.summary).toMatch(
      /^FAIL: errors: fail, new 100 of 10000 failed \(1\.0%\) against old 50 of 10000 failed \(0\.50%\): p = /,
    );
  });

  test('about the same rates and latency on both colors pass', () => {
    const v = compareColors(
      { requests: 10_000, errors: 50, latencyMs: 120 },
      { requests: 10_000, errors: 52, latencyMs: 125 },
      POLICY,
    );
    expect(v.result).toBe('pass');
    expect(v.metrics.map((m) => m.result)).toEqual(['pass', 'pass']);
  });

  test('too few requests is inconclusive, never a pass, even when the new color has no error', () => {
    const v = compareColors(
      { requests: 40, errors: 1, latencyMs: 100 },
      { requests: 40, errors: 0, latencyMs: 90 },
      POLICY,
    );
    expect(v.result).toBe('inconclusive');
    expect(v.summary).toContain('too few requests (old 40, new 40; at least 500 each)');
  });

  test('latency 40% over the old color fails by ratio; under the absolute floor it never does', () => {
    const slow = compareColors(
      { requests: 5_000, errors: 0, latencyMs: 200 },
      { requests: 5_000, errors: 0, latencyMs: 280 },
      POLICY,
    );
    expect(slow.result).toBe('fail');
    expect(slow.metrics[1]).toMatchObject({ result: 'fail', value: 1.4, threshold: 1.2 });
    const tiny = compareColors(
      { requests: 5_000, errors: 0, latencyMs: 2 },
      { requests: 5_000, errors: 0, latencyMs: 4 },
      POLICY,
    );
    expect(tiny.metrics[1].result).toBe('pass');
  });

  test('an advisory metric is reported but does not fail the verdict', () => {
    const v = compareColors(
      { requests: 5_000, errors: 0, latencyMs: 200 },
      { requests: 5_000, errors: 0, latencyMs: 400 },
      { ...POLICY, critical: { errors: true, latency: false } },
    );
    expect(v.result).toBe('pass');
    expect(v.summary).toContain(
      'latency: fail, new 400 ms against old 200 ms: ratio 2.00 (limit 1.2) [advisory]',
    );
  });
});

describe('a latency percentile needs requests beyond it', () => {
  const policy = DEFAULT_POLICY;
  test('p99 of 600 requests (its 6th slowest) is inconclusive; of 1,000 it is judged', () => {
    const slow = (requests: number) =>
      compareColors(
        { requests: requests * 9, errors: 0, latencyMs: 100 },
        { requests, errors: 0, latencyMs: 200 },
        policy,
        99,
      ).metrics[1];
    expect(slow(600)).toMatchObject({ result: 'inconclusive' });
    expect(slow(600).explanation).toBe(
      'latency: inconclusive, too few requests for a p99 (old 5400, new 600; at least 1000 each, 10 beyond the percentile)',
    );
    expect(slow(1000)).toMatchObject({ result: 'fail', value: 2 });
  });
  test('p90 needs 100: the error minimum decides', () => {
    const v = compareColors(
      { requests: 900, errors: 0, latencyMs: 100 },
      { requests: 100, errors: 0, latencyMs: 101 },
      policy,
      90,
    );
    expect(v.metrics[1]).toMatchObject({ result: 'pass' });
  });
});
