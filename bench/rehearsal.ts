/**
 * The rehearsal's figures (issue 4's benchmark), measured in one run on this machine, printed and written to
 * bench-results.json:
 *   - failed requests during a successful switch, out of how many (target 0 of at least 20,000);
 *   - p99 latency in the 2 s after the switch against the steady state before the release (target ≤ 1.2x);
 *   - time to restore after a post-switch fault (target ≤ watch interval × failure threshold + 1 s);
 *   - orchestration overhead of a release: wall time minus the time spent in Wait states, which hold the
 *     configured waits and the app's own start-up (target < 2 s);
 *   - a naive in-place redeploy (stop v1, start v2 on the same port) under the same load: failures and outage.
 */
import '../rehearsal/quiet';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleApp, freePort } from '../rehearsal/fleet';
import { LoadGenerator } from '../rehearsal/load';
import { rehearse, type ScenarioResult } from '../rehearsal/rehearse';
import type { StateEvent } from '../rehearsal/workflow-runner';

const WAIT_STATES = new Set(['Wait for idle color', 'Bake: wait', 'Keep old color warm']);
const INTERVAL_S = 1;
const THRESHOLD = 3;

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

function overheadMs(events: readonly StateEvent[]): { wallMs: number; waitsMs: number; overheadMs: number } {
  const wallMs = events[events.length - 1].at - events[0].at;
  let waitsMs = 0;
  const entered = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'entered') {
      entered.set(e.state, e.at);
    } else if (e.type === 'exited' && WAIT_STATES.has(e.state)) {
      waitsMs += e.at - (entered.get(e.state) ?? e.at);
    }
  }
  return { wallMs, waitsMs, overheadMs: wallMs - waitsMs };
}

function switchFigures(s: ScenarioResult) {
  const prepareAt = s.execution.events.find((e) => e.state === 'Prepare')?.at ?? 0;
  const steady = s.samples.filter((x) => x.at < prepareAt).map((x) => x.latencyMs);
  const at = s.switchAt ?? 0;
  const window = s.samples.filter((x) => x.at >= at && x.at < at + 2000).map((x) => x.latencyMs);
  return {
    requests: s.load.requests,
    failed: s.load.failed,
    steadyP99Ms: p99(steady),
    switchP99Ms: p99(window),
    ratio: p99(window) / Math.max(p99(steady), 0.001),
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
  const result = await rehearse({
    bakeSeconds: 8,
    watchIntervalSeconds: INTERVAL_S,
    concurrency,
    warmupMs: 2000,
    log: () => undefined,
  });
  const [ok, fault] = result.scenarios;
  const sw = switchFigures(ok);
  const restoreTargetMs = INTERVAL_S * THRESHOLD * 1000 + 1000;
  const overhead = overheadMs(ok.execution.events);
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
    orchestration: { ...overhead, targetMs: 2000 },
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
    'orchestration overhead (wall − Wait states)',
    `${(overhead.overheadMs / 1000).toFixed(2)} s of ${(overhead.wallMs / 1000).toFixed(2)} s`,
    overhead.overheadMs < 2000,
  );
  line(
    'naive in-place redeploy: failed requests',
    `${naive.failed} of ${naive.requests}, outage ${(naive.outageMs / 1000).toFixed(2)} s`,
  );
  writeFileSync('bench-results.json', `${JSON.stringify(figures, null, 2)}\n`);
  console.log('written: bench-results.json');
}

void main();
