/**
 * The sample workload bluegreen releases: what the ECS services run in AWS (see Dockerfile) and what the local
 * rehearsal starts as processes. Endpoints:
 *   GET  /health   200 when the app is up
 *   GET  /version  {"version", "color"} from BLUEGREEN_VERSION / BLUEGREEN_COLOR
 *   POST /session  logs a user in (cookie "sid"); GET /session returns who is logged in
 *   GET  /preference?user=U, PUT /preference?user=U&value=V   a user's preference, in PostgreSQL (DATABASE_URL or PG*),
 *        through the code of a column rename done with expand / backfill / contract migrations (preferences.ts;
 *        the migrations are in sample-app/migrations, applied by migrate.ts)
 * Sessions live in Redis when REDIS_URL is set (so a user logged in on blue is still logged in on green),
 * in memory otherwise.
 *
 * BLUEGREEN_MISBEHAVE makes a version fail on purpose, so a rehearsal can show each safety net. It is one
 * behaviour or several separated by commas, each a name or name:value:
 *   fail-at-start       exits right after starting (a crash loop)
 *   fail-under-traffic  answers 500 to user requests (those without the test header), but not to health checks:
 *                       it passes validation and health checks, then fails real users (the alarms catch it)
 *   fail-some:P         answers 500 to P percent (default 2, may be fractional: 0.2) of user requests, counted:
 *                       the n-th user request fails when floor(n × P / 100) goes up (at 2%: the 50th, 100th, ...),
 *                       so a share too small for the alarms, which only a comparison of colors notices
 *   wrong-version       reports a stale version ("0.0.0-stale") on /version (fails validation)
 *   slow:MS             answers MS ms late (default SLOW_MS, else 800); slow:40 is a subtle latency regression
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createClient } from 'redis';
import { dualPreferences, legacyPreferences, type Preferences } from './preferences';

export interface SessionStore {
  get(id: string): Promise<string | undefined>;
  set(id: string, user: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

export function memoryStore(): SessionStore {
  const sessions = new Map<string, string>();
  return {
    get: (id) => Promise.resolve(sessions.get(id)),
    set: (id, user) => Promise.resolve(void sessions.set(id, user)),
    close: () => Promise.resolve(),
  };
}

export async function redisStore(url: string, password?: string): Promise<SessionStore> {
  const client = createClient({ url, password: password || undefined });
  client.on('error', (e: Error) =>
    console.error(JSON.stringify({ level: 'error', msg: 'redis', error: e.message })),
  );
  await client.connect();
  return {
    get: async (id) => (await client.get(`session:${id}`)) ?? undefined,
    set: async (id, user, ttl) => void (await client.set(`session:${id}`, user, { EX: ttl })),
    close: async () => void (await client.quit()),
  };
}

export interface AppOptions {
  readonly version: string;
  readonly color: string;
  readonly misbehave?: string;
  readonly slowMs?: number;
  readonly sessions: SessionStore;
  /** Preferences in PostgreSQL (GET/PUT /preference?user=&value=), when DATABASE_URL or PGHOST is set. */
  readonly preferences?: Preferences;
}

const TEST_HEADER = 'x-bluegreen-test-token';

const BEHAVIOURS = ['fail-at-start', 'fail-under-traffic', 'fail-some', 'wrong-version', 'slow'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/**
 * BLUEGREEN_MISBEHAVE's behaviours, each with its value when given ("fail-some:2,slow:40"); empty for none.
 * Throws, in one line, on an unknown behaviour or a value that is not a non-negative number.
 */
export function parseMisbehaviour(text: string | undefined): Map<Behaviour, number | undefined> {
  const behaviours = new Map<Behaviour, number | undefined>();
  for (const item of (text ?? '').split(',').map((i) => i.trim())) {
    if (item === '') {
      continue;
    }
    const [name, value] = item.split(':');
    if (!(BEHAVIOURS as readonly string[]).includes(name)) {
      throw new Error(
        `BLUEGREEN_MISBEHAVE: unknown behaviour "${name}" (known: ${BEHAVIOURS.join(', ')}; e.g. fail-some:2,slow:40)`,
      );
    }
    const number = value === undefined ? undefined : Number(value);
    if (number !== undefined && !(value.trim() !== '' && number >= 0 && Number.isFinite(number))) {
      throw new Error(`BLUEGREEN_MISBEHAVE: ${name} takes a number of 0 or more (got "${value}")`);
    }
    behaviours.set(name as Behaviour, number);
  }
  return behaviours;
}

export function app(options: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const misbehave = parseMisbehaviour(options.misbehave);
  const reportedVersion = misbehave.has('wrong-version') ? '0.0.0-stale' : options.version;
  const slowMs = misbehave.has('slow') ? (misbehave.get('slow') ?? options.slowMs ?? 800) : 0;
  const failPercent = misbehave.has('fail-some') ? (misbehave.get('fail-some') ?? 2) : 0;
  /** User requests so far (fail-some counts them). */
  let userRequests = 0;
  /** Whether the next user request is one fail-some fails: the count of failures due goes up. */
  const failsThisOne = () => {
    userRequests += 1;
    const due = (n: number) => Math.floor((n * failPercent) / 100 + 1e-9);
    return failPercent > 0 && due(userRequests) > due(userRequests - 1);
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-bluegreen-color': options.color,
      ...headers,
    });
    res.end(JSON.stringify(body));
  };
  return (req, res) => {
    const respond = async () => {
      if (slowMs > 0) {
        await new Promise((r) => setTimeout(r, slowMs));
      }
      const url = new URL(req.url ?? '/', 'http://app');
      const user = req.headers[TEST_HEADER] === undefined && url.pathname !== '/health';
      if (user && misbehave.has('fail-under-traffic')) {
        return send(res, 500, { error: 'this version fails under real traffic (BLUEGREEN_MISBEHAVE)' });
      }
      if (user && failsThisOne()) {
        return send(res, 500, {
          error: `this version fails ${failPercent}% of real requests (BLUEGREEN_MISBEHAVE fail-some)`,
        });
      }
      if (url.pathname === '/health') {
        return send(res, 200, { status: 'ok', color: options.color });
      }
      if (url.pathname === '/version') {
        return send(res, 200, { version: reportedVersion, color: options.color });
      }
      if (url.pathname === '/preference' && options.preferences) {
        const user = url.searchParams.get('user');
        if (!user) {
          return send(res, 400, { error: 'give ?user=' });
        }
        if (req.method === 'PUT') {
          const value = url.searchParams.get('value');
          if (!value) {
            return send(res, 400, { error: 'give ?value=' });
          }
          await options.preferences.set(user, value);
          return send(res, 200, { user, preference: value, color: options.color });
        }
        const preference = await options.preferences.get(user);
        return preference === undefined
          ? send(res, 404, { error: `no preference for ${user}` })
          : send(res, 200, { user, preference, color: options.color });
      }
      if (url.pathname === '/session') {
        if (req.method === 'POST') {
          const id = randomUUID();
          const user = url.searchParams.get('user') ?? 'guest';
          await options.sessions.set(id, user, 3600);
          return send(
            res,
            201,
            { user, color: options.color },
            { 'set-cookie': `sid=${id}; HttpOnly; Path=/` },
          );
        }
        const id = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
        const user = id ? await options.sessions.get(id) : undefined;
        return user
          ? send(res, 200, { user, color: options.color })
          : send(res, 401, { error: 'no session' });
      }
      return send(res, 200, {
        hello: 'bluegreen sample app',
        version: reportedVersion,
        color: options.color,
      });
    };
    respond().catch((e: Error) => send(res, 500, { error: e.message }));
  };
}

/** Starts the app from the environment (PORT, BLUEGREEN_VERSION, BLUEGREEN_COLOR, REDIS_URL, ...). */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let misbehave: ReturnType<typeof parseMisbehaviour>;
  try {
    misbehave = parseMisbehaviour(env.BLUEGREEN_MISBEHAVE);
  } catch (e) {
    // One line, which the rehearsal's fleet shows as the task's stop reason.
    console.error(JSON.stringify({ level: 'error', msg: (e as Error).message }));
    process.exit(1);
  }
  if (misbehave.has('fail-at-start')) {
    console.error(
      JSON.stringify({ level: 'error', msg: 'failing at start on purpose (BLUEGREEN_MISBEHAVE)' }),
    );
    process.exit(1);
  }
  const sessions = env.REDIS_URL ? await redisStore(env.REDIS_URL, env.REDIS_AUTH_TOKEN) : memoryStore();
  // Preferences live in PostgreSQL when DATABASE_URL or the standard PG* variables (PGHOST, PGPORT, PGDATABASE,
  // PGUSER, PGPASSWORD: what bluegreen's shared database hands the container) are set; PREFERENCES_CODE picks the
  // code of the rename (legacy: before it; dual: the release that expands, backfills and contracts; see
  // preferences.ts).
  let database: { end(): Promise<void> } | undefined;
  let preferences: Preferences | undefined;
  if (env.DATABASE_URL || env.PGHOST) {
    const { Client } = await import('pg');
    const client = new Client(env.DATABASE_URL ? { connectionString: env.DATABASE_URL } : pgSettings(env));
    await client.connect();
    database = client;
    preferences = env.PREFERENCES_CODE === 'legacy' ? legacyPreferences(client) : dualPreferences(client);
  }
  const server = createServer(
    app({
      version: env.BLUEGREEN_VERSION ?? 'dev',
      color: env.BLUEGREEN_COLOR ?? 'none',
      misbehave: env.BLUEGREEN_MISBEHAVE,
      slowMs: env.SLOW_MS ? Number(env.SLOW_MS) : undefined,
      sessions,
      preferences,
    }),
  );
  server.keepAliveTimeout = 65_000; // longer than the load balancer's idle timeout
  const port = Number(env.PORT ?? 8080);
  server.listen(port, env.HOST ?? '0.0.0.0', () =>
    console.log(JSON.stringify({ level: 'info', msg: 'listening', port, version: env.BLUEGREEN_VERSION })),
  );
  const stop = () => {
    // Finish in-flight requests, then leave (ECS sends SIGTERM, then SIGKILL after stopTimeout).
    server.close(
      () => void Promise.allSettled([sessions.close(), database?.end()]).finally(() => process.exit(0)),
    );
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * The connection settings of the standard PG* variables, read from `env` (node-postgres would read them from
 * process.env by itself; `env` may be another object). Unset ones fall back to node-postgres's defaults.
 */
export function pgSettings(env: NodeJS.ProcessEnv): {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
} {
  return {
    host: env.PGHOST || undefined,
    port: env.PGPORT ? Number(env.PGPORT) : undefined,
    database: env.PGDATABASE || undefined,
    user: env.PGUSER || undefined,
    password: env.PGPASSWORD,
  };
}

if (require.main === module) {
  void main();
}
