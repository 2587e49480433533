/**
 * Steady traffic through the production port for the whole of a release: concurrent clients in a loop, each
 * response recorded with its status, latency and the color that answered (the app's x-bluegreen-color header).
 */
export interface Sample {
  /** When the request was sent (epoch ms). */
  readonly startedAt: number;
  /** When its answer (or error) came back. */
  readonly at: number;
  readonly status: number;
  readonly latencyMs: number;
  readonly color?: string;
}

export class LoadGenerator {
  private readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly concurrency: number,
    /** A safety bound: the generator stops by itself after this long. */
    private readonly maxMs = 120_000,
  ) {}

  start(): void {
    this.running = true;
    const until = Date.now() + this.maxMs;
    this.loops = Array.from({ length: this.concurrency }, async () => {
      while (this.running && Date.now() < until) {
        const started = performance.now();
        const startedAt = Date.now();
        try {
          const res = await fetch(this.url, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          this.samples.push({
            startedAt,
            at: Date.now(),
            status: res.status,
            latencyMs: performance.now() - started,
            color: res.headers.get('x-bluegreen-color') ?? undefined,
          });
        } catch {
          this.samples.push({ startedAt, at: Date.now(), status: 0, latencyMs: performance.now() - started });
        }
      }
    });
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.samples;
  }
}

export interface LoadSummary {
  readonly requests: number;
  readonly failed: number;
  readonly p50BeforeMs: number;
  readonly p99BeforeMs: number;
  /** Latency in the 2 s after the switch (or after the rollback), when there was one. */
  readonly p50SwitchMs?: number;
  readonly p99SwitchMs?: number;
  /** From the switch to the last failed answer a client saw (the fault's whole cost, detection included). */
  readonly restoreMs?: number;
  readonly byColor: Record<string, number>;
}

export function summarize(
  samples: readonly Sample[],
  switchAt?: number,
  rollbackDoneAt?: number,
): LoadSummary {
  const failed = samples.filter((s) => s.status === 0 || s.status >= 500);
  const before = samples.filter((s) => switchAt === undefined || s.at < switchAt);
  const windowStart = switchAt;
  const during =
    windowStart === undefined ? [] : samples.filter((s) => s.at >= windowStart && s.at < windowStart + 2000);
  const byColor: Record<string, number> = {};
  for (const s of samples) {
    byColor[s.color ?? 'none'] = (byColor[s.color ?? 'none'] ?? 0) + 1;
  }
  return {
    requests: samples.length,
    failed: failed.length,
    p50BeforeMs: percentile(before, 0.5),
    p99BeforeMs: percentile(before, 0.99),
    p50SwitchMs: during.length > 0 ? percentile(during, 0.5) : undefined,
    p99SwitchMs: during.length > 0 ? percentile(during, 0.99) : undefined,
    restoreMs:
      rollbackDoneAt !== undefined && switchAt !== undefined && failed.length > 0
        ? Math.max(...failed.map((s) => s.at)) - switchAt
        : undefined,
    byColor,
  };
}

function percentile(samples: readonly Sample[], p: number): number {
  return nearestRank(
    samples.map((s) => s.latencyMs),
    p,
  );
}

/** The p-quantile (0 < p ≤ 1) of `values` by nearest rank; 0 for no values. */
export function nearestRank(values: readonly number[], p: number): number {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)];
}
