/**
 * Instruments for the p99-at-switch figure of bench/rehearsal.ts (issue 13): where does the latency of the
 * requests sent just after the switch come from? Bench-only: it hooks, in the bench's own process, what the
 * rehearsal's router does (it changes nothing it decides), and is installed only with `--instrument`.
 *
 *   - every request the router forwards to an app process (http.Agent's addRequest: each target has its own
 *     agent): which color and process, the how-many-th request of that process it is, and how long the process
 *     took to answer (request sent → response headers, on the router's side);
 *   - the bench process's event-loop lag (one timer every 20 ms: router, load generator and the workflow's steps
 *     all share this loop, so a blocked loop delays every request in flight);
 *   - the time spent in the router's metrics reads (what the bake's checks and alarms call once a second).
 *
 * And, bench-only too, the warm-up: before the router gives production traffic to a color that had none, send
 * `requests` requests through the test listener to that color (what a warm-up in the Validate step would do).
 */
import { Agent, type ClientRequest } from 'node:http';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { nearestRank } from '../rehearsal/load';
import { LocalRouter, type Target } from '../rehearsal/router';
import type { Color } from '../lambda/shared/release-record';
import type { TrafficWeights } from '../lambda/shared/traffic';

export interface Upstream {
  readonly color: Color;
  readonly target: string;
  /** 1 for the process's first forwarded request (test listener included, health checks not). */
  readonly ordinal: number;
  readonly test: boolean;
  readonly sentAt: number;
  ms?: number;
}

export interface Probe {
  readonly upstream: Upstream[];
  /** Event-loop lag above 2 ms: when the timer fired late, and by how much. */
  readonly lags: { at: number; ms: number }[];
  /** Router metrics reads: when they ended, how long they took. */
  readonly reads: { at: number; ms: number }[];
  /** The bench process's garbage collections: when they started, how long they paused it. */
  readonly gcs: { at: number; ms: number; major: boolean }[];
  uninstall(): void;
}

interface Registered {
  readonly color: Color;
  readonly id: string;
  count: number;
}

type Patched<T> = { -readonly [K in keyof T]: T[K] };

/** Installs the instruments; `uninstall()` puts everything back. */
export function installProbe(options: { testHeader: string; healthPath: string }): Probe {
  const byPort = new Map<number, Registered>();
  const upstream: Upstream[] = [];
  const lags: { at: number; ms: number }[] = [];
  const reads: { at: number; ms: number }[] = [];
  const router = LocalRouter.prototype as Patched<LocalRouter>;
  const originalRegister = router.register;
  router.register = function (this: LocalRouter, color: Color, target: Target) {
    byPort.set(target.port, { color, id: target.id, count: 0 });
    return originalRegister.call(this, color, target);
  };
  const originalMetrics = router.metrics;
  router.metrics = function (this: LocalRouter, ...args: Parameters<LocalRouter['metrics']>) {
    const started = performance.now();
    const result = originalMetrics.apply(this, args);
    reads.push({ at: Date.now(), ms: performance.now() - started });
    return result;
  };
  const originalRecent = router.recentSamples;
  router.recentSamples = function (this: LocalRouter, ...args: Parameters<LocalRouter['recentSamples']>) {
    const started = performance.now();
    const result = originalRecent.apply(this, args);
    reads.push({ at: Date.now(), ms: performance.now() - started });
    return result;
  };
  const agent = Agent.prototype as unknown as {
    addRequest: (req: ClientRequest, options: { port?: number | string; path?: string }) => void;
  };
  const originalAddRequest = agent.addRequest;
  agent.addRequest = function (this: Agent, req, opts) {
    const target = byPort.get(Number(opts.port));
    if (target && req.path !== options.healthPath) {
      target.count += 1;
      const entry: Upstream = {
        color: target.color,
        target: target.id,
        ordinal: target.count,
        test: req.getHeader(options.testHeader) !== undefined,
        sentAt: Date.now(),
      };
      const started = performance.now();
      upstream.push(entry);
      req.once('response', () => (entry.ms = performance.now() - started));
    }
    return originalAddRequest.call(this, req, opts);
  };
  const gcs: { at: number; ms: number; major: boolean }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // major: mark-sweep-compact; the others (scavenge, incremental marking, weak callbacks) are shorter pauses
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      gcs.push({
        at: performance.timeOrigin + e.startTime,
        ms: e.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let expected = performance.now() + 20;
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - expected > 2) {
      lags.push({ at: Date.now(), ms: now - expected });
    }
    expected = now + 20;
  }, 20);
  timer.unref();
  return {
    upstream,
    lags,
    reads,
    gcs,
    uninstall: () => {
      clearInterval(timer);
      gcObserver.disconnect();
      router.register = originalRegister;
      router.metrics = originalMetrics;
      router.recentSamples = originalRecent;
      agent.addRequest = originalAddRequest;
    },
  };
}

/**
 * The warm-up: while installed, a production weight change that gives traffic to a color that had none first
 * sends `requests` requests (`concurrency` at a time) through the test listener, which forwards to that color.
 * Returns the function that removes it, and the warm-ups done (how many requests, how long).
 */
export function installWarmUp(
  requests: number,
  concurrency: number,
): { uninstall: () => void; done: { requests: number; failed: number; ms: number }[] } {
  const router = LocalRouter.prototype as Patched<LocalRouter>;
  const original = router.setProductionWeights;
  const done: { requests: number; failed: number; ms: number }[] = [];
  router.setProductionWeights = async function (
    this: LocalRouter,
    weights: TrafficWeights,
    ...rest: unknown[]
  ) {
    const before = await this.productionWeights();
    const gaining = (['blue', 'green'] as const).find((c) => before[c] === 0 && weights[c] > 0);
    if (gaining && requests > 0) {
      // The router's own settings (private): the test listener's header and token, as the workflow reads them.
      const { testHeader, testToken } = (
        this as unknown as { options: { testHeader: string; testToken: string } }
      ).options;
      const started = performance.now();
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            next += 1;
            const res = await fetch(`http://127.0.0.1:${this.testPort}/`, {
              headers: { [testHeader]: testToken },
            }).catch(() => undefined);
            await res?.arrayBuffer();
            failed += res?.status === 200 ? 0 : 1;
          }
        }),
      );
      done.push({ requests, failed, ms: performance.now() - started });
    }
    return (original as (...a: unknown[]) => Promise<void>).call(this, weights, ...rest);
  };
  return {
    done,
    uninstall: () => {
      router.setProductionWeights = original;
    },
  };
}

const stats = (values: number[]) => ({
  n: values.length,
  p50: nearestRank(values, 0.5),
  p99: nearestRank(values, 0.99),
  max: values.length ? Math.max(...values) : 0,
});

/**
 * Where the switch window's latency comes from, against the steady window: per color, the new color's processes
 * by how many requests each had answered, the event loop's lag and the router's metrics reads.
 */
export function attribute(
  probe: Probe,
  client: readonly { startedAt: number; at: number; latencyMs: number; color?: string }[],
  windows: { steady: [number, number]; switch: [number, number] },
  newColor: Color,
  events: readonly { type: string; state: string; at: number }[] = [],
) {
  const inWindow = <T>(rows: readonly T[], [from, to]: [number, number], at: (r: T) => number) =>
    rows.filter((r) => at(r) >= from && at(r) < to);
  const per = (w: [number, number]) => {
    const clients = inWindow(client, w, (s) => s.startedAt);
    const up = inWindow(probe.upstream, w, (u) => u.sentAt).filter((u) => !u.test && u.ms !== undefined);
    const lags = inWindow(probe.lags, w, (l) => l.at);
    const reads = inWindow(probe.reads, w, (r) => r.at);
    const gcs = inWindow(probe.gcs, w, (g) => g.at);
    const bins: [string, (u: Upstream) => boolean][] = [
      ['1-20', (u) => u.ordinal <= 20],
      ['21-200', (u) => u.ordinal > 20 && u.ordinal <= 200],
      ['201-2000', (u) => u.ordinal > 200 && u.ordinal <= 2000],
      ['>2000', (u) => u.ordinal > 2000],
    ];
    const slowest = [...clients]
      .sort((a, b) => b.latencyMs - a.latencyMs)
      .slice(0, Math.ceil(clients.length / 100));
    // A slow request "met" a lag when a late timer fired while it was in flight.
    const metLag = slowest.filter((s) =>
      probe.lags.some((l) => l.ms >= 10 && l.at >= s.startedAt && l.at <= s.at),
    );
    return {
      /** The workflow's states entered in the window, ms from its start. */
      states: inWindow(events, w, (e) => e.at)
        .filter((e) => e.type === 'entered')
        .map((e) => `${e.state} +${e.at - w[0]}`),
      client: {
        all: stats(clients.map((s) => s.latencyMs)),
        /** p99 of the requests sent in each 250 ms of the window. */
        per250ms: Array.from({ length: Math.ceil((w[1] - w[0]) / 250) }, (_, i) =>
          nearestRank(
            clients
              .filter((c) => c.startedAt >= w[0] + i * 250 && c.startedAt < w[0] + (i + 1) * 250)
              .map((c) => c.latencyMs),
            0.99,
          ),
        ),
        byColor: Object.fromEntries(
          ['blue', 'green'].map((c) => [
            c,
            stats(clients.filter((s) => s.color === c).map((s) => s.latencyMs)),
          ]),
        ),
      },
      /** Router → app → response headers, production requests, the new color's by each process's ordinal. */
      upstream: {
        old: stats(up.filter((u) => u.color !== newColor).map((u) => u.ms!)),
        new: stats(up.filter((u) => u.color === newColor).map((u) => u.ms!)),
        newByOrdinal: Object.fromEntries(
          bins.map(([label, f]) => [
            label,
            stats(up.filter((u) => u.color === newColor && f(u)).map((u) => u.ms!)),
          ]),
        ),
      },
      eventLoop: {
        lagsOver10ms: lags.filter((l) => l.ms >= 10).length,
        maxLagMs: lags.length ? Math.max(...lags.map((l) => l.ms)) : 0,
        lagSumMs: lags.reduce((s, l) => s + l.ms, 0),
      },
      metricsReads: { count: reads.length, sumMs: reads.reduce((s, r) => s + r.ms, 0) },
      gc: {
        count: gcs.length,
        sumMs: gcs.reduce((s, g) => s + g.ms, 0),
        maxMs: gcs.length ? Math.max(...gcs.map((g) => g.ms)) : 0,
        majorMs: gcs.filter((g) => g.major).map((g) => Math.round(g.ms)),
      },
      slowestOnePercent: {
        count: slowest.length,
        newColor: slowest.filter((s) => s.color === newColor).length,
        inFlightDuringLagOver10ms: metLag.length,
      },
    };
  };
  return { steady: per(windows.steady), switch: per(windows.switch) };
}

/** One run's attribution, a few lines a person can read. */
export function describeAttribution(
  warmUp: number,
  load: number,
  ratio: number,
  a: ReturnType<typeof attribute>,
): string {
  const ms = (x: number) => x.toFixed(1);
  const st = (x: { n: number; p50: number; p99: number; max: number }) =>
    x.n === 0 ? '-' : `p50 ${ms(x.p50)} p99 ${ms(x.p99)} max ${ms(x.max)} (${x.n})`;
  const window = (name: string, w: ReturnType<typeof attribute>['steady']) =>
    `    ${name.padEnd(7)} client ${st(w.client.all)} | app answers: old ${st(w.upstream.old)}, new ${st(w.upstream.new)}\n` +
    `            client p99 per 250 ms: ${w.client.per250ms.map(ms).join(' ')}\n` +
    `            new color by request # per process: ${
      Object.entries(w.upstream.newByOrdinal)
        .filter(([, x]) => x.n > 0)
        .map(([bin, x]) => `${bin}: ${st(x)}`)
        .join('; ') || '-'
    }\n` +
    `            event loop: ${w.eventLoop.lagsOver10ms} lags >= 10 ms, max ${ms(w.eventLoop.maxLagMs)}, sum ` +
    `${ms(w.eventLoop.lagSumMs)} ms; GC ${w.gc.count} (${ms(w.gc.sumMs)} ms, max ${ms(w.gc.maxMs)}, major ` +
    `[${w.gc.majorMs.join(', ')}] ms); ` +
    `metrics reads ${w.metricsReads.count} (${ms(w.metricsReads.sumMs)} ms); ` +
    `slowest 1%: ${w.slowestOnePercent.count}, ${w.slowestOnePercent.newColor} on the new color, ` +
    `${w.slowestOnePercent.inFlightDuringLagOver10ms} in flight during a lag >= 10 ms` +
    (w.states.length
      ? `\n            states entered (ms from the window's start): ${w.states.join(', ')}`
      : '');
  return [
    `  run: warm-up ${warmUp}, load ${load.toFixed(1)}, p99 ratio ${ratio.toFixed(2)}x`,
    window('steady', a.steady),
    window('switch', a.switch),
  ].join('\n');
}
