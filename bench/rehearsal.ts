/**
 * The rehearsal's figures (issue 4's benchmark), measured in one run on this machine, printed and written to
 * bench-results.json:
 *   - failed requests during a successful switch, out of how many (target 0 of at least 20,000);
 *   - p99 latency in the 2 s after the switch against the steady state before the release (target ≤ 1.2x), over
 *     `--runs N` releases (default 5: the first is the full run's, the others release v2 alone), as median, min
 *     and max; `--warmup N` also runs as many releases with N warm-up requests through the test listener before
 *     each switch (bench/switch-probe.ts), alternating with those without, and prints both; `--instrument`
 *     prints, per run, where the switch window's latency comes from (bench/switch-probe.ts);
 *   - time to restore after a post-switch fault (target ≤ watch interval × failure threshold + 1 s);
 *   - orchestration overhead of a release: wall time minus its configured waits (target < 2 s);
 *   - a naive in-place redeploy (stop v1, start v2 on the same port) under the same load: failures and outage.
 */
import '../rehearsal/quiet';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleApp, freePort } from '../rehearsal/fleet';
import { LoadGenerator, nearestRank } from '../rehearsal/load';
import { rehearse, type ScenarioResult } from '../rehearsal/rehearse';
import type { StateEvent } from '../rehearsal/workflow-runner';
import { attribute, describeAttribution, installProbe, installWarmUp } from './switch-probe';

export const SYNTH_FIGURES = 'bench-results.synth.json';
const INTERVAL_S = 1;
const THRESHOLD = 3;

function option(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values: readonly number[]) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

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

/**
 * p99 of requests sent in the 2 s from the switch (the router's weight change), against those sent in the 2 s
 * before the release started.
 */
function switchFigures(s: ScenarioResult) {
  const prepareAt = s.execution.events.find((e) => e.type === 'entered' && e.state === 'Prepare')?.at;
  // The router's own stamp of the weight change (a warm-up before it runs inside the Switch traffic state);
  // without one, when the state was entered (the same moment within a millisecond or so).
  const switchAt =
    s.switchAt ?? s.execution.events.find((e) => e.type === 'entered' && e.state === 'Switch traffic')?.at;
  if (prepareAt === undefined || switchAt === undefined) {
    throw new Error(`scenario ${s.scenario.id} did not switch (${s.outcome}): no switch figures`);
  }
  const sentIn = (from: number, to: number) =>
    s.samples.filter((x) => x.startedAt >= from && x.startedAt < to).map((x) => x.latencyMs);
  const steady = sentIn(prepareAt - 2000, prepareAt);
  const during = sentIn(switchAt, switchAt + 2000);
  return {
    bounds: {
      steady: [prepareAt - 2000, prepareAt] as [number, number],
      switch: [switchAt, switchAt + 2000] as [number, number],
    },
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

interface SwitchRun {
  readonly warmUp: number;
  readonly loadBefore: number;
  readonly steadyP99Ms: number;
  readonly switchP99Ms: number;
  readonly ratio: number;
  readonly warmUpMs?: number;
}

/**
 * One release of v2 alone (scenario 1), for the p99-at-switch figure: with `warmUp` requests through the test
 * listener before the switch, and with the instruments when asked.
 */
async function switchRun(concurrency: number, warmUp: number, instrument: boolean): Promise<SwitchRun> {
  const loadBefore = loadavg()[0];
  const probe = instrument
    ? installProbe({ testHeader: 'X-Bluegreen-Test-Token', healthPath: '/health' })
    : undefined;
  const warm = warmUp > 0 ? installWarmUp(warmUp, concurrency) : undefined;
  try {
    const result = await rehearse({
      scenarios: [1],
      bakeSeconds: 3,
      watchIntervalSeconds: INTERVAL_S,
      concurrency,
      warmupMs: 4000,
      log: () => undefined,
    });
    const [ok] = result.scenarios;
    if (!ok.passed) {
      throw new Error(`scenario 1 ended ${ok.outcome}`);
    }
    const sw = switchFigures(ok);
    if (probe) {
      const newColor = ok.liveAfter.split(' ')[0] as 'blue' | 'green';
      console.log(
        describeAttribution(
          warmUp,
          loadBefore,
          sw.ratio,
          attribute(probe, ok.samples, sw.bounds, newColor, ok.execution.events),
        ),
      );
    }
    return {
      warmUp,
      loadBefore,
      steadyP99Ms: sw.steadyP99Ms,
      switchP99Ms: sw.switchP99Ms,
      ratio: sw.ratio,
      warmUpMs: warm?.done[0]?.ms,
    };
  } finally {
    probe?.uninstall();
    warm?.uninstall();
  }
}

async function main(): Promise<void> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const runs = option('runs') ?? 5;
  const warmUp = option('warmup') ?? 0;
  const instrument = process.argv.includes('--instrument');
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmUp) || warmUp < 0) {
    console.error(
      'usage: tsx bench/rehearsal.ts [--runs N (>= 1, default 5)] [--warmup REQUESTS] [--instrument]',
    );
    process.exit(2);
  }
  const loadBefore = loadavg()[0];
  const probe = instrument
    ? installProbe({ testHeader: 'X-Bluegreen-Test-Token', healthPath: '/health' })
    : undefined;
  // 4 s of warm-up: the first 2 s (cold processes, JIT) are left out; the last 2 s are the steady baseline.
  // Scenarios 1-3 (all at once); the gradual strategies have their own bench (bench/strategies.ts).
  const result = await rehearse({
    scenarios: [1, 2, 3],
    bakeSeconds: 8,
    watchIntervalSeconds: INTERVAL_S,
    concurrency,
    warmupMs: 4000,
    log: () => undefined,
  }).finally(() => probe?.uninstall());
  const unexpected = result.scenarios.filter((s) => !s.passed);
  if (unexpected.length > 0) {
    throw new Error(
      `scenarios ended unexpectedly: ${unexpected.map((s) => `${s.scenario.id} ${s.outcome}`).join(', ')}`,
    );
  }
  const [ok, fault] = result.scenarios;
  const sw = switchFigures(ok);
  if (probe) {
    console.log(
      describeAttribution(
        0,
        loadBefore,
        sw.ratio,
        attribute(probe, ok.samples, sw.bounds, 'green', ok.execution.events),
      ),
    );
  }
  // The p99-at-switch figure over `runs` releases (this one first); with --warmup, as many with a warm-up,
  // alternating with those without so both see the same drift of the machine's load.
  const switchRuns: SwitchRun[] = [
    { warmUp: 0, loadBefore, steadyP99Ms: sw.steadyP99Ms, switchP99Ms: sw.switchP99Ms, ratio: sw.ratio },
  ];
  for (let i = 1; i < runs || (warmUp > 0 && switchRuns.filter((r) => r.warmUp > 0).length < runs); i++) {
    if (warmUp > 0) {
      switchRuns.push(await switchRun(concurrency, warmUp, instrument));
    }
    if (i < runs) {
      switchRuns.push(await switchRun(concurrency, 0, instrument));
    }
  }
  const without = switchRuns.filter((r) => r.warmUp === 0);
  const withWarmUp = switchRuns.filter((r) => r.warmUp > 0);
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
    successfulSwitch: {
      ...sw,
      target: 'failed 0 of >= 20000; p99 ratio <= 1.2',
      p99Ratio: { ...spread(without.map((r) => r.ratio)), runs: without },
      ...(withWarmUp.length > 0
        ? {
            p99RatioWithWarmUp: {
              ...spread(withWarmUp.map((r) => r.ratio)),
              requests: warmUp,
              runs: withWarmUp,
            },
          }
        : {}),
    },
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
  const ratios = (rows: SwitchRun[]) => {
    const r = spread(rows.map((x) => x.ratio));
    return (
      `median ${r.median.toFixed(2)}x, min ${r.min.toFixed(2)}x, max ${r.max.toFixed(2)}x over ${rows.length} ` +
      `runs (${rows.map((x) => `${x.switchP99Ms.toFixed(1)}/${x.steadyP99Ms.toFixed(1)} ms, load ${x.loadBefore.toFixed(1)}`).join('; ')})`
    );
  };
  line(
    'successful switch: p99 at switch vs steady',
    ratios(without),
    spread(without.map((r) => r.ratio)).median <= 1.2,
  );
  if (withWarmUp.length > 0) {
    line(
      `  the same with ${warmUp} warm-up requests (test listener)`,
      ratios(withWarmUp),
      spread(withWarmUp.map((r) => r.ratio)).median <= 1.2,
    );
  }
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
