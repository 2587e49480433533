/**
 * Steady traffic through the production port for the whole of a release: concurrent clients in a loop, each
 * response recorded with its status, latency and the color that answered (the app's x-bluegreen-color header).
 * With `sticky`, each client is a user with its own cookie jar, like a browser: it sends back the cookies it was
 * given (the load balancer's stickiness cookie among them) until they expire.
 */
export interface Sample {
  /** Which client (virtual user) sent it, 0 to concurrency - 1. */
  readonly user?: number;
  /** When the request was sent (epoch ms). */
  readonly startedAt: number;
  /** When its answer (or error) came back. */
  readonly at: number;
  readonly status: number;
  readonly latencyMs: number;
  readonly color?: string;
}

export interface LoadOptions {
  /** Each client keeps its cookies (a browser's jar), so the load balancer's stickiness holds it. @default false */
  readonly sticky?: boolean;
  /** Each client sends at most one request per `paceMs`. @default - one as soon as its last one was answered */
  readonly paceMs?: number;
}

export class LoadGenerator {
  private readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private users = 0;
  private until = 0;

  constructor(
    private readonly url: string,
    private readonly concurrency: number,
    /** A safety bound: the generator stops by itself after this long. */
    private readonly maxMs = 120_000,
    private readonly options: LoadOptions = {},
  ) {}

  start(): void {
    this.running = true;
    this.until = Date.now() + this.maxMs;
    this.add(this.concurrency, this.options.paceMs);
  }

  /**
   * More clients (users), from now on, while it runs: the load rises. With `paceMs`, each sends at most one request
   * per `paceMs` (a user who reads the page); without it, one as soon as its last one was answered.
   */
  add(users: number, paceMs?: number): void {
    const first = this.users;
    this.users += users;
    for (let user = first; user < first + users; user++) {
      this.loops.push(this.client(user, paceMs));
    }
  }

  private async client(user: number, paceMs: number | undefined): Promise<void> {
    const jar = this.options.sticky ? new CookieJar() : undefined;
    while (this.running && Date.now() < this.until) {
      const started = performance.now();
      const startedAt = Date.now();
      try {
        const cookie = jar?.header(startedAt);
        const res = await fetch(this.url, {
          signal: AbortSignal.timeout(5000),
          ...(cookie ? { headers: { cookie } } : {}),
        });
        await res.arrayBuffer();
        jar?.store(res.headers.getSetCookie(), Date.now());
        this.samples.push({
          user,
          startedAt,
          at: Date.now(),
          status: res.status,
          latencyMs: performance.now() - started,
          color: res.headers.get('x-bluegreen-color') ?? undefined,
        });
      } catch {
        this.samples.push({
          user,
          startedAt,
          at: Date.now(),
          status: 0,
          latencyMs: performance.now() - started,
        });
      }
      const rest = paceMs === undefined ? 0 : paceMs - (performance.now() - started);
      if (rest > 0 && this.running) {
        await new Promise((resolve) => setTimeout(resolve, rest));
      }
    }
  }

  /** The answers so far (while it runs too), or one user's. */
  answered(user?: number): number {
    return user === undefined ? this.samples.length : this.samples.filter((s) => s.user === user).length;
  }

  /** Per color, the requests sent at or after `since` (epoch ms) that have been answered so far, and the failed ones. */
  byColorSince(since: number): Record<string, ColorCount> {
    return countByColor(this.samples, since);
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.samples;
  }
}

export interface ColorCount {
  readonly requests: number;
  /** No answer, or 5xx. */
  readonly failed: number;
}

/** Per color that answered ("none": no answer), the samples sent at or after `since` and the failed ones. */
export function countByColor(samples: readonly Sample[], since = -Infinity): Record<string, ColorCount> {
  const counts: Record<string, { requests: number; failed: number }> = {};
  for (const s of samples) {
    if (s.startedAt >= since) {
      const c = (counts[s.color ?? 'none'] ??= { requests: 0, failed: 0 });
      c.requests += 1;
      c.failed += failedSample(s) ? 1 : 0;
    }
  }
  return counts;
}

const failedSample = (s: Sample) => s.status === 0 || s.status >= 500;

/** A browser's cookies for one site, reduced to what the rehearsal needs: name=value until it expires. */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; expires: number }>();

  /** Keeps the cookies of a response's Set-Cookie headers (Max-Age wins over Expires; 0 or past deletes). */
  store(setCookies: readonly string[], now: number): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const at = pair.indexOf('=');
      if (at <= 0) {
        continue;
      }
      let expires = Infinity;
      let maxAge: number | undefined;
      for (const attribute of attributes) {
        const [key, value = ''] = attribute.split('=');
        if (key.toLowerCase() === 'max-age') {
          maxAge = Number(value);
        } else if (key.toLowerCase() === 'expires') {
          expires = Date.parse(value);
        }
      }
      if (maxAge !== undefined && Number.isFinite(maxAge)) {
        expires = now + maxAge * 1000;
      }
      const name = pair.slice(0, at);
      if (Number.isNaN(expires) || expires <= now) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, { value: pair.slice(at + 1), expires });
      }
    }
  }

  /** The Cookie header to send at `now`: the unexpired cookies; undefined when there are none. */
  header(now: number): string | undefined {
    const live = [...this.cookies].filter(([, c]) => c.expires > now);
    return live.length > 0 ? live.map(([name, c]) => `${name}=${c.value}`).join('; ') : undefined;
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
  const failed = samples.filter(failedSample);
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
