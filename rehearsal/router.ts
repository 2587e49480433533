/**
 * The local stand-in for the Application Load Balancer: a reverse proxy on Node's own http module.
 *
 * - A production port that forwards each request to the live color by weight, and a test port that forwards to
 *   the idle color only when the request carries the secret test header (403 otherwise), like bluegreen's ALB.
 * - Health checks of every registered target (healthy after 2 passes, unhealthy after 2 failures).
 * - Draining: a deregistered target gets no new requests; its in-flight requests finish (up to the
 *   deregistration delay) before its keep-alive connections are closed. Client connections are the proxy's own,
 *   so moving traffic never cuts a client's connection.
 * - Per-color metrics of what it forwards (request count, 5xx, p99 latency): the rehearsal's alarms, and the
 *   traffic metrics a gradual shift's analysis compares (metrics.ts).
 * - Group-level stickiness on the production listener, when the weights are set with `stickySeconds`
 *   (stickiness.ts): a client's cookie keeps it on the color it first reached, whatever the weights.
 *
 * It implements the workflow's TrafficRouter port, so the release steps drive it exactly as they drive the ALB.
 */
import { isStickySeconds } from '../lambda/shared/strategy';
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { TargetHealth, TrafficRouter } from '../lambda/shared/ports';
import { nearestRank } from './load';
import { COLORS, type Color } from '../lambda/shared/release-record';
import type { TrafficWeights } from '../lambda/shared/traffic';
import { StickyCookies } from './stickiness';

/** A port the router was asked to listen on is taken. */
export class PortInUseError extends Error {
  override name = 'PortInUse';
}

export interface Target {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

interface TargetState extends Target {
  readonly agent: Agent;
  healthy: boolean;
  passes: number;
  failures: number;
  inFlight: number;
  draining: boolean;
}

export interface RouterOptions {
  readonly testHeader: string;
  readonly testToken: string;
  readonly healthPath: string;
  readonly healthIntervalMs?: number;
  /** How long a deregistered target may finish in-flight requests. */
  readonly deregistrationDelayMs?: number;
  readonly host?: string;
}

export interface Sample {
  /** When the router received the request (epoch ms). */
  readonly startedAt: number;
  /** When its answer ended (or failed). */
  readonly at: number;
  /** Which listener received it: users' traffic, or validation's through the test listener. */
  readonly listener: 'production' | 'test';
  readonly color: Color;
  readonly status: number;
  readonly latencyMs: number;
}

/** A change of the production weights, stamped by the router the moment it takes effect. */
export interface WeightChange {
  readonly at: number;
  readonly weights: TrafficWeights;
  /** Group-level stickiness from this change on (seconds); absent: off. */
  readonly stickySeconds?: number;
}

/**
 * One production request as the router handled it: when it chose the color, under which weights (the index of
 * the change in force, in `weightChanges()`), and how it ended. Causally ordered against the weight changes, unlike
 * a client's clock, which a busy machine can run ahead of the request by any amount.
 */
export interface RoutedRequest {
  readonly routedAt: number;
  readonly change: number;
  readonly color?: Color;
  readonly status: number;
}

export class LocalRouter implements TrafficRouter {
  private weights: TrafficWeights = { blue: 100, green: 0 };
  private testWeights: TrafficWeights = { blue: 0, green: 100 };
  private readonly targets: Record<Color, TargetState[]> = { blue: [], green: [] };
  private readonly samples: Sample[] = [];
  private readonly changes: WeightChange[] = [{ at: Date.now(), weights: { blue: 100, green: 0 } }];
  private readonly routed: RoutedRequest[] = [];
  /** Group-level stickiness of the production listener, when on. */
  private stickySeconds?: number;
  private readonly stickyCookies = new StickyCookies();
  private readonly servers: Server[] = [];
  private healthTimer?: NodeJS.Timeout;
  private roundRobin = 0;
  productionPort = 0;
  testPort = 0;

  constructor(private readonly options: RouterOptions) {}

  async start(productionPort = 0, testPort = 0): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const listen = async (port: number, handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      const server = createServer(handler);
      server.keepAliveTimeout = 60_000;
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            e.code === 'EADDRINUSE'
              ? new PortInUseError(
                  `port ${port} on ${host} is already in use (another rehearsal?): choose another one`,
                )
              : e,
          ),
        );
        server.listen(port, host, resolve);
      });
      return (server.address() as AddressInfo).port;
    };
    this.productionPort = await listen(productionPort, (req, res) => {
      const entry = { routedAt: Date.now(), change: this.changes.length - 1, status: 0 } as {
        routedAt: number;
        change: number;
        color?: Color;
        status: number;
      };
      this.routed.push(entry);
      if (this.routed.length > 200_000) {
        this.routed.splice(0, 100_000);
      }
      const color = this.productionColor(req);
      const stickySeconds = this.stickySeconds;
      this.forward(req, res, color, {
        listener: 'production',
        ended: (status) => Object.assign(entry, { color, status }),
        setCookies:
          color && stickySeconds !== undefined ? this.stickyCookies.issue(color, stickySeconds) : [],
      });
    });
    this.testPort = await listen(testPort, (req, res) => {
      if (req.headers[this.options.testHeader.toLowerCase()] !== this.options.testToken) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(`bluegreen test listener: requests need the ${this.options.testHeader} header`);
        return;
      }
      this.forward(req, res, this.pickColor(this.testWeights), { listener: 'test' });
    });
    this.healthTimer = setInterval(() => void this.checkHealth(), this.options.healthIntervalMs ?? 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.healthTimer);
    await Promise.all(
      this.servers.map((s) => {
        s.closeAllConnections();
        return new Promise((resolve) => s.close(resolve));
      }),
    );
    for (const t of COLORS.flatMap((c) => this.targets[c])) {
      t.agent.destroy();
    }
  }

  register(color: Color, target: Target): void {
    this.targets[color].push({
      ...target,
      agent: new Agent({ keepAlive: true, maxSockets: 256 }),
      healthy: false,
      passes: 0,
      failures: 0,
      inFlight: 0,
      draining: false,
    });
  }

  /** Stops new requests to the target, lets in-flight ones finish (up to the delay), then forgets it. */
  async deregister(color: Color, id: string): Promise<void> {
    const target = this.targets[color].find((t) => t.id === id);
    if (!target) {
      return;
    }
    target.draining = true;
    const deadline = Date.now() + (this.options.deregistrationDelayMs ?? 5000);
    while (target.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.targets[color] = this.targets[color].filter((t) => t !== target);
    target.agent.destroy();
  }

  /** Requests in flight to one target (what draining waits for). */
  inFlight(color: Color, id: string): number {
    return this.targets[color].find((t) => t.id === id)?.inFlight ?? 0;
  }

  // --- TrafficRouter ---------------------------------------------------------------------------------------
  productionWeights(): Promise<TrafficWeights> {
    return Promise.resolve({ ...this.weights });
  }

  /**
   * Sets the production weights; with `stickySeconds` (ALB: 1 to 604800) group-level stickiness is on from this
   * change, without it off (cookies already given out are ignored from then on), as in one ALB listener change.
   */
  setProductionWeights(
    weights: TrafficWeights,
    options: { readonly stickySeconds?: number } = {},
  ): Promise<void> {
    const { stickySeconds } = options;
    if (stickySeconds !== undefined && !isStickySeconds(stickySeconds)) {
      return Promise.reject(
        new Error(`stickySeconds must be a whole number of seconds from 1 to 604800 (got ${stickySeconds})`),
      );
    }
    this.weights = { ...weights };
    this.stickySeconds = stickySeconds;
    this.changes.push({
      at: Date.now(),
      weights: { ...weights },
      ...(stickySeconds !== undefined ? { stickySeconds } : {}),
    });
    return Promise.resolve();
  }

  /** Every change of the production weights so far, oldest first (the first is the initial weights). */
  weightChanges(): readonly WeightChange[] {
    return this.changes;
  }

  /** The production requests routed since `since` (epoch ms, the router's clock), in routing order. */
  routedSince(since: number): RoutedRequest[] {
    return this.routed.filter((r) => r.routedAt >= since);
  }

  setTestWeights(weights: TrafficWeights): Promise<void> {
    this.testWeights = { ...weights };
    return Promise.resolve();
  }

  targetHealth(color: Color): Promise<TargetHealth> {
    const targets = this.targets[color].filter((t) => !t.draining);
    const healthy = targets.filter((t) => t.healthy).length;
    return Promise.resolve({
      healthy,
      notHealthy: targets.length - healthy,
      starting: targets.filter((t) => !t.healthy && t.passes === 0).length,
      problems: targets
        .filter((t) => !t.healthy)
        .map((t) => `${t.id} ${t.passes === 0 ? 'initial' : 'unhealthy'}`),
    });
  }

  // --- Metrics (the rehearsal's alarms) ----------------------------------------------------------------------
  /** Requests forwarded to `color` in the last `windowMs`: count, 5xx, p99 latency. */
  metrics(
    color: Color,
    windowMs: number,
    now = Date.now(),
  ): { requests: number; errors5xx: number; p99Ms: number } {
    const recent = this.recentSamples(color, windowMs, now);
    return {
      requests: recent.length,
      errors5xx: recent.filter((s) => s.status >= 500).length,
      p99Ms: nearestRank(
        recent.map((s) => s.latencyMs),
        0.99,
      ),
    };
  }

  /** The requests forwarded to `color` in the last `windowMs`, oldest first. */
  recentSamples(color: Color, windowMs: number, now = Date.now()): Sample[] {
    return this.samples.filter((s) => s.color === color && s.at >= now - windowMs);
  }

  /**
   * The production requests forwarded to `color` that the router received in [start, end) (epoch ms) and that
   * have ended (users' traffic only: not validation's through the test listener).
   */
  samplesStartedIn(color: Color, start: number, end: number): Sample[] {
    return this.samples.filter(
      (s) => s.listener === 'production' && s.color === color && s.startedAt >= start && s.startedAt < end,
    );
  }

  /**
   * Where a production request goes: with stickiness on, to the color its valid, unexpired cookie names (even at
   * weight 0: stickiness takes precedence over weights), unless that color has no healthy target left; otherwise
   * (and always with stickiness off) by weight.
   */
  private productionColor(req: IncomingMessage): Color | undefined {
    if (this.stickySeconds !== undefined) {
      const stuck = this.stickyCookies.colorOf(req.headers.cookie);
      if (stuck && this.serving(stuck).length > 0) {
        return stuck;
      }
    }
    return this.pickColor(this.weights);
  }

  private serving(color: Color): TargetState[] {
    return this.targets[color].filter((t) => t.healthy && !t.draining);
  }

  /** Forwards to one of `color`'s healthy targets, adding `setCookies` to its answer; `ended` hears its status. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    color: Color | undefined,
    how: {
      readonly listener: Sample['listener'];
      readonly ended?: (status: number) => void;
      readonly setCookies?: readonly string[];
    },
  ): void {
    const { listener, ended = () => undefined, setCookies = [] } = how;
    const candidates = color ? this.serving(color) : [];
    if (!color || candidates.length === 0) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('no healthy target');
      ended(503);
      return;
    }
    const startedAt = Date.now();
    const target = candidates[this.roundRobin++ % candidates.length];
    const started = performance.now();
    target.inFlight += 1;
    let done = false;
    const finish = (status: number) => {
      if (!done) {
        done = true;
        target.inFlight -= 1;
        this.record({
          startedAt,
          at: Date.now(),
          listener,
          color,
          status,
          latencyMs: performance.now() - started,
        });
        ended(status);
      }
    };
    const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress]
      .filter(Boolean)
      .join(', ');
    const upstream = request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...withoutHopByHop(req.headers), 'x-forwarded-for': forwardedFor },
        agent: target.agent,
      },
      (answer) => {
        const headers = withoutHopByHop(answer.headers);
        if (setCookies.length > 0) {
          headers['set-cookie'] = [...(headers['set-cookie'] ?? []), ...setCookies];
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        // pipeline destroys the client's response if the app's dies half-way: the client sees a reset, not a hang.
        pipeline(answer, res, (error) => finish(error ? 502 : (answer.statusCode ?? 502)));
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      } else {
        res.destroy();
      }
      finish(502);
    });
    // A client that goes away does not keep the app busy.
    res.on('close', () => {
      if (!res.writableFinished) {
        upstream.destroy();
        finish(499);
      }
    });
    req.pipe(upstream);
  }

  /** Smooth choice by weight: each request draws a color in proportion to the weights. */
  private pickColor(weights: TrafficWeights): Color | undefined {
    const total = weights.blue + weights.green;
    if (total <= 0) {
      return undefined;
    }
    return Math.random() * total < weights.blue ? 'blue' : 'green';
  }

  private record(sample: Sample): void {
    this.samples.push(sample);
    if (this.samples.length > 200_000) {
      this.samples.splice(0, 100_000);
    }
  }

  private async checkHealth(): Promise<void> {
    const all = COLORS.flatMap((c) => this.targets[c]);
    await Promise.all(
      all.map(async (t) => {
        const ok = await new Promise<boolean>((resolve) => {
          const check = request(
            { host: t.host, port: t.port, path: this.options.healthPath, agent: t.agent, timeout: 2000 },
            (answer) => {
              answer.resume();
              resolve((answer.statusCode ?? 0) === 200);
            },
          );
          check.on('timeout', () => check.destroy());
          check.on('error', () => resolve(false));
          check.end();
        });
        if (ok) {
          t.passes += 1;
          t.failures = 0;
          if (t.passes >= 2) {
            t.healthy = true;
          }
        } else {
          t.failures += 1;
          t.passes = 0;
          if (t.failures >= 2) {
            t.healthy = false;
          }
        }
      }),
    );
  }
}

/** Connection-level headers are not forwarded by a proxy (RFC 9110 7.6.1), nor those the Connection header names. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
];

export function withoutHopByHop(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return Object.fromEntries(
    Object.entries(headers).filter(([k]) => !HOP_BY_HOP.includes(k) && !named.includes(k)),
  );
}
