/**
 * The rehearsal's stand-in for the two ECS services: each color is a set of sample-app processes at one
 * revision (image + version), each on its own loopback port and registered with the local router. Like ECS, a
 * process that exits is started again, and after repeated failures the rollout is marked FAILED.
 *
 * With auto scaling configured (`configureScaling`, what a stack with config `scaling` has), each color also has
 * a scalable target's bounds, with Application Auto Scaling's rules: setting bounds brings the count within them
 * at once (on the revision the color runs); a count set by deploy or restore stays as set until a policy acts (the
 * local scaler, scaler.ts, through `scaleTo`), and a policy's count is always within the bounds. Every change of a
 * color's count or bounds is kept in `events()`, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { Fleet, FleetStatus, Restored } from '../lambda/shared/ports';
import { MAX_BOUND, type Capacity, type ColorBounds } from '../lambda/shared/scaling';
import { BluegreenError } from '../lambda/shared/errors';
import type { Color } from '../lambda/shared/release-record';
import type { LocalRouter } from './router';

/** A failed rollout after this many task failures (ECS's circuit breaker does the same). */
const FAILED_TASKS_LIMIT = 4;

interface Task {
  readonly id: string;
  child?: ChildProcess;
  port?: number;
  listening: boolean;
  stopping: boolean;
}

interface ColorState {
  revision: string;
  desired: number;
  failedTasks: number;
  tasks: Task[];
  reason?: string;
  /** The color's scalable target, when the fleet has auto scaling. */
  bounds?: ColorBounds;
}

/**
 * One change of a color's count or bounds, as the fleet made it: by the workflow (`deploy`, `restore`,
 * `bounds`: its Fleet port calls), by the local scaler (`scale`), or by a stack update (`stack`: scaling configured
 * or removed).
 */
export interface FleetEvent {
  /** Its place in the fleet's log (0, 1, 2...): the order of events, whatever the clock says. */
  readonly seq: number;
  readonly color: Color;
  readonly what: 'deploy' | 'restore' | 'bounds' | 'scale' | 'stack';
  /** The color's count after it. */
  readonly desired: number;
  /** The color's count before it. */
  readonly before: number;
  /** The color's bounds after it (absent: no auto scaling). */
  readonly bounds?: ColorBounds;
  readonly revision: string;
  /** The index of the router's production weight change in force (`LocalRouter.weightChanges()`). */
  readonly weightChange: number;
  /** Why, in words (the scaler's metric and target). */
  readonly note?: string;
}

export interface LocalFleetOptions {
  readonly router: LocalRouter;
  /** The sample app bundled into one file (see buildSampleApp). */
  readonly appFile: string;
  /** What each image does wrong, if anything: BLUEGREEN_MISBEHAVE per image. */
  readonly misbehaviour: (image: string) => string | undefined;
  readonly redisUrl?: string;
  /** More environment per image (the database and which preferences code the version has). */
  readonly environment?: (image: string) => Record<string, string>;
  readonly log?: (line: string) => void;
}

/** Bundles the sample app into one JavaScript file (what its Dockerfile also does). */
export function buildSampleApp(outfile: string): string {
  buildSync({
    entryPoints: [join(__dirname, '..', 'sample-app', 'src', 'server.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export class LocalFleet implements Fleet {
  private readonly colors: Record<Color, ColorState> = {
    blue: { revision: '', desired: 0, failedTasks: 0, tasks: [] },
    green: { revision: '', desired: 0, failedTasks: 0, tasks: [] },
  };
  private readonly revisions = new Map<string, { image: string; version: string; active: boolean }>();
  private nextRevision = 1;
  private nextTask = 1;
  /** Set by stopAll: nothing is started or restarted any more. */
  private closing = false;
  private readonly log: FleetEvent[] = [];

  constructor(private readonly options: LocalFleetOptions) {}

  describe(color: Color, revision?: string): Promise<FleetStatus> {
    const s = this.colors[color];
    const running = s.tasks.filter((t) => t.listening && !t.stopping).length;
    const failed = s.failedTasks >= FAILED_TASKS_LIMIT;
    return Promise.resolve({
      revision: s.revision,
      desired: s.desired,
      running,
      rollout:
        failed || (revision !== undefined && revision !== s.revision)
          ? 'FAILED'
          : running === s.desired
            ? 'COMPLETED'
            : 'IN_PROGRESS',
      failedTasks: s.failedTasks,
      reason: s.reason,
    });
  }

  register(color: Color, image: string, version: string): Promise<string> {
    const revision = `sample-app-${color}:${this.nextRevision++}`;
    this.revisions.set(revision, { image, version, active: true });
    return Promise.resolve(revision);
  }

  /** With `bounds`, they are the color's in the same move (no task of the revision it ran is started). */
  deploy(color: Color, revision: string, count: number, bounds?: ColorBounds): Promise<void> {
    this.assignBounds(color, bounds);
    return this.rollTo(color, revision, count);
  }

  async restore(color: Color, count: number, revision?: string, bounds?: ColorBounds): Promise<Restored> {
    this.assignBounds(color, bounds);
    const s = this.colors[color];
    if (revision && revision !== s.revision) {
      await this.rollTo(color, revision, count, 'restore');
      return { revision, count };
    }
    this.change(color, 'restore', count);
    await this.converge(color);
    return { count, ...(revision ? { revision } : {}) };
  }

  /**
   * Nothing to hold: the local fleet has no scheduled scaling, and with auto scaling a held color's floor (its
   * bounds, set with setCapacity) is what stops scale-in, as on ECS.
   */
  holdCapacity(): Promise<void> {
    return Promise.resolve();
  }

  capacity(color: Color): Promise<Capacity | undefined> {
    return Promise.resolve(this.scaling(color));
  }

  /**
   * Sets the color's bounds; its count is brought within them at once, on the revision it runs (Application Auto
   * Scaling's RegisterScalableTarget). Bounds that are not 0 <= min <= max <= MAX_BOUND are refused, as AWS refuses
   * them, and change nothing.
   */
  async setCapacity(color: Color, bounds: ColorBounds): Promise<void> {
    const s = this.colors[color];
    this.assignBounds(color, bounds);
    this.change(color, 'bounds', Math.min(bounds.max, Math.max(bounds.min, s.desired)));
    await this.converge(color);
  }

  /**
   * The color's bounds become `bounds` (when given), its count untouched (deploy and restore set it). Bounds that
   * are not 0 <= min <= max <= MAX_BOUND are refused, as AWS refuses them, and change nothing.
   */
  private assignBounds(color: Color, bounds: ColorBounds | undefined): void {
    if (!bounds) {
      return;
    }
    const s = this.colors[color];
    if (!s.bounds) {
      throw new BluegreenError('ScalingNotConfigured', 'This fleet has no auto scaling to set.');
    }
    const { min, max } = bounds;
    if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && min <= max && max <= MAX_BOUND)) {
      throw new BluegreenError(
        'InvalidCapacity',
        `Bounds ${min}..${max} for ${color} are not whole numbers with 0 <= min <= max <= ${MAX_BOUND}: nothing changed.`,
      );
    }
    s.bounds = { min, max, scaleInSuspended: bounds.scaleInSuspended };
  }

  /**
   * A stack update that gives both colors auto scaling with these bounds (rendered from the release record, as the
   * template does), or takes it away (undefined). Like a scalable target's creation, bounds bring each count
   * within them at once.
   */
  async configureScaling(bounds: Readonly<Record<Color, ColorBounds>> | undefined): Promise<void> {
    for (const color of ['blue', 'green'] as const) {
      const s = this.colors[color];
      const b = bounds?.[color];
      if (!b && !s.bounds) {
        continue; // no scaling before or after: nothing changes
      }
      s.bounds = b ? { ...b } : undefined;
      this.change(color, 'stack', b ? Math.min(b.max, Math.max(b.min, s.desired)) : s.desired);
      await this.converge(color);
    }
  }

  /** The color's scaling now (bounds and count), read at once; undefined without auto scaling. */
  scaling(color: Color): Capacity | undefined {
    const s = this.colors[color];
    return s.bounds ? { ...s.bounds, desired: s.desired } : undefined;
  }

  /**
   * A scaling policy sets the color's count (Application Auto Scaling's scaling activity): always within the
   * color's bounds and never below its count while scale-in is suspended, or it is refused (a policy never asks
   * for more; the scaler computes its count with the bounds it just read).
   */
  async scaleTo(color: Color, count: number, note: string): Promise<void> {
    const s = this.colors[color];
    const b = s.bounds;
    if (!b) {
      throw new BluegreenError('ScalingNotConfigured', `No auto scaling on ${color}: nothing scales it.`);
    }
    if (count < b.min || count > b.max || (b.scaleInSuspended && count < s.desired)) {
      throw new RangeError(
        `A policy cannot set ${color} to ${count}: bounds ${b.min}..${b.max}` +
          `${b.scaleInSuspended ? `, scale-in suspended at ${s.desired}` : ''}.`,
      );
    }
    if (count === s.desired) {
      return;
    }
    this.change(color, 'scale', count, note);
    await this.converge(color);
  }

  /** Every change of a color's count or bounds so far, in order. */
  events(): readonly FleetEvent[] {
    return this.log;
  }

  retire(revision: string): Promise<void> {
    const r = this.revisions.get(revision);
    if (r) {
      r.active = false;
    }
    return Promise.resolve();
  }

  /** Like ECS: a retired (deregistered) revision cannot run again. */
  revisionRunnable(revision: string): Promise<{ runnable: boolean; reason?: string; image?: string }> {
    const r = this.revisions.get(revision);
    return Promise.resolve(
      r?.active
        ? { runnable: true, image: r.image }
        : { runnable: false, reason: `revision ${revision} is ${r ? 'retired (deregistered)' : 'unknown'}` },
    );
  }

  /** The image a revision runs (what a one-off task of that task definition would run). */
  imageOf(revision: string): string | undefined {
    return this.revisions.get(revision)?.image;
  }

  /** The image and version a color runs. */
  running(color: Color): { image: string; version: string } | undefined {
    return this.revisions.get(this.colors[color].revision);
  }

  async stopAll(): Promise<void> {
    this.closing = true;
    for (const color of ['blue', 'green'] as const) {
      this.colors[color].desired = 0;
      await this.converge(color);
    }
  }

  /** Replaces the color's tasks with `count` tasks of `revision` (new ones first, like a rolling deploy). */
  private async rollTo(
    color: Color,
    revision: string,
    count: number,
    what: 'deploy' | 'restore' = 'deploy',
  ): Promise<void> {
    const s = this.colors[color];
    const old = s.tasks;
    s.tasks = [];
    s.revision = revision;
    s.failedTasks = 0;
    s.reason = undefined;
    this.change(color, what, count);
    await this.converge(color);
    await Promise.all(old.map((t) => this.stopTask(color, t)));
  }

  /** Sets the color's count and logs the change (with its bounds and the weights in force). */
  private change(color: Color, what: FleetEvent['what'], desired: number, note?: string): void {
    const s = this.colors[color];
    const before = s.desired;
    s.desired = desired;
    this.log.push({
      seq: this.log.length,
      color,
      what,
      desired,
      before,
      ...(s.bounds ? { bounds: { ...s.bounds } } : {}),
      revision: s.revision,
      weightChange: this.options.router.weightChanges().length - 1,
      ...(note ? { note } : {}),
    });
    // With auto scaling every change of a count is printed (without it, the workflow's progress says enough).
    if (s.bounds && desired !== before) {
      this.options.log?.(
        `    ${color}: ${before} → ${desired} task${desired === 1 ? '' : 's'} (${note ?? describeEvent(what, s.bounds)})`,
      );
    }
  }

  private async converge(color: Color): Promise<void> {
    const s = this.colors[color];
    const live = s.tasks.filter((t) => !t.stopping);
    for (let i = live.length; i < s.desired; i++) {
      const task: Task = { id: `${color}-${this.nextTask++}`, listening: false, stopping: false };
      s.tasks.push(task);
      void this.startTask(color, s.revision, task);
    }
    const surplus = live.slice(s.desired);
    await Promise.all(surplus.map((t) => this.stopTask(color, t)));
  }

  private async startTask(color: Color, revision: string, task: Task): Promise<void> {
    const r = this.revisions.get(revision);
    const s = this.colors[color];
    if (!r || task.stopping || this.closing || s.revision !== revision) {
      return;
    }
    task.port = await freePort();
    if (task.stopping || this.closing || s.revision !== revision) {
      return; // stopped while it was being set up: never start it
    }
    const child = spawn(process.execPath, [this.options.appFile], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(task.port),
        BLUEGREEN_COLOR: color,
        BLUEGREEN_VERSION: r.version,
        BLUEGREEN_MISBEHAVE: this.options.misbehaviour(r.image) ?? '',
        ...(this.options.redisUrl ? { REDIS_URL: this.options.redisUrl } : {}),
        ...this.options.environment?.(r.image),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    task.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      if (!task.listening && d.toString().includes('"listening"')) {
        task.listening = true;
        this.options.router.register(color, { id: task.id, host: '127.0.0.1', port: task.port! });
      }
    });
    child.stderr?.on('data', (d: Buffer) => (s.reason = d.toString().trim().slice(0, 200)));
    child.on('error', (e) => (s.reason = `task ${task.id} could not start: ${e.message}`));
    child.on('exit', (code) => {
      if (task.stopping || this.closing) {
        return;
      }
      // Like ECS: an essential container that exits is a failed task, and the service starts another.
      task.listening = false;
      void this.options.router.deregister(color, task.id);
      s.failedTasks += 1;
      s.reason = `task ${task.id} exited with code ${code}${s.reason ? `: ${s.reason}` : ''}`;
      this.options.log?.(`  ${color}: ${s.reason}`);
      s.tasks = s.tasks.filter((t) => t !== task);
      if (s.failedTasks < FAILED_TASKS_LIMIT && s.revision === revision && !this.closing) {
        setTimeout(() => void this.converge(color), 200);
      }
    });
  }

  /** Deregisters (draining in-flight requests), then stops the process (SIGTERM: it finishes what it has). */
  private async stopTask(color: Color, task: Task): Promise<void> {
    task.stopping = true;
    await this.options.router.deregister(color, task.id);
    const child = task.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
  }
}

function describeEvent(what: FleetEvent['what'], bounds: ColorBounds | undefined): string {
  const range = bounds
    ? `${bounds.min}..${bounds.max}${bounds.scaleInSuspended ? ', scale-in suspended' : ''}`
    : '';
  switch (what) {
    case 'stack':
      return `scaling configured: bounds ${range || 'none'}`;
    case 'bounds':
      return `bounds set to ${range}`;
    default:
      return `${what}; bounds ${range}`;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
