/**
 * The local rehearsal: real releases of the sample app on this machine, through the same state machine and the
 * same step code that run in AWS, with real traffic flowing the whole time. The scenarios are in scenarios.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpProbe } from '../lambda/adapters/http-probe';
import { CATCH_UP_SECONDS } from '../lambda/shared/errors';
import type { WorkflowDeps } from '../lambda/shared/ports';
import type { StepVerdict, WorkflowSettings } from '../lambda/shared/release';
import { DEFAULT_POLICY } from '../lambda/shared/strategy';
import { parseConfig } from '../lib/config';
import { AutoScaling } from './autoscaling';
import { buildSampleApp, LocalFleet, type FleetEvent } from './fleet';
import { LoadGenerator, summarize, type LoadSummary, type Sample } from './load';
import { FileReleaseRecord, MemoryNotifier, MemoryReleaseLock, RouterAlarms } from './local-ports';
import { RouterTrafficMetrics } from './metrics';
import {
  buildMigrationRunner,
  LocalMigrations,
  MemoryMigrationRecord,
  migrationsPerImage,
} from './migrations';
import { startPostgres, type RunningPostgres } from './postgres';
import { startRedis, type RunningRedis } from './redis';
import { progressPrinter, workflowShape } from './progress';
import { LocalRouter, type RoutedRequest, type WeightChange } from './router';
import { LocalCallbacks, runWorkflow, synthesizeWorkflow, type ExecutionResult } from './workflow-runner';
import { rollOut } from '../lambda/workflow/deploy';
import { SCENARIOS, type Scenario } from './scenarios';
import { playColdRollback, requestsDuring, type ColdRollbackRun } from './cold-rollback';

export const REPOSITORY = 'bluegreen/sample-app';
const TEST_HEADER = 'X-Bluegreen-Test-Token';

export { SCENARIOS, type Scenario } from './scenarios';

export interface RehearsalOptions {
  readonly scenarios?: readonly number[];
  /** Scenarios to play instead of SCENARIOS (the strategies bench's), filtered by `scenarios` all the same. */
  readonly catalogue?: readonly Scenario[];
  readonly bakeSeconds?: number;
  readonly watchIntervalSeconds?: number;
  /** Concurrent clients of the load generator. */
  readonly concurrency?: number;
  /** Steady traffic before each release starts (the baseline for latency comparisons). */
  readonly warmupMs?: number;
  /** Ports of the local load balancer. @default - free ports */
  readonly productionPort?: number;
  readonly testPort?: number;
  /**
   * Turns on the manual gate (approval: before-switch) and answers it like an operator running
   * `bluegreen approve`, this many seconds after the release starts waiting. @default - no gate
   */
  readonly approveAfterSeconds?: number;
  /**
   * Database migrations: a throwaway PostgreSQL (Debian's package), the sample app's preferences in it, and the
   * expand / backfill / contract phases in every release. @default false
   */
  readonly migrations?: boolean;
  /**
   * Scenarios with a cold rollback: afterwards the operator moves traffic forward again to the color that stayed
   * warm (the bench times both rollbacks). @default false
   */
  readonly warmBackAfterCold?: boolean;
  /** Receives the function that stops everything the rehearsal started (for Ctrl-C). */
  readonly onCleanup?: (cleanup: () => Promise<void>) => void;
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly execution: ExecutionResult;
  readonly outcome: string;
  readonly passed: boolean;
  readonly load: LoadSummary;
  readonly liveAfter: string;
  /** When the local load balancer sent production to the new color (its own stamp of the weight change). */
  readonly switchAt?: number;
  readonly rollbackDoneAt?: number;
  /** The production weight changes during the scenario, stamped by the load balancer as they took effect. */
  readonly weightChanges: readonly (WeightChange & { readonly index: number })[];
  /** Every production request the load balancer routed during the scenario: when, under which weights, to where. */
  readonly routed: readonly RoutedRequest[];
  /** How long the Switch traffic state took. */
  readonly switchMs?: number;
  /** Each judged shift step's verdict, as the Analyse step published it (the failing one included), in order. */
  readonly verdicts: readonly StepVerdict[];
  readonly loadStartedAt: number;
  readonly samples: Sample[];
  /** Every change of a color's count or bounds during the scenario, as the fleet logged them, in order. */
  readonly fleetEvents: readonly FleetEvent[];
  /** With a rising load: the scaler's scale-out of the live color the release waited for (absent: none came). */
  readonly scaledOut?: FleetEvent;
  /** Scenarios with `coldRollback`: the operator's cold rollback after the release, and the requests meanwhile. */
  readonly coldRollback?: ColdRollbackRun & {
    readonly users: { readonly requests: number; readonly failed: number };
  };
}

export interface RehearsalResult {
  readonly scenarios: ScenarioResult[];
  /** With migrations: the phases that ran, and a preference written by v1 read back at the end. */
  readonly migrations?: {
    readonly runs: readonly { phase: string; image: string; exitCode: number; ms: number }[];
    readonly preference: { readonly written: string; readonly readBack?: string };
  };
  readonly session?: { readonly checked: boolean; readonly survived?: boolean; readonly note: string };
}

export async function rehearse(options: RehearsalOptions = {}): Promise<RehearsalResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const token = randomBytes(24).toString('hex');
  const timings = {
    bakeSeconds: options.bakeSeconds ?? 6,
    watchIntervalSeconds: options.watchIntervalSeconds ?? 1,
    failureThreshold: 3,
    deployTimeoutSeconds: 60,
    deployPollSeconds: 1,
    finishDelaySeconds: 1,
  };
  const gate = options.approveAfterSeconds !== undefined;
  const config = parseConfig(
    {
      appName: 'rehearsal',
      aws: { region: 'us-east-1' },
      image: { repository: REPOSITORY, initialTag: 'v1' },
      healthCheck: { path: '/health' },
      release: {
        ...timings,
        // Room for four migration phases of a minute each (checked by the config's budget), and for the switch to
        // wait for a new color catching up with a live color that scaled out (scenario 8's auto scaling).
        maxReleaseMinutes: (options.migrations ? 20 : 15) + Math.ceil(CATCH_UP_SECONDS / 60),
        smokeChecks: [{ path: '/health' }, { path: '/version', expectVersion: true, latencyBudgetMs: 500 }],
      },
      ...(gate ? { approval: { at: 'before-switch', timeoutMinutes: 2 } } : {}),
      ...(options.migrations ? { migrations: { command: ['node', 'migrate.js'], timeoutMinutes: 1 } } : {}),
    },
    // Made from the options (checked before anything starts): an error here is about them, not a file.
    "the rehearsal's settings (--bake, --interval, --approve-after)",
  );
  // Removed by cleanup (below), whatever happens.
  const dir = mkdtempSync(join(tmpdir(), 'bluegreen-rehearsal-'));
  const router = new LocalRouter({
    testHeader: TEST_HEADER,
    testToken: token,
    healthPath: '/health',
    healthIntervalMs: 250,
    deregistrationDelayMs: 3000,
  });
  let redis: RunningRedis | undefined;
  let postgres: RunningPostgres | undefined;
  const v1 = `${REPOSITORY}:v1`;
  let fleet: LocalFleet | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) {
      return;
    }
    cleaned = true;
    await fleet?.stopAll();
    await router.stop();
    await redis?.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  options.onCleanup?.(cleanup);
  try {
    redis = await startRedis();
    log(
      redis
        ? `Redis: ${redis.url} (sessions are shared by both colors)`
        : 'Redis: redis-server is not installed; sessions stay per process (apt-get install redis-server to check them)',
    );
    if (options.migrations) {
      postgres = await startPostgres();
      if (!postgres) {
        throw new Error(
          '--migrations needs PostgreSQL (apt-get install postgresql): the rehearsal runs the real migrations.',
        );
      }
      log(`PostgreSQL: ${postgres.url} (shared by both colors; migrations run as one-off processes)`);
    }
    await router.start(options.productionPort, options.testPort);
    const catalogue = options.catalogue ?? SCENARIOS;
    const behaviours = new Map(catalogue.map((s) => [`${REPOSITORY}:${s.version}`, s.misbehave]));
    fleet = new LocalFleet({
      router,
      appFile: buildSampleApp(join(dir, 'sample-app.js')),
      misbehaviour: (image) => behaviours.get(image),
      redisUrl: redis?.url,
      // v1 has the preferences code from before the rename; later versions write both columns.
      environment: (image): Record<string, string> =>
        postgres ? { DATABASE_URL: postgres.url, PREFERENCES_CODE: image === v1 ? 'legacy' : 'dual' } : {},
      log,
    });
    const migrations = postgres
      ? new LocalMigrations({
          runner: buildMigrationRunner(join(dir, 'migrate.js')),
          databaseUrl: postgres.url,
          imageOf: (taskDefinition) => fleet?.imageOf(taskDefinition),
          migrationsOf: migrationsPerImage(dir, v1),
          log,
        })
      : undefined;
    const migrationRecord = new MemoryMigrationRecord();
    const workflow = synthesizeWorkflow(config, join(dir, 'cdk.out'));
    const settings: WorkflowSettings = {
      appName: config.appName,
      imageRepository: REPOSITORY,
      productionUrl: `http://127.0.0.1:${router.productionPort}`,
      testUrl: `http://127.0.0.1:${router.testPort}`,
      testHeader: TEST_HEADER,
      healthPath: '/health',
      smokeChecks: config.release.smokeChecks!,
      hasValidationHook: false,
      keepIdleWarm: false,
      maxReleaseSeconds: config.release.maxReleaseMinutes * 60,
      timings,
      ...(gate ? { approval: { timeoutSeconds: 120, onTimeout: 'abort' as const } } : {}),
      ...(migrations ? { migrations: { timeoutSeconds: 60 } } : {}),
      // Gradual shifts (scenarios 4-7) are judged on the router's own per-color counts, in 1 s periods: steps of a
      // few seconds. Too few requests in a window (a busy machine) bakes the step again rather than rolling back.
      // The policy is the default one; the percentile compared is p95, not the default p99: a window of seconds
      // holds a few hundred requests per color (AWS's minute holds thousands), where p99 is the 2nd to 5th slowest
      // answer, and on a busy 2-core machine one scheduling pause of a freshly started process decides it (a good
      // release then fails its first step now and then). p95 needs a pause to slow 5% of a step's requests.
      analysis: {
        policy: DEFAULT_POLICY,
        latencyPercentile: 95,
        onInconclusive: 'extend',
        maxExtensions: 3,
        alarms: [],
        dryRun: false,
        periodSeconds: 1,
        settleSeconds: 1,
      },
    };
    const notifier = new MemoryNotifier();
    const metrics = new RouterTrafficMetrics(router);
    const deps: WorkflowDeps = {
      record: FileReleaseRecord.create(join(dir, 'release-record.json'), {
        liveColor: 'blue',
        images: { blue: `${REPOSITORY}:v1`, green: `${REPOSITORY}:v1` },
        capacity: { blue: 'auto', green: 'auto' },
      }),
      router,
      fleet,
      probe: new HttpProbe(),
      alarms: new RouterAlarms(router, config.appName, {
        http5xxCount: 5,
        p99LatencyMs: 1000,
        windowMs: 3000,
      }),
      metrics,
      lock: new MemoryReleaseLock(),
      notifier,
      testToken: () => Promise.resolve(token),
      ...(migrations
        ? {
            migrations: {
              record: migrationRecord,
              // As on ECS: the migrations run with the release's own revision.
              tasks: { taskDefinition: (r) => Promise.resolve(r.revision) },
            },
          }
        : {}),
      now: () => new Date(),
    };
    const preference = { user: 'rehearsal-user', value: 'dark-mode' };
    if (migrations) {
      // What v1's own release did: its table.
      await migrations.runPhase(v1, 'expand');
    }

    log(
      `Starting blue on v1 (2 processes) behind the local load balancer :${router.productionPort} (test listener :${router.testPort})`,
    );
    await rollOut(fleet, 'blue', { image: `${REPOSITORY}:v1`, version: 'v1' }, 2);
    await waitFor(
      async () => (await router.targetHealth('blue')).healthy === 2,
      15_000,
      'blue to become healthy',
    );

    if (migrations) {
      // v1 (the legacy code) stores a preference in old_preference; the rename must not lose it.
      const put = await fetch(
        `http://127.0.0.1:${router.productionPort}/preference?user=${preference.user}&value=${preference.value}`,
        { method: 'PUT' },
      );
      log(
        `v1 stored ${preference.user}'s preference "${preference.value}" in old_preference (HTTP ${put.status})`,
      );
    }
    const session = await createSession(router.productionPort);
    const results: ScenarioResult[] = [];
    for (const scenario of catalogue.filter((s) => !options.scenarios || options.scenarios.includes(s.id))) {
      log('');
      log(`Scenario ${scenario.id}: ${scenario.title}`);
      const users = Math.max(options.concurrency ?? 8, scenario.minUsers ?? 0);
      const sticky = scenario.stickySeconds !== undefined;
      const eventsBefore = fleet.events().length;
      const scaling = scenario.scaling
        ? await AutoScaling.configure(fleet, router, deps.record, scenario.scaling)
        : undefined;
      const rising = scenario.risingLoad;
      const load = new LoadGenerator(
        `http://127.0.0.1:${router.productionPort}/`,
        rising?.users ?? users,
        undefined,
        { sticky, ...(rising ? { paceMs: rising.paceMs } : {}) },
      );
      const loadStartedAt = Date.now();
      load.start();
      await scaling?.start();
      await sleep(options.warmupMs ?? 500);
      let scaledOut: FleetEvent | undefined;
      if (rising) {
        const { liveColor } = await deps.record.read();
        log(`  the load rises: ${rising.users} paced users, then ${users} more as fast as they are answered`);
        load.add(users);
        scaledOut = await scaling?.scaledOut(liveColor, eventsBefore, 60_000);
        if (!scaledOut) {
          log(`  ${liveColor} did not scale out within 60 s: the release starts all the same`);
        }
      }
      const changesBefore = router.weightChanges().length;
      const publishedBefore = notifier.outcomes.length;
      const callbacks = new LocalCallbacks();
      const progress = progressPrinter(log, workflowShape(workflow.definition));
      const answered = gate
        ? approveWhenAsked(callbacks, notifier, options.approveAfterSeconds, log)
        : undefined;
      const execution = await runWorkflow(
        workflow,
        deps,
        {
          ...settings,
          ...(sticky ? { analysis: { ...settings.analysis!, stickySeconds: scenario.stickySeconds } } : {}),
          ...(scenario.scaling
            ? { scaling: { minCount: scenario.scaling.minCount, maxCount: scenario.scaling.maxCount } }
            : {}),
        },
        {
          image: `${REPOSITORY}:${scenario.version}`,
          startedBy: 'npm start (local rehearsal)',
          ...(scenario.strategy ? { strategy: scenario.strategy } : {}),
        },
        {
          execution: `rehearsal-${scenario.id}-${scenario.version}`,
          onEvent: progress,
          callbacks,
          tasks: migrations,
        },
      );
      progress.done();
      answered?.cancel();
      // The operator's rollback once the old color went cold, while users keep coming (cold-rollback.ts).
      const cold =
        scenario.coldRollback && execution.status === 'SUCCEEDED'
          ? await playColdRollback(deps, settings, fleet, log, { warmBack: options.warmBackAfterCold })
          : undefined;
      await sleep(500);
      const samples = await load.stop();
      // The scenario's events end with the release (and the load): removing its scaling afterwards is not part of it.
      const fleetEvents = fleet.events().slice(eventsBefore);
      await scaling?.remove();
      const weightChanges = router
        .weightChanges()
        .map((change, index) => ({ ...change, index }))
        .slice(changesBefore);
      const switchAt = weightChanges[0]?.at;
      const rollbackDoneAt = execution.events.find((e) => e.type === 'exited' && e.state === 'Roll back')?.at;
      const switchState = ['entered', 'exited'].map(
        (type) => execution.events.find((e) => e.type === type && e.state === 'Switch traffic')?.at,
      );
      const outcome = execution.status === 'SUCCEEDED' ? 'Released' : (execution.error ?? 'FAILED');
      const live = await router.productionWeights();
      const liveColor = live.blue > 0 ? 'blue' : 'green';
      results.push({
        scenario,
        execution,
        outcome,
        passed:
          outcome === scenario.expect &&
          (!rising || scaledOut !== undefined) &&
          (!scenario.coldRollback || cold?.ok === true),
        load: summarize(samples, switchAt, rollbackDoneAt),
        liveAfter: `${liveColor} ${fleet.running(liveColor)?.version ?? '?'}`,
        switchAt,
        rollbackDoneAt,
        weightChanges,
        routed: router.routedSince(loadStartedAt),
        switchMs:
          switchState[0] !== undefined && switchState[1] !== undefined
            ? switchState[1] - switchState[0]
            : undefined,
        verdicts: notifier.outcomes
          .slice(publishedBefore)
          .flatMap((o) => (o.status === 'SHIFT_STEP' && o.step ? [o.step] : [])),
        loadStartedAt,
        samples,
        fleetEvents,
        ...(scaledOut ? { scaledOut } : {}),
        ...(cold ? { coldRollback: { ...cold, users: requestsDuring(cold, samples) } } : {}),
      });
      const coldRun = results[results.length - 1].coldRollback;
      if (coldRun) {
        log(
          `  during the cold rollback: ${coldRun.users.requests} requests, ${coldRun.users.failed} failed; live after: ` +
            results[results.length - 1].liveAfter,
        );
      }
      for (const verdict of results[results.length - 1].verdicts) {
        log(`    ${verdict.summary}`);
      }
      log(
        `  → ${execution.status}${execution.error ? ` ${execution.error}` : ''}${execution.cause ? `: ${execution.cause}` : ''}`,
      );
    }
    const sessionResult = !redis
      ? { checked: false, note: 'no Redis (apt-get install redis-server): sessions not checked' }
      : session
        ? {
            checked: true,
            survived: await sessionStillValid(router.productionPort, session),
            note: 'session created before scenario 1, checked after the last one',
          }
        : { checked: true, survived: false, note: 'the session could not be created before scenario 1' };
    let readBack: string | undefined;
    if (migrations) {
      const res = await fetch(`http://127.0.0.1:${router.productionPort}/preference?user=${preference.user}`);
      readBack =
        res.status === 200
          ? ((await res.json()) as { preference?: string }).preference
          : `HTTP ${res.status}`;
      log('');
      log(
        `preference written by v1 before the rename, read back after the releases: "${readBack ?? '(none)'}"` +
          ` (schema: ${migrationRecord.state.contracted ? `contracted for ${migrationRecord.state.contracted.image}` : 'not contracted'})`,
      );
    }
    return {
      scenarios: results,
      session: sessionResult,
      ...(migrations
        ? { migrations: { runs: migrations.runs, preference: { written: preference.value, readBack } } }
        : {}),
    };
  } finally {
    await cleanup();
  }
}

async function createSession(port: number): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/session?user=rehearsal`, { method: 'POST' });
  return res.headers.get('set-cookie')?.split(';')[0];
}

async function sessionStillValid(port: number, cookie: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/session`, { headers: { cookie } });
  return res.status === 200;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The operator of the rehearsal's manual gate: when a release waits, print what the gate published and answer
 * it (SendTaskSuccess with its token, as `bluegreen approve` does) `seconds` later.
 */
function approveWhenAsked(
  callbacks: LocalCallbacks,
  notifier: MemoryNotifier,
  seconds: number,
  log: (line: string) => void,
): { cancel: () => void } {
  let cancelled = false;
  void callbacks.nextToken().then(async ({ token }) => {
    if (cancelled) {
      return;
    }
    const asked = notifier.outcomes.filter((o) => o.status === 'APPROVAL_REQUIRED').pop();
    // What the gate published, without its AWS commands (`npx bluegreen approve` would answer a release in AWS,
    // not this one): here the rehearsal itself is the operator.
    log(`    gate: ${asked?.cause?.split(' Approve: ')[0] ?? 'waiting for approval'}`);
    log(
      `    gate: the rehearsal approves it in ${seconds} s (--approve-after ${seconds}), as an operator's ` +
        '`bluegreen approve` would in AWS',
    );
    await sleep(seconds * 1000);
    if (!cancelled) {
      callbacks.sendTaskSuccess(token, {
        approvedBy: 'npm start --approve-after',
        at: new Date().toISOString(),
      });
    }
  });
  return {
    cancel: () => {
      cancelled = true;
    },
  };
}
