/**
 * Time to restore of `bluegreen rollback`, warm against cold, on this machine (issue 15's figure), printed and
 * written to bench-results.cold-rollback.json. Each run plays the rehearsal's scenario 9: release v10, the old color
 * (v1) goes to 0, the operator's cold rollback brings it back (start, healthy, smoke checks, switch), then the
 * operator moves traffic forward again to v10's color, still warm (the warm rollback's moves: lock, fresh reads,
 * one listener change, record, read back). Both are timed from the operator's confirmation to the listener and the
 * record read back on the other color, under the same load; failed requests are counted for each run.
 *
 *   npx tsx bench/cold-rollback.ts [--runs N]   (N >= 3, default 3; part of npm run bench)
 */
import '../rehearsal/quiet';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { rehearse } from '../rehearsal/rehearse';

function option(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

function spread(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

interface Run {
  readonly loadBefore: number;
  readonly coldMs: number;
  readonly scaleUpMs: number;
  readonly smokeMs: number;
  readonly switchMs: number;
  readonly warmMs: number;
  readonly requests: number;
  readonly failed: number;
}

async function main(): Promise<void> {
  const runs = option('runs') ?? 3;
  if (!Number.isInteger(runs) || runs < 3) {
    console.error('usage: tsx bench/cold-rollback.ts [--runs N (>= 3, default 3)]');
    process.exit(2);
  }
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const rows: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const loadBefore = loadavg()[0];
    const result = await rehearse({
      scenarios: [9],
      bakeSeconds: 1,
      concurrency,
      warmBackAfterCold: true,
      log: () => undefined,
    });
    const s = result.scenarios[0];
    const cold = s.coldRollback;
    if (!s.passed || !cold?.result || !cold.warm) {
      throw new Error(
        `run ${i + 1}: scenario 9 ended ${s.outcome}: ${cold?.error?.message ?? 'no cold rollback'}`,
      );
    }
    const t = cold.result.timings;
    rows.push({
      loadBefore,
      coldMs: t.restoreMs,
      scaleUpMs: t.scaleUpMs,
      smokeMs: t.smokeMs,
      switchMs: t.switchMs,
      warmMs: cold.warm.restoreMs,
      requests: s.load.requests,
      failed: s.load.failed,
    });
  }
  const cold = spread(rows.map((r) => r.coldMs));
  const warm = spread(rows.map((r) => r.warmMs));
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const line = (label: string, value: string) => console.log(`${label.padEnd(52)} ${value}`);
  line(
    'rollback, warm: time to restore',
    `median ${s(warm.median)}, min ${s(warm.min)}, max ${s(warm.max)} over ${rows.length} runs`,
  );
  line(
    'rollback, cold: time to restore',
    `median ${s(cold.median)}, min ${s(cold.min)}, max ${s(cold.max)} over ${rows.length} runs`,
  );
  line(
    '  of which scale-up / smoke / switch (median)',
    `${s(spread(rows.map((r) => r.scaleUpMs)).median)} / ${s(spread(rows.map((r) => r.smokeMs)).median)} / ` +
      `${spread(rows.map((r) => r.switchMs)).median} ms`,
  );
  line(
    '  failed requests (whole scenario, each run)',
    rows.map((r) => `${r.failed} of ${r.requests}`).join('; '),
  );
  writeFileSync(
    'bench-results.cold-rollback.json',
    `${JSON.stringify({ machine: { node: process.version, concurrency }, warm, cold, runs: rows }, null, 2)}\n`,
  );
  console.log('written: bench-results.cold-rollback.json');
}

void main();
