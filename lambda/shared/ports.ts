/**
 * The small interfaces the workflow's core talks to. AWS adapters (lambda/adapters) implement them for the
 * cloud; the local rehearsal implements them on one machine. The core never imports an AWS SDK.
 */
import type { ColorWindow } from './analysis';
import type { LifecycleHookReply, LifecycleHookRequest } from './hook-contract';
import type { StepVerdict } from './release';
import type { Color } from './release-record';
import type { Capacity, ColorBounds, RecordedCapacity } from './scaling';
import type { TrafficWeights } from './traffic';

export interface ReleaseRecord {
  readonly liveColor: Color;
  readonly images: Readonly<Record<Color, string>>;
  /**
   * The production listener's weights as the workflow last set them: all on `liveColor` ({live: 100, other: 0})
   * between releases, the split during a gradual shift (where `liveColor` is still the old color).
   */
  readonly weights?: TrafficWeights;
  /**
   * Each color's scaling bounds as the workflow last set them (lambda/shared/scaling.ts); absent (a record from
   * before auto scaling, or an app without it): both `auto`.
   */
  readonly capacity?: Readonly<Record<Color, RecordedCapacity>>;
  /**
   * When the live color was last written (ISO; SSM: the live-color parameter's LastModifiedDate), whatever wrote
   * it: a release that succeeded or failed after its switch, a rollback. Absent when the store cannot tell.
   */
  readonly liveSince?: string;
}

/** The durable record of which color is live and what each color runs (SSM in AWS). */
export interface ReleaseRecordStore {
  read(): Promise<ReleaseRecord>;
  /**
   * Writes the live color and, when given, a color's image and the production weights (absent: all on
   * `liveColor`). Idempotent.
   */
  write(update: {
    liveColor: Color;
    image?: { color: Color; image: string };
    weights?: TrafficWeights;
  }): Promise<void>;
  /** Writes one color's scaling bounds (the template renders the color's min and max from them). Idempotent. */
  writeCapacity(color: Color, capacity: RecordedCapacity): Promise<void>;
}

/** The thing that really decides where users go (the ALB production listener in AWS). */
export interface TrafficRouter {
  productionWeights(): Promise<TrafficWeights>;
  /**
   * Sets the production listener's weighted forward action. With `stickySeconds`, group-level stickiness keeps a
   * user on the color they first reached for that long (a split's users stay on one version); without it, any
   * stickiness is switched off in the same change (ALB stickiness overrides weights).
   */
  setProductionWeights(weights: TrafficWeights, options?: { readonly stickySeconds?: number }): Promise<void>;
  /** Sets where the test listener's (secret-header) rule forwards. */
  setTestWeights(weights: TrafficWeights): Promise<void>;
  /** Target health of one color's target group. */
  targetHealth(color: Color): Promise<TargetHealth>;
}

export interface TargetHealth {
  readonly healthy: number;
  /** Targets not healthy (unhealthy, initial, draining, unavailable). */
  readonly notHealthy: number;
  /**
   * Of those, the targets still starting (ALB state `initial`: registered, health checks not yet passed); absent
   * when unknown (counted as none).
   */
  readonly starting?: number;
  /** One line per unhealthy target with its reason, for causes. */
  readonly problems: readonly string[];
}

/** One color's compute (the ECS service in AWS). */
export interface Fleet {
  /**
   * The color's service. With `revision`, the status of the rollout of that revision: FAILED when ECS gave up
   * on it (its circuit breaker rolled the service back to another revision).
   */
  describe(color: Color, revision?: string): Promise<FleetStatus>;
  /**
   * Registers a revision of the color's task definition (a launch template version on EC2) that runs `image`
   * (reporting `version`), without running it. Returns the new revision, or the latest one when it already runs
   * that image and version (a retried step registers nothing new).
   */
  register(color: Color, image: string, version: string): Promise<string>;
  /**
   * Rolls the color's service onto a registered `revision` with `count` tasks; with `bounds` (auto scaling), its
   * scaling bounds become those in the same move (EC2: the same UpdateAutoScalingGroup), never letting the
   * platform start tasks of the revision it ran before.
   */
  deploy(color: Color, revision: string, count: number, bounds?: ColorBounds): Promise<void>;
  /**
   * Puts the color back on `revision` (when given) with `count` tasks, and says what it did: a revision that was
   * deregistered meanwhile (a `cdk deploy` changed the settings) cannot run again as it was. With `bounds` (auto
   * scaling), its bounds and scale-in suspension become those in the same move (`count` must be within them).
   */
  restore(color: Color, count: number, revision?: string, bounds?: ColorBounds): Promise<Restored>;
  /** Retires a revision that must never run again (an aborted or rolled-back release's). */
  retire(revision: string): Promise<void>;
  /**
   * Whether `revision` can run again as it was registered: not when it was deregistered (ECS: its task definition
   * INACTIVE, or gone) or deleted (a launch template version). `reason` says which, with the revision's name;
   * `image`: the image it runs (ECS: its app container's; EC2: its user data's), when known.
   */
  revisionRunnable(
    revision: string,
  ): Promise<{ readonly runnable: boolean; readonly reason?: string; readonly image?: string }>;
  /**
   * While a release runs, no scaling policy may scale either color in (true); afterwards scaling acts again
   * (false). Idempotent.
   */
  holdCapacity(hold: boolean): Promise<void>;
  /**
   * One color's scaling now: its bounds, its count, whether scale-in is suspended. Undefined when the stack
   * configures no scaling (config `scaling`).
   */
  capacity(color: Color): Promise<Capacity | undefined>;
  /**
   * Sets one color's scaling bounds and scale-in suspension (ECS: its scalable target; EC2: its group's min and
   * max). The platform brings the count within the new bounds at once (a count above the max goes down to it, one
   * below the min up to it, on the revision the color runs): raise a count with deploy/restore before a min above
   * it. Idempotent; fails with a named error when the stack configures no scaling.
   */
  setCapacity(color: Color, bounds: ColorBounds): Promise<void>;
}

/** What a restore really did (causes are built from this, never from what was asked). */
export interface Restored {
  /** The revision the color is on now (the one asked for, or the copy registered in its place), when one was given. */
  readonly revision?: string;
  readonly count: number;
  /** How it differs from what was asked, in words (e.g. "revision 7 was deregistered: ..."); absent when it does not. */
  readonly note?: string;
}

export interface FleetStatus {
  /** The revision the service runs (or is rolling to). */
  readonly revision: string;
  readonly desired: number;
  readonly running: number;
  /** ECS's view of the rollout: IN_PROGRESS, COMPLETED or FAILED. */
  readonly rollout: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  /** Tasks of this rollout that stopped unexpectedly (crash loops). */
  readonly failedTasks: number;
  /** Why, when ECS says (the newest service event or stop reason). */
  readonly reason?: string;
}

/** Plain HTTP, as a user or the validation step sees it. */
export interface Probe {
  get(url: string, headers?: Readonly<Record<string, string>>, timeoutMs?: number): Promise<ProbeResult>;
}

export interface ProbeResult {
  /** HTTP status, or 0 when no response came (refused, reset, timed out). */
  readonly status: number;
  readonly body: string;
  readonly latencyMs: number;
  readonly error?: string;
}

/** The per-color alarms (CloudWatch in AWS). */
export interface Alarms {
  /** This color's alarms that are in ALARM now, each with when it entered ALARM and why. */
  firing(color: Color): Promise<FiringAlarm[]>;
  /** The user's own alarms, by name (release.analysis.alarms), that are in ALARM now. */
  named(names: readonly string[]): Promise<FiringAlarm[]>;
}

/** An alarm in ALARM. */
export interface FiringAlarm {
  readonly name: string;
  /** When it entered ALARM (ISO 8601): CloudWatch's StateTransitionedTimestamp. */
  readonly since: string;
  /** Why, in the alarm's words (CloudWatch's StateReason). */
  readonly reason: string;
  /** The datapoints that crossed the threshold, when known (from StateReasonData). */
  readonly datapoint?: string;
}

/**
 * Per-color traffic over a window, as the load balancer saw it: CloudWatch's AWS/ApplicationELB metrics per
 * TargetGroup in AWS (one-minute periods, published late), the local router's own counts in the rehearsal.
 */
export interface TrafficMetrics {
  /** Windows start and end on whole multiples of this (60 in AWS; 1 in the rehearsal). */
  readonly periodSeconds: number;
  /** How long after a window ends all its data has arrived (CloudWatch publishes ALB metrics late). */
  readonly settleSeconds: number;
  /**
   * `color`'s requests, target 5xx and TargetResponseTime `percentile` (in ms) over [start, end), both on whole
   * periods. A window with no requests has `requests: 0` and no latency.
   */
  window(color: Color, start: Date, end: Date, percentile: number): Promise<ColorWindow>;
}

/** The in-flight lock: one release per app at a time. */
export interface ReleaseLock {
  /** Takes the lock for `owner` until `expiresAt`, unless someone else holds an unexpired one. */
  acquire(owner: string, image: string, now: Date, expiresAt: Date): Promise<LockResult>;
  /** Releases the lock if `owner` holds it; a no-op otherwise (it never frees someone else's lock). */
  release(owner: string): Promise<void>;
  /** Who holds the lock now (a consistent read), and until when (ISO); undefined when it is free. */
  holder(): Promise<{ readonly owner: string; readonly expiresAt: string } | undefined>;
  /**
   * The operator's `bluegreen promote` for the release `owner` (skip its remaining shift steps to 100%), kept
   * on the lock: who asked and when; undefined when nobody did.
   */
  promotion(owner: string): Promise<Promotion | undefined>;
}

export interface Promotion {
  readonly by: string;
  readonly at: string;
}

export type LockResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder: string; readonly image: string; readonly since: string };

/** An optional user-supplied validation suite (a Lambda in AWS). */
export interface ValidationHook {
  run(request: ValidationHookRequest): Promise<{ passed: boolean; summary: string }>;
}

export interface ValidationHookRequest {
  readonly testUrl: string;
  readonly header: { readonly name: string; readonly value: string };
  readonly color: Color;
  readonly image: string;
  readonly version: string;
}

/** The user's lifecycle hooks (config `release.hooks`; Lambdas in AWS): lambda/shared/hook-contract.ts. */
export interface LifecycleHooks {
  /**
   * One call of `request.hook`, abandoned at `deadline` (TIMED_OUT) or before the calling step's own time runs
   * out. Never throws for the hook's failures (an invocation error, a FunctionError, an answer outside the
   * contract): those are ERROR replies that say what arrived.
   */
  invoke(request: LifecycleHookRequest, deadline: Date): Promise<LifecycleHookReply>;
}

/** Where outcomes are published (SNS and EventBridge in AWS). */
export interface Notifier {
  publish(outcome: ReleaseOutcome): Promise<void>;
}

/** What a release can end as (the statuses an ending publishes). */
export const ENDING_STATUSES = [
  'SUCCEEDED',
  'ROLLED_BACK',
  'ABORTED',
  'REFUSED',
  'ROLLBACK_FAILED',
  'STOPPED',
  /** The new color is live, but its contract migrations failed (traffic untouched). */
  'CONTRACT_FAILED',
] as const;

export interface ReleaseOutcome {
  readonly app: string;
  readonly release: string;
  readonly status:
    | (typeof ENDING_STATUSES)[number]
    /** Not an outcome: the release waits at the manual gate. */
    | 'APPROVAL_REQUIRED'
    /** Not an outcome: a gradual shift's step was judged (the verdict is in `step`). */
    | 'SHIFT_STEP';
  readonly image?: string;
  readonly liveColor?: Color;
  readonly error?: string;
  readonly cause?: string;
  /** SHIFT_STEP only: the step's verdict, every metric with both colors' values and the threshold. */
  readonly step?: StepVerdict;
}

/**
 * Where the database's migration phases stand (an SSM parameter in AWS), when migrations are configured. The
 * contract phase is the one a rollback cannot cross: once it ran for the live release, the old version's schema
 * is gone.
 */
export interface MigrationRecord {
  read(): Promise<MigrationState>;
  /** Replaces the state. */
  write(state: MigrationState): Promise<void>;
}

export interface MigrationState {
  /**
   * A release whose contract phase waits for the next release's start (the old color was kept warm, so it
   * could still take traffic back), with the task definition that runs it.
   */
  readonly contractPending?: {
    readonly image: string;
    readonly release: string;
    readonly taskDefinition: string;
    readonly since: string;
  };
  /** The newest contract phase that ran: no rollback to a version older than `image`. */
  readonly contracted?: { readonly image: string; readonly release: string; readonly at: string };
}

/**
 * The one-off task definitions migrations run with. On ECS the release's own task definition revision; on EC2
 * Auto Scaling a revision of the app's migrations task definition registered with the release's image.
 */
export interface MigrationTasks {
  taskDefinition(release: { image: string; version: string; revision: string }): Promise<string>;
}

/** Everything a step may use; each step takes only what it needs. */
export interface WorkflowDeps {
  readonly record: ReleaseRecordStore;
  readonly router: TrafficRouter;
  readonly fleet: Fleet;
  readonly probe: Probe;
  readonly alarms: Alarms;
  readonly lock: ReleaseLock;
  readonly notifier: Notifier;
  /**
   * The secret header value that opens the test listener; read once per container, unless `fresh` asks to read
   * it again (after a 403: the secret was rotated).
   */
  readonly testToken: (options?: { readonly fresh?: boolean }) => Promise<string>;
  readonly hook?: ValidationHook;
  /** Only when lifecycle hooks are configured (`release.hooks`), and only in the hook step. */
  readonly lifecycleHooks?: LifecycleHooks;
  /** Per-color traffic metrics, for the comparative analysis of gradual shifts. */
  readonly metrics?: TrafficMetrics;
  /** Only when migrations are configured. */
  readonly migrations?: { readonly record: MigrationRecord; readonly tasks: MigrationTasks };
  readonly now: () => Date;
}
