/**
 * A world that changes under the release workflow (the invariant test's fault model, shared by
 * test/workflow-chaos.test.ts and `npm run chaos`): besides transient AWS errors, at a random point of a release
 * (the Nth call of an AWS operation, or on entering a state)
 *
 * - listener-moved: someone else moves the production listener: to the old color, splits it, or sends it to the
 *   new color before the switch;
 * - idle-lost: the new color's tasks are lost (its targets go unhealthy), e.g. during the gate or before the switch;
 * - alarm: the new color's 5xx alarm enters ALARM (before the switch: a stale alarm, which must not roll a good
 *   release back: CloudWatch puts it back to OK once the good color serves production; an image that keeps
 *   failing keeps it in ALARM, its since unchanged; after the switch: a real one);
 * - revision-deregistered: CloudFormation deregisters the idle color's previous revision (INACTIVE);
 * - lambda-timeout: a step's Lambda times out right after a write went through (the write happened; the state
 *   fails with Sandbox.Timedout, which its Retry/Catch see);
 * - lambda-fails: a Task state's Lambda fails on every attempt (Lambda.Unknown), whatever Catch there is or not;
 * - stopped: the execution is stopped (ABORTED, StopExecution) or times out (TIMED_OUT) at that point.
 *
 * Every execution that does not succeed is then handed to the Stopped step's core (conclude.ts `stopped`), with
 * the same world, as the EventBridge rule does in AWS. Then `violations` checks the invariant, judging health from
 * the world (the image's behaviour and running tasks), never from what the workflow believed:
 *
 * 1. the lock is free; scaling acts again (or a published cause says it could not);
 * 2. the outcome is published: at least once; the workflow's own steps publish at most once, except when a Lambda
 *    timed out right after publishing (its retry publishes again: SNS is at-least-once anyway); the Stopped step
 *    adds its own report only when the execution did not end in a Fail state its ending step reached after
 *    publishing (then the operator reads the ending step's report and the Stopped step's, which says where
 *    traffic and the record stand now);
 * 3. never SUCCEEDED (the execution, or the Stopped step's SUCCEEDED for a Finish that failed after the release
 *    went live) unless all production traffic goes to the new color, which runs the new image, healthy;
 * 4. when the workflow reached an ending of its own (Released or one of its Fail states): all production traffic
 *    on one color, which runs a healthy version with tasks; the record names that color and the image it runs.
 *    Exception, where the world makes it impossible: someone else moved the listener (split it, or sent it to
 *    the idle color) before the release changed anything: the release refuses (Drift) and changes nothing, by
 *    design (it never guesses whether listener or record is right); expected instead: REFUSED published, its
 *    cause naming the drift as the world shows it. And when the "Roll back" state's own Lambda fails on every
 *    attempt (lambda-fails), nothing can move traffic back: expected instead, ROLLBACK_FAILED published, its cause
 *    telling the operator to switch back by hand;
 * 5. when it did not (stopped, timed out, or failed in a state whose ending step did not finish): the Stopped
 *    step moves neither traffic nor the record (by design: it never guesses), so what is expected instead is a
 *    loud ending whose published cause tells the truth: it names where production traffic goes now and whether
 *    the record agrees (the drift, when it does not). `unhealthyAfterStop` counts the endings that leave traffic
 *    on a color that is not healthy (an operator must roll back: the cause says where traffic is).
 */
import fc from 'fast-check';
import { BluegreenError } from '../../lambda/shared/errors';
import type { ReleaseOutcome, WorkflowDeps } from '../../lambda/shared/ports';
import { recordParameterNames, type Color } from '../../lambda/shared/release-record';
import { describeTraffic, findDrift, routedTraffic } from '../../lambda/shared/traffic';
import { stopped } from '../../lambda/workflow/conclude';
import { runWorkflow, type ExecutionResult, type ExecutionStop } from '../../rehearsal/workflow-runner';
import { FakeWorld, REPO, type Behaviour } from './fake-world';
import { SETTINGS, compiledWorkflow } from './run-workflow';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
const EXECUTION = 'release-1';
/** The release's new color (blue is live at the start). */
const NEW: Color = 'green';

export const OPERATIONS = [
  'record.read',
  'record.write',
  'router.productionWeights',
  'router.setProductionWeights',
  'router.setTestWeights',
  'router.targetHealth',
  'fleet.describe',
  'fleet.register',
  'fleet.deploy',
  'fleet.restore',
  'fleet.retire',
  'fleet.holdCapacity',
  'probe.get',
  'alarms.firing',
  'lock.acquire',
  'lock.release',
  'notifier.publish',
  'testToken',
] as const;

/** Operations that change something: a Lambda can time out right after one of them went through. */
export const WRITES = [
  'record.write',
  'router.setProductionWeights',
  'router.setTestWeights',
  'fleet.register',
  'fleet.deploy',
  'fleet.restore',
  'fleet.retire',
  'fleet.holdCapacity',
  'lock.acquire',
  'lock.release',
  'notifier.publish',
] as const;

export const BEHAVIOURS: Behaviour[] = [
  'good',
  'crash',
  'never-healthy',
  'fails-validation',
  'fails-after-switch',
  'alarms-after-switch',
];

/** Where in a release an event happens: on the Nth call of an operation, or on entering a state. */
export type Trigger =
  | { readonly on: 'call'; readonly operation: string; readonly nth: number }
  | { readonly on: 'state'; readonly state: string };

export type ChaosEvent =
  | { readonly kind: 'listener-moved'; readonly to: 'old' | 'split' | 'new'; readonly at: Trigger }
  | { readonly kind: 'idle-lost'; readonly at: Trigger }
  | { readonly kind: 'alarm'; readonly at: Trigger }
  | { readonly kind: 'revision-deregistered'; readonly at: Trigger }
  | { readonly kind: 'lambda-timeout'; readonly at: Trigger & { readonly on: 'call' } }
  | { readonly kind: 'lambda-fails'; readonly state: string }
  | { readonly kind: 'stopped'; readonly status: ExecutionStop['status']; readonly at: Trigger };

export type EventKind = ChaosEvent['kind'] | 'stale-alarm';

export interface Scenario {
  readonly behaviour: Behaviour;
  readonly keepIdleWarm: boolean;
  readonly faults: readonly { readonly operation: string; readonly nth: number }[];
  readonly events: readonly ChaosEvent[];
}

function workflowStates() {
  const compiled = compiledWorkflow();
  return {
    tasks: Object.keys(compiled.taskSteps),
    entered: [...Object.keys(compiled.taskSteps), ...compiled.waitStates],
  };
}

export function scenarios(): fc.Arbitrary<Scenario> {
  const { tasks, entered } = workflowStates();
  const trigger: fc.Arbitrary<Trigger> = fc.oneof(
    fc.record({
      on: fc.constant('call' as const),
      operation: fc.constantFrom(...OPERATIONS),
      nth: fc.integer({ min: 1, max: 6 }),
    }),
    fc.record({ on: fc.constant('state' as const), state: fc.constantFrom(...entered) }),
  );
  const event: fc.Arbitrary<ChaosEvent> = fc.oneof(
    fc.record({
      kind: fc.constant('listener-moved' as const),
      to: fc.constantFrom('old' as const, 'split' as const, 'new' as const),
      at: trigger,
    }),
    fc.record({ kind: fc.constant('idle-lost' as const), at: trigger }),
    fc.record({ kind: fc.constant('alarm' as const), at: trigger }),
    fc.record({ kind: fc.constant('revision-deregistered' as const), at: trigger }),
    fc.record({
      kind: fc.constant('lambda-timeout' as const),
      at: fc.record({
        on: fc.constant('call' as const),
        operation: fc.constantFrom(...WRITES),
        nth: fc.integer({ min: 1, max: 4 }),
      }),
    }),
    fc.record({ kind: fc.constant('lambda-fails' as const), state: fc.constantFrom(...tasks) }),
    fc.record({
      kind: fc.constant('stopped' as const),
      status: fc.constantFrom('ABORTED' as const, 'TIMED_OUT' as const),
      at: trigger,
    }),
  );
  return fc.record({
    behaviour: fc.constantFrom(...BEHAVIOURS),
    keepIdleWarm: fc.boolean(),
    faults: fc
      .uniqueArray(
        fc.record({ operation: fc.constantFrom(...OPERATIONS), nth: fc.integer({ min: 1, max: 8 }) }),
        { maxLength: 4, selector: (f) => `${f.operation}#${f.nth}` },
      )
      // Transient: at most two failures of any one operation (the retries allow three tries).
      .filter((faults) => OPERATIONS.every((op) => faults.filter((f) => f.operation === op).length <= 2)),
    events: fc.array(event, { minLength: 1, maxLength: 3 }),
  });
}

export interface ChaosRun {
  readonly result: ExecutionResult;
  /** What the Stopped step published or returned, when the execution did not succeed. */
  readonly stoppedOutcome?: { outcome: ReleaseOutcome; published: boolean };
  /** How the release ended: Released, the Fail state it ended in, or Stopped (ABORTED / TIMED_OUT). */
  readonly ending: string;
  /** The events that took place (a trigger that never came does not count), the stale alarm told apart. */
  readonly fired: EventKind[];
  readonly violations: string[];
  /** The ending left production traffic on a color that is not healthy (only after a stop: rule 5). */
  readonly unhealthyAfterStop: boolean;
  readonly world: FakeWorld;
}

const TIMED_OUT = 'Sandbox.Timedout';

/** Runs one release of `scenario` through the synthesized workflow, then the Stopped step, then the checks. */
export async function runChaos(scenario: Scenario): Promise<ChaosRun> {
  const world = new FakeWorld(V1, { transient: scenario.faults });
  world.behaviours.set(V2, scenario.behaviour);
  const fired: EventKind[] = [];
  const done = new Set<ChaosEvent>();
  let stop: ExecutionStop | undefined;
  let switched = false;
  /** When traffic first went to the new color (the world's clock). */
  let switchedAt: number | undefined;
  let checksSinceSwitch = 0;
  let publishedBeforeTimeout = false;
  /** The running Lambda's timeout: a write armed with lambda-timeout fires it, after the write went through. */
  let timeOut: ((e: Error) => void) | undefined;
  let armedTimeout: ChaosEvent | undefined;

  const happen = (event: ChaosEvent) => {
    done.add(event);
    switch (event.kind) {
      case 'listener-moved':
        world.weights =
          event.to === 'split'
            ? { blue: 50, green: 50 }
            : { blue: event.to === 'old' ? 100 : 0, green: event.to === 'new' ? 100 : 0 };
        break;
      case 'idle-lost':
        world.services[NEW].running = 0;
        break;
      case 'alarm':
        world.alarmStates.set(`shop-${NEW}-5xx`, {
          color: NEW,
          name: `shop-${NEW}-5xx`,
          since: new Date(world.clock).toISOString(),
          reason: 'Threshold Crossed: 1 datapoint [9.0] was greater than or equal to the threshold (5.0).',
          datapoint: 'datapoint 9 (Sum, 60s periods) against threshold 5',
        });
        fired.push(switched ? 'alarm' : 'stale-alarm');
        return;
      case 'revision-deregistered': {
        const revision = world.revisions.get(world.services[NEW].revision);
        if (revision && world.imageOf(NEW) === V1) {
          revision.active = false;
        }
        break;
      }
      case 'lambda-timeout':
        armedTimeout = event;
        return; // counted when the write goes through
      case 'stopped':
        stop = {
          status: event.status,
          ...(event.status === 'TIMED_OUT' ? { error: 'States.Timeout' } : {}),
        };
        break;
      default:
        break;
    }
    fired.push(event.kind);
  };
  const due = (at: Trigger, call: { operation?: string; nth?: number; state?: string }) =>
    at.on === 'call' ? at.operation === call.operation && at.nth === call.nth : at.state === call.state;
  const trigger = (call: { operation?: string; nth?: number; state?: string }) => {
    for (const event of scenario.events) {
      if (!done.has(event) && event.kind !== 'lambda-fails' && due(event.at, call)) {
        happen(event);
      }
    }
  };
  world.onCall = (operation, nth) => {
    if (operation !== 'now') {
      trigger({ operation, nth });
    }
  };

  const base = world.deps();
  const afterWrite =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const value = await call(...args);
      if (armedTimeout && armedTimeout.kind === 'lambda-timeout' && armedTimeout.at.operation === operation) {
        armedTimeout = undefined;
        fired.push('lambda-timeout');
        publishedBeforeTimeout ||= operation === 'notifier.publish';
        const e = new BluegreenError(TIMED_OUT, 'Task timed out after 60.00 seconds');
        e.name = TIMED_OUT;
        timeOut?.(e);
        return new Promise<R>(() => undefined); // the Lambda is gone: nothing after this write runs
      }
      return value;
    };
  /* eslint-disable @typescript-eslint/unbound-method -- the in-memory ports are closures over the world (no this) */
  const deps: WorkflowDeps = {
    ...base,
    record: { ...base.record, write: afterWrite('record.write', base.record.write) },
    router: {
      ...base.router,
      setProductionWeights: afterWrite('router.setProductionWeights', async (w) => {
        await base.router.setProductionWeights(w);
        if (w[NEW] > 0 && !switched) {
          switched = true;
          switchedAt = world.clock;
        }
      }),
      setTestWeights: afterWrite('router.setTestWeights', base.router.setTestWeights),
    },
    fleet: {
      ...base.fleet,
      register: afterWrite('fleet.register', base.fleet.register),
      deploy: afterWrite('fleet.deploy', base.fleet.deploy),
      restore: afterWrite('fleet.restore', base.fleet.restore),
      retire: afterWrite('fleet.retire', base.fleet.retire),
      holdCapacity: afterWrite('fleet.holdCapacity', base.fleet.holdCapacity),
    },
    lock: {
      ...base.lock,
      acquire: afterWrite('lock.acquire', base.lock.acquire),
      release: afterWrite('lock.release', base.lock.release),
    },
    notifier: { publish: afterWrite('notifier.publish', base.notifier.publish) },
    alarms: {
      firing: (color) => {
        // CloudWatch re-evaluates every period: a stale alarm of a color that behaves goes back to OK once that
        // color has served production for a check; an image that keeps failing keeps it in ALARM (since unchanged).
        const alarm = world.alarmStates.get(`shop-${NEW}-5xx`);
        if (
          color === NEW &&
          switchedAt !== undefined &&
          (checksSinceSwitch += 1) > 1 &&
          world.behaviourOf(NEW) === 'good' &&
          alarm &&
          Date.parse(alarm.since) < switchedAt
        ) {
          world.alarmStates.delete(alarm.name);
        }
        return base.alarms.firing(color);
      },
    },
  };

  /* eslint-enable @typescript-eslint/unbound-method */

  const failing = scenario.events.filter((e) => e.kind === 'lambda-fails');
  const result = await runWorkflow(
    compiledWorkflow({ keepIdleWarm: scenario.keepIdleWarm }),
    deps,
    { ...SETTINGS, keepIdleWarm: scenario.keepIdleWarm },
    { image: V2, bakeSeconds: 20, deployTimeoutSeconds: 60 },
    {
      execution: EXECUTION,
      instant: true,
      onEvent: (e) => {
        if (e.type === 'entered') {
          trigger({ state: e.state });
          if (failing.some((f) => f.state === e.state)) {
            fired.push('lambda-fails');
          }
        }
      },
      lambdaFailures: Object.fromEntries(
        failing.map((f) => [f.state, { name: 'Lambda.Unknown', message: 'The Lambda function failed.' }]),
      ),
      wrapTask: (_state, invoke) =>
        new Promise((resolve, reject) => {
          timeOut = reject;
          invoke().then(resolve, reject);
        }),
      stopWhen: () => stop,
    },
  );
  const byWorkflow = world.published.filter((p) => p.release === EXECUTION).length;

  let stoppedOutcome: ChaosRun['stoppedOutcome'];
  if (result.status !== 'SUCCEEDED') {
    world.onCall = undefined; // the world stops changing: the Stopped step runs after the execution ended
    stoppedOutcome = await stopped(
      {
        execution: EXECUTION,
        status: result.status,
        error: result.error,
        cause: result.cause,
        endedIn: result.states[result.states.length - 1],
      },
      base,
      SETTINGS,
    );
  }
  const ending =
    result.status === 'SUCCEEDED'
      ? 'Released'
      : result.status === 'FAILED'
        ? (result.states[result.states.length - 1] ?? 'FAILED')
        : `Stopped (${result.status})`;
  const reachedOwnEnding = result.status === 'SUCCEEDED' || stoppedOutcome?.published === false;
  const violations = check(world, {
    result,
    stoppedOutcome,
    byWorkflow,
    publishedBeforeTimeout,
    reachedOwnEnding,
    rollbackBroken: failing.some((f) => f.state === 'Roll back') && fired.includes('lambda-fails'),
  });
  const live = world.liveTarget();
  return {
    result,
    stoppedOutcome,
    ending,
    fired,
    violations,
    unhealthyAfterStop: !reachedOwnEnding && !(live && healthy(world, live)),
    world,
  };
}

/** Judged from the world: the color runs an image that behaves, with tasks running. */
export function healthy(world: FakeWorld, color: Color): boolean {
  return world.behaviourOf(color) === 'good' && world.services[color].running > 0;
}

function check(
  world: FakeWorld,
  run: {
    result: ExecutionResult;
    stoppedOutcome?: { outcome: ReleaseOutcome; published: boolean };
    byWorkflow: number;
    publishedBeforeTimeout: boolean;
    reachedOwnEnding: boolean;
    /** The "Roll back" state's Lambda fails on every attempt (a lambda-fails event). */
    rollbackBroken: boolean;
  },
): string[] {
  const v: string[] = [];
  const published = world.published.filter((p) => p.release === EXECUTION);
  const live = world.liveTarget();
  if (world.lock) {
    v.push(`the lock is still held by ${world.lock.owner}`);
  }
  const couldNotScale = /could not let scaling act again|scaling could not be let act again|scaling was left/;
  if (world.capacityHeld && !published.some((p) => couldNotScale.test(p.cause ?? ''))) {
    v.push('scaling is still held, and no published cause says so');
  }
  if (published.length === 0) {
    v.push('no outcome was published');
  }
  if (run.byWorkflow > 1 && !run.publishedBeforeTimeout) {
    v.push(`the workflow published ${run.byWorkflow} times: ${published.map((p) => p.status).join(', ')}`);
  }
  const released =
    run.result.status === 'SUCCEEDED' ||
    (run.stoppedOutcome?.published === true && run.stoppedOutcome.outcome.status === 'SUCCEEDED');
  if (released && !(live === NEW && world.imageOf(NEW) === V2 && healthy(world, NEW))) {
    v.push(
      `declared SUCCEEDED but production traffic ${JSON.stringify(world.weights)} is not all on ${NEW} ` +
        `running ${V2} healthy (${NEW} runs ${world.imageOf(NEW)}, ${world.behaviourOf(NEW)}, ` +
        `${world.services[NEW].running} tasks)`,
    );
  }
  const drift = findDrift(
    world.record.liveColor,
    world.weights,
    recordParameterNames(SETTINGS.appName).liveColor,
  );
  const refusedForDrift = published.find((p) => p.status === 'REFUSED' && p.error === 'Drift');
  if (refusedForDrift) {
    // Someone else moved the listener before the release changed anything: it refuses (Drift) and changes
    // nothing, never guessing which of listener and record is right; its cause must say what it found.
    if (drift && !(refusedForDrift.cause ?? '').includes(drift.message)) {
      v.push(`refused for drift, but its cause does not say "${drift.message}": ${refusedForDrift.cause}`);
    }
  } else if (run.rollbackBroken && published.some((p) => p.status === 'ROLLBACK_FAILED')) {
    // The rollback's own Lambda fails on every attempt: nothing can move traffic back. Expected instead: the
    // loud ROLLBACK_FAILED, whose cause tells the operator to check the listener and switch back by hand.
    if (
      !published.some((p) => p.status === 'ROLLBACK_FAILED' && /switch to \w+ by hand/.test(p.cause ?? ''))
    ) {
      v.push('the rollback failed, and no published cause says to switch back by hand');
    }
  } else if (run.reachedOwnEnding) {
    if (!live) {
      v.push(`traffic is split or nowhere: ${JSON.stringify(world.weights)}`);
    } else {
      if (!healthy(world, live)) {
        v.push(
          `traffic is on ${live}, which is not healthy (${world.imageOf(live)}, ${world.behaviourOf(live)}, ` +
            `${world.services[live].running} tasks)`,
        );
      }
      if (world.record.liveColor !== live || world.record.images[live] !== world.imageOf(live)) {
        v.push(`the record ${JSON.stringify(world.record)} disagrees with the listener (${live})`);
      }
    }
  } else {
    const cause = run.stoppedOutcome?.outcome.cause ?? '';
    const truth = drift
      ? drift.message
      : `${describeTraffic(routedTraffic(world.weights))}, and the record agrees.`;
    if (!cause.includes(truth)) {
      v.push(
        `the Stopped step's cause does not say where traffic and the record stand ("${truth}"): ${cause}`,
      );
    }
  }
  return v;
}

/** One line per event kind and per ending: how often, and what the releases ended as. */
export class Tally {
  runs = 0;
  readonly endings = new Map<string, number>();
  readonly byEvent = new Map<EventKind, Map<string, number>>();
  unhealthyAfterStop = 0;

  add(run: ChaosRun): void {
    this.runs += 1;
    bump(this.endings, run.ending);
    for (const kind of new Set(run.fired)) {
      const m = this.byEvent.get(kind) ?? new Map<string, number>();
      this.byEvent.set(kind, m);
      bump(m, run.ending);
    }
    this.unhealthyAfterStop += run.unhealthyAfterStop ? 1 : 0;
  }

  report(): string {
    const list = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    const lines = [`${this.runs} releases; endings: ${list(this.endings)}`];
    for (const [kind, m] of [...this.byEvent].sort()) {
      lines.push(`  ${kind} (${[...m.values()].reduce((a, b) => a + b, 0)} releases): ${list(m)}`);
    }
    lines.push(
      `  stopped, timed out or failed without its own ending, traffic left on a color not healthy (reported): ` +
        `${this.unhealthyAfterStop}`,
    );
    return lines.join('\n');
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
