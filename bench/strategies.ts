/**
 * Strategies side by side (issue 13's benchmark): the same bad release (fail-under-traffic: every user request
 * fails, validation and health checks pass) released all at once, as a 10% canary and in linear 25% steps, through
 * the local rehearsal (real processes, the local load balancer, steady load, the real state machine). Per strategy:
 *   - failed requests users saw, and how many requests the load balancer routed while the bad color had a share;
 *   - time to detect: from the first weight change that sent users to the bad color to the rollback's start (the
 *     Roll back state entered);
 *   - time to restore: from that weight change to the rollback's weight change (all traffic back on the old color).
 * Target: a canary's failed requests at most 20% of all-at-once's. Printed, and written to
 * bench-results.strategies.json. BENCH_CONCURRENCY sets the load's clients (default 16).
 */
import '../rehearsal/quiet';
import { writeFileSync } from 'node:fs';
import { rehearse, type ScenarioResult } from '../rehearsal/rehearse';
import type { Scenario } from '../rehearsal/scenarios';

const BAD = 'fail-under-traffic';
const STRATEGIES: readonly Scenario[] = [
  { id: 1, title: 'all at once', version: 'b1', misbehave: BAD, expect: 'RolledBack' },
  {
    id: 2,
    title: 'canary 10%',
    version: 'b2',
    misbehave: BAD,
    strategy: 'canary:10:4s',
    expect: 'RolledBack',
  },
  {
    id: 3,
    title: 'linear 25%',
    version: 'b3',
    misbehave: BAD,
    strategy: 'linear:25:4s',
    expect: 'RolledBack',
  },
];

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
  const result = await rehearse({
    catalogue: STRATEGIES,
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
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`the same bad release (${BAD}) under each strategy, ${concurrency} clients:`);
  console.log('');
  console.log(
    'strategy | failed requests | routed while exposed | time to detect | time to restore | caught by',
  );
  console.log('--- | --- | --- | --- | --- | ---');
  for (const r of rows) {
    console.log(
      [
        r.strategy,
        `${r.failed} of ${r.requests}`,
        r.routedWhileExposed,
        seconds(r.detectMs),
        seconds(r.restoreMs),
        r.caughtBy,
      ].join(' | '),
    );
  }
  const [allAtOnce, canary] = rows;
  const share = allAtOnce.failed === 0 ? NaN : canary.failed / allAtOnce.failed;
  const meets = share <= 0.2;
  console.log('');
  console.log(
    `canary's failed requests: ${(100 * share).toFixed(1)}% of all-at-once's (target at most 20%): ` +
      (meets ? 'meets target' : 'MISSES target'),
  );
  writeFileSync(
    'bench-results.strategies.json',
    `${JSON.stringify(
      {
        machine: { node: process.version, concurrency },
        misbehaviour: BAD,
        strategies: rows,
        canaryFailedShareOfAllAtOnce: { value: share, target: 0.2, meets },
      },
      null,
      2,
    )}\n`,
  );
  console.log('written: bench-results.strategies.json');
}

void main();
