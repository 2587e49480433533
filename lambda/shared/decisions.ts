/**
 * The release's decisions, as pure functions: is the idle color ready, did a smoke check pass, must we roll
 * back. No I/O and no clock of their own, so each is tested directly (test/lambda/shared/decisions.test.ts).
 */
import type { FiringAlarm, FleetStatus, ProbeResult, TargetHealth } from './ports';
import type { SmokeCheck } from './release';
import type { Color } from './release-record';

/** Tasks that stopped during one rollout before we call it a crash loop. */
export const CRASH_LOOP_TASKS = 3;

export type DeployVerdict =
  | { readonly kind: 'ready' }
  | { readonly kind: 'waiting'; readonly detail: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'timeout'; readonly reason: string };

/** Whether the idle color runs the new revision with all tasks up and all targets healthy. */
export function deployVerdict(args: {
  readonly status: FleetStatus;
  readonly health: TargetHealth;
  readonly revision: string;
  readonly count: number;
  readonly now: Date;
  readonly deadline: Date;
}): DeployVerdict {
  const { status, health, revision, count, now, deadline } = args;
  const progress =
    `running ${status.running}/${count} tasks of ${shortRevision(status.revision)}, ` +
    `healthy targets ${health.healthy}/${count}` +
    (health.problems.length > 0 ? ` (${health.problems.join('; ')})` : '');
  if (status.rollout === 'FAILED') {
    return {
      kind: 'failed',
      reason: `ECS marked the rollout FAILED: ${status.reason ?? 'no reason given'}; ${progress}`,
    };
  }
  if (status.failedTasks >= CRASH_LOOP_TASKS) {
    return {
      kind: 'failed',
      reason: `crash loop: ${status.failedTasks} tasks stopped during the rollout (${status.reason ?? 'no reason given'}); ${progress}`,
    };
  }
  if (idleNotReadyBecause({ status, health, revision, count }) === undefined) {
    return { kind: 'ready' };
  }
  if (now.getTime() >= deadline.getTime()) {
    return { kind: 'timeout', reason: `not ready by the deadline ${deadline.toISOString()}: ${progress}` };
  }
  return { kind: 'waiting', detail: progress };
}

/**
 * Why the idle color is not (or no longer) ready to take all production traffic: it must run `revision`, its
 * rollout COMPLETED with at least `count` tasks running, at least `count` targets healthy, and none unhealthy
 * unless it is scaling out beyond `count` (auto scaling: its extra tasks may still be starting).
 * Undefined when it is ready. Deploy waits for this; the switch checks it again just before moving traffic.
 */
export function idleNotReadyBecause(args: {
  readonly status: FleetStatus;
  readonly health: TargetHealth;
  readonly revision: string;
  readonly count: number;
}): string | undefined {
  const { status, health, revision, count } = args;
  const problems: string[] = [];
  if (status.revision !== revision) {
    problems.push(`it runs ${shortRevision(status.revision)}, not the release's ${shortRevision(revision)}`);
  }
  if (status.rollout !== 'COMPLETED') {
    problems.push(`its rollout is ${status.rollout}${status.reason ? ` (${status.reason})` : ''}`);
  }
  if (status.running < count) {
    problems.push(`${status.running} of ${count} tasks running (desired ${status.desired})`);
  }
  // Auto scaling may take a color above the count: its extra tasks' targets may still be starting ("initial"), which
  // is no reason to hold traffic back while `count` targets are healthy. Any other target not healthy is.
  const toleratedStarting = Math.min(health.starting ?? 0, Math.max(status.desired - count, 0));
  if (health.healthy < count || health.notHealthy > toleratedStarting) {
    problems.push(
      `${health.healthy}/${count} targets healthy, ${health.notHealthy} not healthy` +
        (health.problems.length > 0 ? ` (${health.problems.join('; ')})` : ''),
    );
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** The problem with one smoke check's response, or undefined when it passed. */
export function smokeCheckProblem(
  check: SmokeCheck,
  result: ProbeResult,
  version: string,
): string | undefined {
  const where = `GET ${check.path}`;
  if (result.status === 0) {
    return `${where}: no response (${result.error ?? 'connection failed'})`;
  }
  if (result.status !== check.expectStatus) {
    return `${where}: status ${result.status}, expected ${check.expectStatus}`;
  }
  if (check.expectVersion && !result.body.includes(version)) {
    return `${where}: version "${version}" not in the response (${truncate(result.body, 80)})`;
  }
  if (result.latencyMs > check.latencyBudgetMs) {
    return `${where}: ${Math.round(result.latencyMs)} ms, over the ${check.latencyBudgetMs} ms budget`;
  }
  return undefined;
}

/** A health check through the production listener passes on a 2xx or 3xx answer. */
export function healthProblem(path: string, result: ProbeResult): string | undefined {
  if (result.status === 0) {
    return `GET ${path}: no response (${result.error ?? 'connection failed'})`;
  }
  return result.status >= 200 && result.status < 400 ? undefined : `GET ${path}: status ${result.status}`;
}

export type WatchVerdict =
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'watching'; readonly consecutiveFailures: number }
  | { readonly kind: 'baked' };

/**
 * The alarms in ALARM that count against a release: those that entered ALARM at or after the switch. An alarm
 * already in ALARM before it (the idle color's unhealthy-hosts alarm while it deployed; alarm state lags by
 * minutes) says nothing about the new color under production traffic: it is reported, not acted on.
 */
export function alarmsSinceSwitch(
  alarms: readonly FiringAlarm[],
  switchedAt: Date,
): { readonly counted: FiringAlarm[]; readonly ignored: FiringAlarm[] } {
  const after = (a: FiringAlarm) => {
    const since = Date.parse(a.since);
    // An alarm without a readable time is counted: when in doubt, protect production.
    return Number.isNaN(since) || since >= switchedAt.getTime();
  };
  return { counted: alarms.filter(after), ignored: alarms.filter((a) => !after(a)) };
}

/** One alarm for a cause: which, since when, and with what datapoint. */
export function describeAlarm(alarm: FiringAlarm): string {
  return (
    `${alarm.name} in ALARM since ${alarm.since}` +
    (alarm.datapoint ? ` (${alarm.datapoint})` : '') +
    (alarm.reason ? `: ${alarm.reason.replace(/\.$/, '')}` : '')
  );
}

/**
 * After one check of the new live color: roll back on any alarm that entered ALARM since the switch, or after
 * `threshold` consecutive failed checks; otherwise keep watching until the bake ends. An alarm already in ALARM
 * before the switch is not held against the new color during the bake, but it must be back to OK by the bake's
 * end: one still in ALARM then never left it under production traffic (CloudWatch does not re-enter ALARM for a
 * new cause, so its since stays before the switch), and rolls back.
 */
export function watchVerdict(args: {
  readonly consecutiveFailures: number;
  readonly problem?: string;
  /** Alarms in ALARM since the switch (see alarmsSinceSwitch). */
  readonly alarms: readonly FiringAlarm[];
  /** Alarms in ALARM since before the switch (see alarmsSinceSwitch): they count when the bake ends. */
  readonly staleAlarms?: readonly FiringAlarm[];
  readonly threshold: number;
  readonly now: Date;
  readonly until: Date;
}): WatchVerdict {
  if (args.alarms.length > 0) {
    return { kind: 'rollback', reason: `alarm ${args.alarms.map(describeAlarm).join('; ')}` };
  }
  const failures = args.problem ? args.consecutiveFailures + 1 : 0;
  if (failures >= args.threshold) {
    return {
      kind: 'rollback',
      reason: `${failures} consecutive failed health checks (threshold ${args.threshold}), last: ${args.problem}`,
    };
  }
  if (failures === 0 && args.now.getTime() >= args.until.getTime()) {
    const stale = args.staleAlarms ?? [];
    if (stale.length > 0) {
      return {
        kind: 'rollback',
        reason: `alarm ${stale.map(describeAlarm).join('; ')}: in ALARM since before the switch and still at the end of the bake`,
      };
    }
    return { kind: 'baked' };
  }
  return { kind: 'watching', consecutiveFailures: failures };
}

/** `family:revision` of a task definition ARN, for messages. */
export function shortRevision(arn: string): string {
  return arn.split('/').pop() ?? arn;
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Can `color` take all production traffic back right now (a rollback by hand)? It must run a completed rollout
 * with at least as many tasks as the live color, all of them registered and healthy in its target group.
 * Returns why not, or undefined when it is warm.
 */
export function notWarmBecause(args: {
  color: Color;
  fleet: FleetStatus;
  health: TargetHealth;
  liveTasks: number;
  /** What runs the app: ECS tasks, or EC2 instances. @default 'task' */
  unit?: 'task' | 'instance';
}): string | undefined {
  const { color, fleet, health } = args;
  const unit = args.unit ?? 'task';
  const needed = Math.max(args.liveTasks, 1);
  if (fleet.desired === 0 || fleet.running === 0) {
    return `${color} has no running ${unit}s (it was scaled down after the last release)`;
  }
  if (fleet.rollout !== 'COMPLETED') {
    return `${color}'s own rollout is ${fleet.rollout} (${fleet.running}/${fleet.desired} tasks)`;
  }
  if (fleet.running < needed) {
    return `${color} runs ${fleet.running} ${unit}(s), fewer than the ${needed} serving production now`;
  }
  if (health.healthy < needed || health.notHealthy > 0) {
    const problems = health.problems.length > 0 ? ` (${health.problems.join('; ')})` : '';
    return `${color} has ${health.healthy} healthy target(s) of the ${needed} needed${problems}`;
  }
  return undefined;
}
