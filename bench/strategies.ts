/**
 * Strategies side by side (issue 13's benchmark): the same bad release (fail-under-traffic: every user request
 * fails, validation and health checks pass) released all at once, as a 10% canary and in linear 25% steps, through
 * the local rehearsal (real processes, the local load balancer, steady load, the real state machine). Per strategy:
 *   - failed requests users saw, and how many requests the load balancer routed while the bad color had a share;
 *   - time to detect: from the first weight change that sent users to the bad color to the rollback's start (the
 *     Roll back state entered);
 *   - time to restore: from that weight change to the rollback's weight change (all traffic back on the old color).
 * Target: a canary's failed requests at most 20% of all-at-once's. Printed, and written to
 * bench-results.strategies.json. BENCH_CONCURRENCY sets the load's clients (default 16), BENCH_RUNS how many times
 * each strategy is played (default 3; the failed requests are summed, the times' medians taken).
 */
import '../rehearsal/quiet';
import { writeFileSync } from 'node:fs';
import { rehearse, type ScenarioResult } from '../rehearsal/rehearse';
import type { Scenario } from '../rehearsal/scenarios';

const BAD = 'fail-under-traffic';
const STRATEGIES = [
  { title: 'all at once' },
  { title: 'canary 10%', strategy: 'canary:10:4s' },
  { title: 'linear 25%', strategy: 'linear:25:4s' },
] as const;

/** Each strategy `runs` times, interleaved (a machine that slows down slows all three alike). */
function catalogue(runs: number): Scenario[] {
  return Array.from({ length: runs }, (_, run) =>
    STRATEGIES.map((s, i) => ({
      id: run * STRATEGIES.length + i + 1,
      title: s.title,
      version: `b${run * STRATEGIES.length + i + 1}`,
      misbehave: BAD,
      ...('strategy' in s ? { strategy: s.strategy } : {}),
      expect: 'RolledBack' as const,
    })),
  ).flat();
}

interface Figures {
  readonly strategy: string;
  readonly outcome: string;
  readonly failed: number;
  readonly requests: number;
  /** Requests the load balancer routed from the first change to the bad color until the rollback's change. */
  readonly routedWhileExposed: number;
  readonly detectMs: number;
  readonly restoreMs: number;
  /** What caught it: the error the rollback names. */
  readonly caughtBy: string;
}

function figures(s: ScenarioResult): Figures {
  // The color the release deployed to (Prepare's idle color), and the first change that gave it users.
  const bad = s.execution.lastInput?.release?.idle;
  const first = s.weightChanges.find((c) => bad !== undefined && c.weights[bad] > 0);
  if (!bad || !first) {
    throw new Error(`${s.scenario.title}: traffic never reached the release (${s.outcome})`);
  }
  // The rollback's change: the first after the exposure that gives the bad color nothing.
  const restored = s.weightChanges.find((c) => c.index > first.index && c.weights[bad] === 0);
  const rollbackAt = s.execution.events.find((e) => e.type === 'entered' && e.state === 'Roll back')?.at;
  if (!restored || rollbackAt === undefined) {
    throw new Error(`${s.scenario.title}: no rollback (${s.outcome}: ${s.execution.cause ?? ''})`);
  }
  return {
    strategy: s.scenario.title,
    outcome: s.outcome,
    failed: s.load.failed,
    requests: s.load.requests,
    routedWhileExposed: s.routed.filter((r) => r.change >= first.index && r.change < restored.index).length,
    detectMs: rollbackAt - first.at,
    restoreMs: restored.at - first.at,
    caughtBy: /^(\w+):/.exec(s.execution.cause ?? '')?.[1] ?? '?',
  };
}

async function main(): Promise<void> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const result = await rehearse({
    catalogue: catalogue(runs),
    bakeSeconds: 6,
    watchIntervalSeconds: 1,
    concurrency,
    warmupMs: 2000,
    log: () => undefined,
  });
  const unexpected = result.scenarios.filter((s) => !s.passed);
  if (unexpected.length > 0) {
    throw new Error(
      `strategies ended unexpectedly: ${unexpected.map((s) => `${s.scenario.title} ${s.outcome}`).join(', ')}`,
    );
  }
  const rows = result.scenarios.map(figures);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  console.log(
    `the same bad release (${BAD}) under each strategy, ${concurrency} clients, ${runs} run(s) each:`,
  );
  console.log('');
  console.log(
    'run | strategy | failed requests | routed while exposed | time to detect | time to restore | caught by',
  );
  console.log('--- | --- | --- | --- | --- | --- | ---');
  rows.forEach((r, i) => {
    console.log(
      [
        Math.floor(i / STRATEGIES.length) + 1,
        r.strategy,
        `${r.failed} of ${r.requests}`,
        r.routedWhileExposed,
        ms(r.detectMs),
        ms(r.restoreMs),
        r.caughtBy,
      ].join(' | '),
    );
  });
  const totals = STRATEGIES.map(({ title }) => {
    const mine = rows.filter((r) => r.strategy === title);
    const failed = mine.reduce((sum, r) => sum + r.failed, 0);
    const exposed = mine.reduce((sum, r) => sum + r.routedWhileExposed, 0);
    return {
      strategy: title,
      failed,
      routedWhileExposed: exposed,
      /** Of the requests routed while the bad release had a share, the part that failed. */
      failedPerRouted: exposed === 0 ? NaN : failed / exposed,
      medianDetectMs: median(mine.map((r) => r.detectMs)),
      medianRestoreMs: median(mine.map((r) => r.restoreMs)),
    };
  });
  console.log('');
  console.log(
    'strategy | failed requests (all runs) | failed of routed while exposed | median time to detect | ' +
      'median time to restore',
  );
  console.log('--- | --- | --- | --- | ---');
  for (const t of totals) {
    console.log(
      [
        t.strategy,
        t.failed,
        `${t.failed} of ${t.routedWhileExposed} (${(100 * t.failedPerRouted).toFixed(1)}%)`,
        ms(t.medianDetectMs),
        ms(t.medianRestoreMs),
      ].join(' | '),
    );
  }
  const [allAtOnce, canary] = totals;
  const share = allAtOnce.failed === 0 ? NaN : canary.failed / allAtOnce.failed;
  const meets = share <= 0.2;
  // The machine's throughput changes from run to run (and the colors are shared with whatever else runs): at
  // equal traffic, the failed requests compare as the failed shares of what was routed while exposed, times the
  // exposure (the time to restore).
  const atEqualTraffic =
    (canary.failedPerRouted * canary.medianRestoreMs) /
    (allAtOnce.failedPerRouted * allAtOnce.medianRestoreMs);
  console.log('');
  console.log(
    `canary's failed requests: ${(100 * share).toFixed(1)}% of all-at-once's (target at most 20%): ` +
      (meets ? 'meets target' : 'MISSES target'),
  );
  console.log(
    `at equal traffic (failed share while exposed × time to restore): ${(100 * atEqualTraffic).toFixed(1)}% ` +
      `of all-at-once's: ${atEqualTraffic <= 0.2 ? 'meets target' : 'MISSES target'}`,
  );
  writeFileSync(
    'bench-results.strategies.json',
    `${JSON.stringify(
      {
        machine: { node: process.version, concurrency },
        misbehaviour: BAD,
        runs: rows,
        strategies: totals,
        canaryFailedShareOfAllAtOnce: { value: share, atEqualTraffic, target: 0.2, meets },
      },
      null,
      2,
    )}\n`,
  );
  console.log('written: bench-results.strategies.json');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

void main();
