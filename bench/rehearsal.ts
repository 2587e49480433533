/**
 * The rehearsal's figures (issue 4's benchmark), measured in one run on this machine, printed and written to
 * bench-results.json:
 *   - failed requests during a successful switch, out of how many (target 0 of at least 20,000);
 *   - p99 latency in the 2 s after the switch against the steady state before the release (target ≤ 1.2x);
 *   - time to restore after a post-switch fault (target ≤ watch interval × failure threshold + 1 s);
 *   - orchestration overhead of a release: wall time minus its configured waits (target < 2 s);
 *   - a naive in-place redeploy (stop v1, start v2 on the same port) under the same load: failures and outage.
 */
import '../rehearsal/quiet';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleApp, freePort } from '../rehearsal/fleet';
import { LoadGenerator, nearestRank } from '../rehearsal/load';
import { rehearse, type ScenarioResult } from '../rehearsal/rehearse';
import type { StateEvent } from '../rehearsal/workflow-runner';

export const SYNTH_FIGURES = 'bench-results.synth.json';
const INTERVAL_S = 1;
const THRESHOLD = 3;

function p99(latencies: number[]): number {
  return nearestRank(latencies, 0.99);
}

/**
 * Orchestration overhead: the release's wall time minus its configured waits (every Wait state entered, at its
 * configured length). The app's start-up happens inside the deploy loop's waits, so it is not subtracted again:
 * the figure is an upper bound of the issue's "wall time minus the configured waits and the app's start time".
 */
function overhead(events: readonly StateEvent[], timings: Record<string, number>) {
  const configured: Record<string, number> = {
    'Wait for idle color': timings.deployPollSeconds,
    'Bake: wait': timings.watchIntervalSeconds,
    'Keep old color warm': timings.finishDelaySeconds,
  };
  const wallMs = events[events.length - 1].at - events[0].at;
  const waitsMs = events
    .filter((e) => e.type === 'entered' && e.state in configured)
    .reduce((sum, e) => sum + configured[e.state] * 1000, 0);
  return { wallMs, configuredWaitsMs: waitsMs, overheadMs: wallMs - waitsMs };
}

/** p99 of requests sent in the 2 s from the switch, against those sent in the 2 s before the release started. */
function switchFigures(s: ScenarioResult) {
  const prepareAt = s.execution.events.find((e) => e.type === 'entered' && e.state === 'Prepare')?.at;
  const switchAt = s.execution.events.find((e) => e.type === 'entered' && e.state === 'Switch traffic')?.at;
  if (prepareAt === undefined || switchAt === undefined) {
    throw new Error(`scenario ${s.scenario.id} did not switch (${s.outcome}): no switch figures`);
  }
  const sentIn = (from: number, to: number) =>
    s.samples.filter((x) => x.startedAt >= from && x.startedAt < to).map((x) => x.latencyMs);
  const steady = sentIn(prepareAt - 2000, prepareAt);
  const during = sentIn(switchAt, switchAt + 2000);
  return {
    requests: s.load.requests,
    failed: s.load.failed,
    steadyP99Ms: p99(steady),
    switchP99Ms: p99(during),
    ratio: p99(during) / Math.max(p99(steady), 0.001),
    windows: { steadyRequests: steady.length, switchRequests: during.length },
  };
}

/** Stop v1, start v2 on the same port, under load: what a release without blue/green costs. */
async function naiveRedeploy(appFile: string, concurrency: number) {
  const port = await freePort();
  const start = (version: string) =>
    new Promise<ReturnType<typeof spawn>>((resolve) => {
      const child = spawn(process.execPath, [appFile], {
        env: {
          PATH: process.env.PATH,
          HOST: '127.0.0.1',
          PORT: String(port),
          BLUEGREEN_VERSION: version,
          BLUEGREEN_COLOR: 'none',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('"listening"') && resolve(child));
    });
  const v1 = await start('v1');
  const load = new LoadGenerator(`http://127.0.0.1:${port}/`, concurrency);
  load.start();
  await new Promise((r) => setTimeout(r, 2000));
  await new Promise<void>((resolve) => {
    v1.once('exit', () => resolve());
    v1.kill('SIGTERM');
  });
  const v2 = await start('v2');
  await new Promise((r) => setTimeout(r, 2000));
  const samples = await load.stop();
  v2.kill('SIGTERM');
  const failed = samples.filter((x) => x.status === 0 || x.status >= 500);
  const outageMs = failed.length > 0 ? failed[failed.length - 1].at - failed[0].at : 0;
  return { requests: samples.length, failed: failed.length, outageMs };
}

async function main(): Promise<void> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  // 4 s of warm-up: the first 2 s (cold processes, JIT) are left out; the last 2 s are the steady baseline.
  const result = await rehearse({
    bakeSeconds: 8,
    watchIntervalSeconds: INTERVAL_S,
    concurrency,
    warmupMs: 4000,
    log: () => undefined,
  });
  const unexpected = result.scenarios.filter((s) => !s.passed);
  if (unexpected.length > 0) {
    throw new Error(
      `scenarios ended unexpectedly: ${unexpected.map((s) => `${s.scenario.id} ${s.outcome}`).join(', ')}`,
    );
  }
  const [ok, fault] = result.scenarios;
  const sw = switchFigures(ok);
  const restoreTargetMs = INTERVAL_S * THRESHOLD * 1000 + 1000;
  const orchestration = overhead(ok.execution.events, {
    deployPollSeconds: 1,
    watchIntervalSeconds: INTERVAL_S,
    finishDelaySeconds: 1,
  });
  const naive = await naiveRedeploy(
    buildSampleApp(join(mkdtempSync(join(tmpdir(), 'bluegreen-bench-')), 'app.js')),
    concurrency,
  );
  const figures = {
    machine: { node: process.version, concurrency },
    successfulSwitch: { ...sw, target: 'failed 0 of >= 20000; p99 ratio <= 1.2' },
    timeToRestoreMs: {
      value: fault.load.restoreMs,
      failedDuringDetection: fault.load.failed,
      targetMs: restoreTargetMs,
    },
    orchestration: { ...orchestration, targetMs: 2000 },
    naiveInPlaceRedeploy: naive,
  };
  const line = (label: string, value: string, ok?: boolean) =>
    console.log(
      `${label.padEnd(52)} ${value}${ok === undefined ? '' : ok ? '  (meets target)' : '  (MISSES target)'}`,
    );
  line(
    'successful switch: failed requests',
    `${sw.failed} of ${sw.requests}`,
    sw.failed === 0 && sw.requests >= 20_000,
  );
  line(
    'successful switch: p99 at switch vs steady',
    `${sw.switchP99Ms.toFixed(1)} ms vs ${sw.steadyP99Ms.toFixed(1)} ms (${sw.ratio.toFixed(2)}x)`,
    sw.ratio <= 1.2,
  );
  line(
    'post-switch fault: time to restore',
    `${((fault.load.restoreMs ?? NaN) / 1000).toFixed(2)} s (target ${restoreTargetMs / 1000} s)`,
    (fault.load.restoreMs ?? Infinity) <= restoreTargetMs,
  );
  line(
    'orchestration overhead (wall − configured waits)',
    `${(orchestration.overheadMs / 1000).toFixed(2)} s of ${(orchestration.wallMs / 1000).toFixed(2)} s`,
    orchestration.overheadMs < 2000,
  );
  line(
    'naive in-place redeploy: failed requests',
    `${naive.failed} of ${naive.requests}, outage ${(naive.outageMs / 1000).toFixed(2)} s`,
  );
  // npm run bench runs synth.ts first; its figures (synth time, stacks, bundles) go in the same file.
  const synth = existsSync(SYNTH_FIGURES)
    ? (JSON.parse(readFileSync(SYNTH_FIGURES, 'utf8')) as unknown)
    : undefined;
  writeFileSync('bench-results.json', `${JSON.stringify({ ...figures, synth }, null, 2)}\n`);
  console.log('written: bench-results.json');
}

void main();
