/**
 * An in-memory AWS for the release workflow: listener, test rule, record, two services, target health, alarms,
 * lock and notifications, behind the same ports the AWS adapters implement. Images carry behaviours, so a test
 * says "v3 crashes at start" or "v4 fails after the switch" and the world acts it out. Any port call can be made
 * to fail (fault injection) to test the state machine's Retry/Catch paths.
 */
import { BluegreenError } from '../../lambda/shared/errors';
import type { LocalTasks } from '../../rehearsal/workflow-runner';
import { fakeFleet, type Op } from './fake-fleet';
import { FakeHookFunctions } from './fake-hooks';
import type {
  FiringAlarm,
  FleetStatus,
  LockResult,
  MigrationState,
  Promotion,
  ProbeResult,
  ReleaseOutcome,
  TargetHealth,
  WorkflowDeps,
} from '../../lambda/shared/ports';
import { COLORS, type Color } from '../../lambda/shared/release-record';
import type { ColorBounds, RecordedCapacity, ScalingSettings } from '../../lambda/shared/scaling';
import type { TrafficWeights } from '../../lambda/shared/traffic';

export const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';

/** How an image behaves once deployed. */
export type Behaviour =
  | 'good'
  /** Its tasks stop right after starting: ECS counts failed tasks. */
  | 'crash'
  /** It never becomes healthy (health checks keep failing): the deploy deadline passes. */
  | 'never-healthy'
  /** It answers 500 on the test listener's smoke checks. */
  | 'fails-validation'
  /** It passes validation, then answers 503 once it takes production traffic. */
  | 'fails-after-switch'
  /** It passes validation, then its 5xx alarm goes off once it takes production traffic. */
  | 'alarms-after-switch'
  /** Subtly worse: 2% of its requests fail where a good version fails 0.2% (no alarm goes off). */
  | 'errors-2pct'
  /** Subtly slower: its p99 latency is 50% above a good version's (no alarm goes off). */
  | 'slow';

interface Service {
  revision: string;
  desired: number;
  running: number;
  rollout: FleetStatus['rollout'];
  failedTasks: number;
  /** describe() calls since the last deploy: rollouts take two checks to complete. */
  checks: number;
  /** The revision before the last deploy, which ECS's circuit breaker rolls back to. */
  previous?: string;
  /** A revision ECS gave up on. */
  failed?: { revision: string; reason: string };
}

export interface FaultPlan {
  /** Fails the `nth` (1-based) call of `operation` once, with a transient error (ServiceUnavailable, or `name`). */
  readonly transient?: readonly {
    readonly operation: string;
    readonly nth: number;
    readonly name?: string;
  }[];
  /** Fails every call of these operations. */
  readonly permanent?: readonly string[];
}

export class FakeWorld {
  weights: TrafficWeights = { blue: 100, green: 0 };
  testWeights: TrafficWeights = { blue: 0, green: 100 };
  record: { liveColor: Color; images: Record<Color, string>; liveSince?: string };
  readonly services: Record<Color, Service>;
  readonly revisions = new Map<string, { image: string; active: boolean }>();
  readonly behaviours = new Map<string, Behaviour>();
  lock?: {
    owner: string;
    image: string;
    since: string;
    expiresAt: number;
    promotion?: Promotion;
  };
  readonly published: ReleaseOutcome[] = [];
  /** The production weights the record holds (absent: all on the live color). */
  recordedWeights?: TrafficWeights;
  /** Group stickiness on the production listener (seconds), as the last weights change set it. */
  stickySeconds?: number;
  /** Every change of the production weights, in order, with the stickiness it set. */
  readonly weightChanges: { weights: TrafficWeights; stickySeconds?: number }[] = [];
  /** Production requests per second, shared by the colors by weight: what the metrics count. */
  requestsPerSecond = 200;
  /** Every metrics window read: color, start, end. */
  readonly metricReads: { color: Color; start: string; end: string }[] = [];
  /** Scaling held back (suspended) for a release. */
  capacityHeld = false;
  /**
   * Each color's scaling bounds (a scalable target), when the world has auto scaling (enableScaling): like
   * Application Auto Scaling, setting bounds brings the count within them at once.
   */
  scaling?: Record<Color, ColorBounds>;
  /** Each color's bounds as the record holds them (absent: both auto). */
  recordedCapacity?: Record<Color, RecordedCapacity>;
  /** Every change of a color's bounds, in order. */
  readonly boundChanges: { color: Color; bounds: ColorBounds }[] = [];
  /** The migration record (SSM in AWS). */
  migrationState: MigrationState = {};
  /** Every migration task that ran: its phase (the command's last word) and the image it ran. */
  readonly migrationRuns: { phase: string; image: string; exitCode?: number }[] = [];
  /** Migration tasks that fail: `<image>:<phase>` or `<phase>` (any image); `timeout` hangs past the limit. */
  readonly failingMigrations = new Map<string, 'exit' | 'timeout'>();
  /**
   * Alarms in ALARM, by name (CloudWatch's view): set by a test, or entered by an `alarms-after-switch` image
   * once it takes production traffic (since the world's clock at that moment).
   */
  readonly alarmStates = new Map<string, FiringAlarm & { readonly color: Color }>();
  /** The test listener's token, in the secret and in the listener rule (a rotation changes both). */
  secret = 'secret-token';
  /** The token the test listener's rule accepts, when it differs from the secret (a half-done rotation). */
  listenerToken?: string;
  /** The token a warm Lambda container read earlier and keeps (undefined: a cold start reads the secret). */
  cachedToken?: string;
  /**
   * Called before every port call acts (with its name and how many times it was called), and on every now():
   * a test's way to change the world mid-release (an operator moving the listener, a task lost at the gate).
   */
  onCall?: (call: string, n: number) => void;
  readonly calls: string[] = [];
  /** The lifecycle hooks' functions (release.hooks): what each call returns (test/support/fake-hooks.ts). */
  readonly hookFunctions = new FakeHookFunctions();
  clock = Date.parse('2026-11-26T10:00:00Z');
  /** Seconds the clock moves on every now(): the Wait states run instantly in tests. */
  tick = 5;
  private nextRevision = 1;
  private readonly counts = new Map<string, number>();

  constructor(
    initialImage = `${REPO}:v1`,
    private readonly faults: FaultPlan = {},
  ) {
    this.behaviours.set(initialImage, 'good');
    const revision = (color: Color) => this.register(color, initialImage);
    this.record = { liveColor: 'blue', images: { blue: initialImage, green: initialImage } };
    this.services = {
      blue: {
        revision: revision('blue'),
        desired: 2,
        running: 2,
        rollout: 'COMPLETED',
        failedTasks: 0,
        checks: 9,
      },
      green: {
        revision: revision('green'),
        desired: 0,
        running: 0,
        rollout: 'COMPLETED',
        failedTasks: 0,
        checks: 9,
      },
    };
  }

  /**
   * Gives both colors auto scaling as a freshly deployed stack has it: the live color within min..max, the idle one
   * at 0..0, the record `auto` for both.
   */
  enableScaling(settings: ScalingSettings): this {
    const live = this.record.liveColor;
    const idle = live === 'blue' ? 'green' : 'blue';
    this.scaling = {
      [live]: { min: settings.minCount, max: settings.maxCount, scaleInSuspended: false },
      [idle]: { min: 0, max: 0, scaleInSuspended: false },
    } as Record<Color, ColorBounds>;
    this.recordedCapacity = { blue: 'auto', green: 'auto' };
    return this;
  }

  /**
   * A scaling policy acts on `color` (load came or went): it asks for `wanted`, which the bounds and a suspended
   * scale-in limit, as AWS does. Returns the count the color now has.
   */
  autoscale(color: Color, wanted: number): number {
    const bounds = this.scaling?.[color];
    const s = this.services[color];
    if (!bounds) {
      throw new Error('this world has no auto scaling (enableScaling)');
    }
    let count = bounds.scaleInSuspended ? Math.max(wanted, s.desired) : wanted;
    count = Math.min(bounds.max, Math.max(bounds.min, count));
    this.services[color] = { ...s, desired: count, running: count };
    return count;
  }

  /** A deploy's or restore's bounds (the count is theirs to set). */
  assignBounds(color: Color, bounds: ColorBounds | undefined): void {
    if (!bounds) {
      return;
    }
    if (!this.scaling) {
      throw new BluegreenError('ScalingNotConfigured', 'This world has no auto scaling.');
    }
    this.scaling[color] = { ...bounds };
    this.boundChanges.push({ color, bounds: { ...bounds } });
  }

  /** Where production traffic goes: the single color with weight, or undefined when split or none. */
  liveTarget(): Color | undefined {
    const receiving = COLORS.filter((c) => this.weights[c] > 0);
    return receiving.length === 1 ? receiving[0] : undefined;
  }

  imageOf(color: Color): string {
    return this.revisions.get(this.services[color].revision)!.image;
  }

  behaviourOf(color: Color): Behaviour {
    return this.behaviours.get(this.imageOf(color)) ?? 'good';
  }

  /** The ports, every call recorded and subject to the fault plan. */
  deps(): WorkflowDeps {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the ports below are closures over this world
    const w = this;
    const op: Op = <T>(name: string, body: () => T | Promise<T>): Promise<T> => {
      w.calls.push(name);
      const n = (w.counts.get(name) ?? 0) + 1;
      w.counts.set(name, n);
      w.onCall?.(name, n);
      const transient = w.faults.transient?.find((f) => f.operation === name && f.nth === n);
      if (w.faults.permanent?.includes(name) || transient) {
        return Promise.reject(
          new BluegreenError(transient?.name ?? 'ServiceUnavailable', `injected fault: ${name} call ${n}`),
        );
      }
      return Promise.resolve().then(body);
    };
    return {
      now: () => {
        const now = new Date((w.clock += w.tick * 1000));
        w.onCall?.('now', 0);
        return now;
      },
      record: {
        read: () =>
          op('record.read', () =>
            structuredClone({
              ...w.record,
              ...(w.recordedCapacity ? { capacity: w.recordedCapacity } : {}),
            }),
          ),
        write: (u) =>
          op('record.write', () => {
            if (u.image) {
              w.record.images[u.image.color] = u.image.image;
            }
            w.recordedWeights = u.weights;
            w.record.liveColor = u.liveColor;
          }),
        writeCapacity: (color, capacity) =>
          op('record.writeCapacity', () => {
            w.recordedCapacity = {
              ...(w.recordedCapacity ?? { blue: 'auto', green: 'auto' }),
              [color]: capacity,
            };
          }),
      },
      router: {
        productionWeights: () => op('router.productionWeights', () => ({ ...w.weights })),
        setProductionWeights: (weights, options) =>
          op('router.setProductionWeights', () => {
            w.weights = { ...weights };
            w.stickySeconds = options?.stickySeconds;
            w.weightChanges.push({ weights: { ...weights }, stickySeconds: options?.stickySeconds });
          }),
        setTestWeights: (weights) => op('router.setTestWeights', () => void (w.testWeights = { ...weights })),
        targetHealth: (color) => op('router.targetHealth', () => w.targetHealth(color)),
      },
      fleet: fakeFleet(w, op),
      probe: { get: (url, headers) => op('probe.get', () => w.probe(url, headers ?? {})) },
      alarms: {
        firing: (color) => op('alarms.firing', () => w.firing(color)),
        named: (names) =>
          op('alarms.named', () =>
            [...w.alarmStates.values()]
              .filter((a) => names.includes(a.name))
              .map(({ name, since, reason }) => ({ name, since, reason })),
          ),
      },
      metrics: {
        periodSeconds: 60,
        settleSeconds: 120,
        window: (color, start, end) =>
          op('metrics.window', () => {
            w.metricReads.push({ color, start: start.toISOString(), end: end.toISOString() });
            return w.window(color, (end.getTime() - start.getTime()) / 1000);
          }),
      },
      lock: {
        acquire: (owner, image, now, expiresAt) =>
          op('lock.acquire', (): LockResult => {
            if (w.lock && w.lock.owner !== owner && w.lock.expiresAt > now.getTime()) {
              return { acquired: false, holder: w.lock.owner, image: w.lock.image, since: w.lock.since };
            }
            w.lock = { owner, image, since: now.toISOString(), expiresAt: expiresAt.getTime() };
            return { acquired: true };
          }),
        release: (owner) =>
          op('lock.release', () => {
            if (w.lock?.owner === owner) {
              w.lock = undefined;
            }
          }),
        holder: () =>
          op('lock.holder', () =>
            w.lock ? { owner: w.lock.owner, expiresAt: new Date(w.lock.expiresAt).toISOString() } : undefined,
          ),
        promotion: (owner) =>
          op('lock.promotion', () => (w.lock?.owner === owner ? w.lock.promotion : undefined)),
      },
      notifier: { publish: (outcome) => op('notifier.publish', () => void w.published.push(outcome)) },
      lifecycleHooks: ((hooks) => ({
        invoke: (request, deadline) => op('lifecycleHooks.invoke', () => hooks.invoke(request, deadline)),
      }))(w.hookFunctions.port(() => new Date(w.clock))),
      testToken: (options) =>
        op('testToken', () => {
          if (options?.fresh || w.cachedToken === undefined) {
            w.cachedToken = w.secret;
          }
          return w.cachedToken;
        }),
      migrations: {
        record: {
          read: () => op('migrations.read', () => structuredClone(w.migrationState)),
          write: (state) => op('migrations.write', () => void (w.migrationState = structuredClone(state))),
        },
        // ECS: the migrations run with the release's own revision.
        tasks: { taskDefinition: (r) => op('migrations.taskDefinition', () => r.revision) },
      },
    };
  }

  /** ECS RunTask for the migration phases: the task runs the image of its task definition. */
  tasks(): LocalTasks {
    return {
      run: ({ taskDefinition, command }) => {
        const phase = command[command.length - 1] ?? '';
        const image =
          this.revisions.get(taskDefinition)?.image ?? `unknown task definition ${taskDefinition}`;
        this.calls.push(`task.${phase}`);
        const failure = this.failingMigrations.get(`${image}:${phase}`) ?? this.failingMigrations.get(phase);
        if (failure === 'timeout') {
          this.migrationRuns.push({ phase, image });
          return new Promise(() => undefined); // never stops: the state's TimeoutSeconds ends it
        }
        const exitCode = failure === 'exit' ? 1 : 0;
        this.migrationRuns.push({ phase, image, exitCode });
        return Promise.resolve({ exitCode });
      },
    };
  }

  /** Registers a revision of `color` that runs `image` (the fleet's register). */
  register(color: Color, image: string): string {
    const arn = `arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-${color}:${this.nextRevision++}`;
    this.revisions.set(arn, { image, active: true });
    return arn;
  }

  /**
   * ECS's view: a rollout completes on the second check; a crashing image fails tasks until the deployment
   * circuit breaker (at 4 failed tasks) rolls the service back to the previous revision.
   */
  /** The color's service as ECS describes it (the fleet's describe). */
  describe(color: Color, revision?: string): FleetStatus {
    const s = this.services[color];
    s.checks += 1;
    const behaviour = this.behaviourOf(color);
    if (s.rollout === 'IN_PROGRESS') {
      if (behaviour === 'crash') {
        s.failedTasks += 2;
        if (s.failedTasks >= 4 && s.previous) {
          s.failed = {
            revision: s.revision,
            reason: 'tasks failed to start: Essential container in task exited',
          };
          Object.assign(s, {
            revision: s.previous,
            rollout: 'COMPLETED',
            running: s.desired,
            failedTasks: 0,
          });
        }
      } else if (behaviour !== 'never-healthy' && s.checks >= 2) {
        s.rollout = 'COMPLETED';
        s.running = s.desired;
      }
    }
    if (revision && revision !== s.revision && s.failed?.revision === revision) {
      return {
        revision: s.revision,
        desired: s.desired,
        running: s.running,
        rollout: 'FAILED',
        failedTasks: 4,
        reason: `ECS rolled the service back (${s.failed.reason})`,
      };
    }
    return {
      revision: s.revision,
      desired: s.desired,
      running: s.running,
      rollout: s.rollout,
      failedTasks: s.failedTasks,
      reason: behaviour === 'crash' ? 'Essential container in task exited' : undefined,
    };
  }

  /**
   * What the load balancer counted for `color` over `seconds` under the current weights: its share of the
   * requests, the failures its image's behaviour gives (0.2% for a good one), and its p99 latency (ms).
   */
  window(color: Color, seconds: number): { requests: number; errors: number; latencyMs?: number } {
    const total = this.weights.blue + this.weights.green;
    const requests =
      total === 0 ? 0 : Math.round((this.requestsPerSecond * seconds * this.weights[color]) / total);
    if (requests === 0) {
      return { requests: 0, errors: 0 };
    }
    const behaviour = this.behaviourOf(color);
    const rate = { 'errors-2pct': 0.02, 'fails-after-switch': 1 }[behaviour as string] ?? 0.002;
    return {
      requests,
      errors: Math.round(requests * rate),
      latencyMs: behaviour === 'slow' ? 120 : 80,
    };
  }

  private firing(color: Color): FiringAlarm[] {
    const name = `shop-${color}-5xx`;
    if (this.behaviourOf(color) === 'alarms-after-switch' && this.weights[color] > 0) {
      if (!this.alarmStates.has(name)) {
        this.alarmStates.set(name, {
          color,
          name,
          since: new Date(this.clock).toISOString(),
          reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than or equal to the threshold (5.0).',
          datapoint: 'datapoint 12 (Sum, 60s periods) against threshold 5',
        });
      }
    }
    // The user's own alarms (release.analysis.alarms) are not a color's: only `named` reports them.
    return [...this.alarmStates.values()]
      .filter((a) => a.color === color && a.name.startsWith(`shop-${color}-`))
      .map(({ color: _color, ...alarm }) => alarm);
  }

  private targetHealth(color: Color): TargetHealth {
    const s = this.services[color];
    const healthy = s.rollout === 'COMPLETED' && this.behaviourOf(color) !== 'never-healthy' ? s.running : 0;
    const notHealthy = s.desired - healthy;
    return {
      healthy,
      notHealthy: Math.max(notHealthy, 0),
      // Tasks not yet running are targets still starting; a never-healthy image's are failing.
      starting: this.behaviourOf(color) === 'never-healthy' ? 0 : Math.max(s.desired - s.running, 0),
      problems: notHealthy > 0 ? [`${notHealthy} target(s) unhealthy (Target.ResponseCodeMismatch)`] : [],
    };
  }

  private probe(url: string, headers: Readonly<Record<string, string>>): ProbeResult {
    const test = url.includes(':9000');
    if (test && headers['X-Bluegreen-Test-Token'] !== (this.listenerToken ?? this.secret)) {
      return { status: 403, body: 'test listener: header required', latencyMs: 2 };
    }
    const weights = test ? this.testWeights : this.weights;
    const color = COLORS.find((c) => weights[c] > 0);
    if (!color || this.services[color].running === 0) {
      return { status: 503, body: '', latencyMs: 1 };
    }
    const behaviour = this.behaviourOf(color);
    const image = this.imageOf(color);
    const version = image.slice(image.lastIndexOf(':') + 1);
    if ((test && behaviour === 'fails-validation') || (!test && behaviour === 'fails-after-switch')) {
      return { status: test ? 500 : 503, body: 'broken', latencyMs: 3 };
    }
    return { status: 200, body: JSON.stringify({ status: 'ok', version, color }), latencyMs: 4 };
  }
}
