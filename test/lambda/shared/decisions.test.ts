import {
  alarmsSinceSwitch,
  CRASH_LOOP_TASKS,
  deployVerdict,
  healthProblem,
  idleNotReadyBecause,
  smokeCheckProblem,
  watchVerdict,
} from '../../../lambda/shared/decisions';
import type { FiringAlarm, FleetStatus, TargetHealth } from '../../../lambda/shared/ports';

const REV = 'arn:aws:ecs:eu-west-1:1:task-definition/shop-green:7';
const now = new Date('2026-11-26T10:00:00Z');
const later = new Date('2026-11-26T10:10:00Z');
const status = (over: Partial<FleetStatus> = {}): FleetStatus => ({
  revision: REV,
  desired: 2,
  running: 2,
  rollout: 'COMPLETED',
  failedTasks: 0,
  ...over,
});
const health = (healthy: number, notHealthy = 0, problems: string[] = []): TargetHealth => ({
  healthy,
  notHealthy,
  problems,
});

describe('deployVerdict: is the idle color ready?', () => {
  const verdict = (s: FleetStatus, h: TargetHealth, at = now) =>
    deployVerdict({ status: s, health: h, revision: REV, count: 2, now: at, deadline: later });

  test('ready: new revision, rollout completed, all tasks running, all targets healthy', () => {
    expect(verdict(status(), health(2))).toEqual({ kind: 'ready' });
  });

  test.each([
    ['still rolling out', status({ rollout: 'IN_PROGRESS', running: 1 }), health(1, 1)],
    ['targets still registering', status(), health(1, 1, ['10.0.1.5:8080 initial'])],
    ['still on the old revision', status({ revision: 'arn:.../shop-green:6' }), health(2)],
  ])('waiting while %s', (_what, s, h) => {
    expect(verdict(s, h).kind).toBe('waiting');
  });

  test('the same situation after the deadline is a timeout that says how far it got', () => {
    const v = verdict(
      status({ running: 1 }),
      health(1, 1, ['10.0.1.5:8080 unhealthy (Target.Timeout)']),
      later,
    );
    expect(v).toEqual({
      kind: 'timeout',
      reason:
        'not ready by the deadline 2026-11-26T10:10:00.000Z: running 1/2 tasks of shop-green:7, healthy targets 1/2 (10.0.1.5:8080 unhealthy (Target.Timeout))',
    });
  });

  test(`a crash loop (${CRASH_LOOP_TASKS}+ failed tasks) fails at once, before the deadline`, () => {
    expect(
      verdict(
        status({ rollout: 'IN_PROGRESS', failedTasks: CRASH_LOOP_TASKS, reason: 'OOMKilled' }),
        health(0, 2),
      ),
    ).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('crash loop: 3 tasks stopped during the rollout (OOMKilled)'),
    });
    expect(
      verdict(status({ rollout: 'IN_PROGRESS', failedTasks: CRASH_LOOP_TASKS - 1 }), health(0, 2)).kind,
    ).toBe('waiting');
  });

  test('a rollout ECS marked FAILED fails', () => {
    expect(verdict(status({ rollout: 'FAILED', reason: 'circuit breaker' }), health(0)).kind).toBe('failed');
  });
});

describe('smokeCheckProblem', () => {
  const check = { path: '/version', expectStatus: 200, expectVersion: true, latencyBudgetMs: 300 };
  test.each([
    [{ status: 200, body: '{"version":"v2"}', latencyMs: 20 }, undefined],
    [
      { status: 0, body: '', latencyMs: 5000, error: 'ECONNREFUSED' },
      'GET /version: no response (ECONNREFUSED)',
    ],
    [{ status: 502, body: '', latencyMs: 20 }, 'GET /version: status 502, expected 200'],
    [
      { status: 200, body: '{"version":"v1"}', latencyMs: 20 },
      'GET /version: version "v2" not in the response ({"version":"v1"})',
    ],
    [{ status: 200, body: 'v2', latencyMs: 450.4 }, 'GET /version: 450 ms, over the 300 ms budget'],
  ])('%j → %s', (result, expected) => {
    expect(smokeCheckProblem(check, result, 'v2')).toBe(expected);
  });
});

describe('healthProblem (through the production listener)', () => {
  test('2xx and 3xx pass; 5xx and no answer fail', () => {
    expect(healthProblem('/health', { status: 204, body: '', latencyMs: 1 })).toBeUndefined();
    expect(healthProblem('/health', { status: 302, body: '', latencyMs: 1 })).toBeUndefined();
    expect(healthProblem('/health', { status: 503, body: '', latencyMs: 1 })).toBe('GET /health: status 503');
    expect(healthProblem('/health', { status: 0, body: '', latencyMs: 1, error: 'ETIMEDOUT' })).toBe(
      'GET /health: no response (ETIMEDOUT)',
    );
  });
});

describe('watchVerdict: must we roll back?', () => {
  const base = { consecutiveFailures: 0, alarms: [] as FiringAlarm[], threshold: 3, now, until: later };

  test('a passing check during the bake: keep watching', () => {
    expect(watchVerdict(base)).toEqual({ kind: 'watching', consecutiveFailures: 0 });
  });

  test('failures count up and reset on a pass', () => {
    expect(watchVerdict({ ...base, consecutiveFailures: 1, problem: 'GET /health: status 503' })).toEqual({
      kind: 'watching',
      consecutiveFailures: 2,
    });
    expect(watchVerdict({ ...base, consecutiveFailures: 2 })).toEqual({
      kind: 'watching',
      consecutiveFailures: 0,
    });
  });

  test('the Nth consecutive failure rolls back, naming the last problem', () => {
    expect(watchVerdict({ ...base, consecutiveFailures: 2, problem: 'GET /health: status 503' })).toEqual({
      kind: 'rollback',
      reason: '3 consecutive failed health checks (threshold 3), last: GET /health: status 503',
    });
  });

  test('any alarm counted (in ALARM since the switch) rolls back at once; the reason says which, since when, what datapoint', () => {
    const alarms: FiringAlarm[] = [
      {
        name: 'shop-green-5xx',
        since: '2026-11-26T10:03:00.000Z',
        reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than or equal to the threshold (5.0).',
        datapoint: 'datapoint 12 (Sum, 60s periods) against threshold 5',
      },
      { name: 'shop-green-p99-latency', since: '2026-11-26T10:04:00.000Z', reason: '' },
    ];
    expect(watchVerdict({ ...base, alarms })).toEqual({
      kind: 'rollback',
      reason:
        'alarm shop-green-5xx in ALARM since 2026-11-26T10:03:00.000Z (datapoint 12 (Sum, 60s periods) against ' +
        'threshold 5): Threshold Crossed: 1 datapoint [12.0] was greater than or equal to the threshold (5.0); ' +
        'shop-green-p99-latency in ALARM since 2026-11-26T10:04:00.000Z',
    });
  });

  test('baked only on a clean check after the bake time; a failing one keeps watching', () => {
    expect(watchVerdict({ ...base, now: later })).toEqual({ kind: 'baked' });
    expect(watchVerdict({ ...base, now: later, problem: 'GET /health: status 500' }).kind).toBe('watching');
  });
});

describe('alarmsSinceSwitch: only alarm state reached after the switch counts', () => {
  const switchedAt = new Date('2026-11-26T10:02:00.000Z');
  const alarm = (name: string, since: string): FiringAlarm => ({ name, since, reason: 'r' });

  test('in ALARM since before the switch: ignored; at or after it: counted; an unreadable time: counted', () => {
    const before = alarm('shop-green-unhealthy-hosts', '2026-11-26T09:58:00.000Z');
    const at = alarm('shop-green-5xx', '2026-11-26T10:02:00.000Z');
    const after = alarm('shop-green-p99-latency', '2026-11-26T10:05:00.000Z');
    const unknown = alarm('shop-green-other', 'an unknown time');
    expect(alarmsSinceSwitch([before, at, after, unknown], switchedAt)).toEqual({
      counted: [at, after, unknown],
      ignored: [before],
    });
  });
});

describe('idleNotReadyBecause: is the idle color still what validation saw?', () => {
  const healthy: TargetHealth = { healthy: 2, notHealthy: 0, problems: [] };

  test('same revision, rollout COMPLETED, all tasks running, all targets healthy: ready', () => {
    expect(
      idleNotReadyBecause({ status: status(), health: healthy, revision: REV, count: 2 }),
    ).toBeUndefined();
  });

  test('scaled out beyond the count (auto scaling): ready with the count healthy while its extra tasks start', () => {
    const starting: TargetHealth = {
      healthy: 2,
      notHealthy: 2,
      starting: 2,
      problems: ['10.0.1.9: initial'],
    };
    expect(
      idleNotReadyBecause({
        status: status({ desired: 4, running: 3 }),
        health: starting,
        revision: REV,
        count: 2,
      }),
    ).toBeUndefined();
    // Not below the count, though: fewer healthy than needed is not ready, whatever it desires.
    expect(
      idleNotReadyBecause({
        status: status({ desired: 4, running: 3 }),
        health: { healthy: 1, notHealthy: 3, problems: [] },
        revision: REV,
        count: 2,
      }),
    ).toBe('1/2 targets healthy, 3 not healthy');
    // Extra targets that fail (not starting) are not tolerated: a crash-looping scale-out is not ready.
    expect(
      idleNotReadyBecause({
        status: status({ desired: 4, running: 4 }),
        health: { healthy: 2, notHealthy: 2, starting: 0, problems: ['10.0.1.9: unhealthy'] },
        revision: REV,
        count: 2,
      }),
    ).toBe('2/2 targets healthy, 2 not healthy (10.0.1.9: unhealthy)');
    // At the count, every target must be healthy (as without scaling).
    expect(
      idleNotReadyBecause({
        status: status({ desired: 2, running: 2 }),
        health: starting,
        revision: REV,
        count: 2,
      }),
    ).toBe('2/2 targets healthy, 2 not healthy (10.0.1.9: initial)');
  });

  test('tasks lost and a target unhealthy: both named, with values', () => {
    expect(
      idleNotReadyBecause({
        status: status({ running: 1 }),
        health: { healthy: 1, notHealthy: 1, problems: ['10.0.1.7: Target.FailedHealthChecks'] },
        revision: REV,
        count: 2,
      }),
    ).toBe(
      '1 of 2 tasks running (desired 2); 1/2 targets healthy, 1 not healthy (10.0.1.7: Target.FailedHealthChecks)',
    );
  });

  test('another revision (ECS rolled it back) or a rollout under way: not ready', () => {
    expect(
      idleNotReadyBecause({
        status: status({
          revision: 'arn:aws:ecs:eu-west-1:1:task-definition/shop-green:6',
          rollout: 'IN_PROGRESS',
        }),
        health: healthy,
        revision: REV,
        count: 2,
      }),
    ).toBe("it runs shop-green:6, not the release's shop-green:7; its rollout is IN_PROGRESS");
  });
});
