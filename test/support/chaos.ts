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
 * - stopped: the execution is stopped (ABORTED, StopExecution) or times out (TIMED_OUT) at that point;
 * - notifier-down: from that point until the execution ended, every publication of an outcome fails (the ending
 *   steps hand theirs to the Stopped step as `unsent`).
 *
 * A share of the releases runs with the lifecycle hooks (chaos-hooks.ts), each hook's function answering as the
 * scenario says; their triggers and Lambda failures then aim at the hooks' states more often.
 *
 * Every execution that does not succeed is then handed to the Stopped step's core (stopped.ts), with the same
 * world, as the EventBridge rule does in AWS. Then the invariant is checked (chaos-invariant.ts), judging health
 * from the world, never from what the workflow believed.
 */
import fc from 'fast-check';
import { BluegreenError } from '../../lambda/shared/errors';
import type { ReleaseOutcome, WorkflowDeps } from '../../lambda/shared/ports';
import type { Color } from '../../lambda/shared/release-record';
import type { TrafficWeights } from '../../lambda/shared/traffic';
import { STATES } from '../../lambda/shared/state-names';
import { stopped } from '../../lambda/workflow/stopped';
import { runWorkflow, type ExecutionResult, type ExecutionStop } from '../../rehearsal/workflow-runner';
import { HOOK_TARGETS, hookProblems, hookScripts, scriptHooks, type HookScripts } from './chaos-hooks';
import { healthy, ownEnding, scalingProblems, violations } from './chaos-invariant';
import { FakeWorld, REPO, type Behaviour } from './fake-world';
import { HOOK_SETTINGS, SETTINGS, compiledWorkflow, endingOf } from './run-workflow';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
const EXECUTION = 'release-1';
/** The bounds of the scenarios with auto scaling. */
const SCALING = { minCount: 2, maxCount: 10 };
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
  'fleet.capacity',
  'fleet.setCapacity',
  'record.writeCapacity',
  'probe.get',
  'alarms.firing',
  'alarms.named',
  'metrics.window',
  'lock.promotion',
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
  'fleet.setCapacity',
  'record.writeCapacity',
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
  | { readonly kind: 'stopped'; readonly status: ExecutionStop['status']; readonly at: Trigger }
  | { readonly kind: 'notifier-down'; readonly at: Trigger };

export type EventKind = ChaosEvent['kind'] | 'stale-alarm';

/** The hook functions' calls (only with the lifecycle hooks): an event may come on the Nth. */
const HOOK_INVOKE = 'lifecycleHooks.invoke';

export interface Scenario {
  readonly behaviour: Behaviour;
  readonly keepIdleWarm: boolean;
  /** Auto scaling on both colors (blue scaled out to 3 before the release). */
  readonly scaling?: boolean;
  /** The lifecycle hooks (release.hooks: all three), and how each hook's function answers. */
  readonly hooks?: HookScripts;
  readonly faults: readonly { readonly operation: string; readonly nth: number }[];
  readonly events: readonly ChaosEvent[];
}

function workflowStates(hooks: boolean) {
  const compiled = compiledWorkflow({ hooks });
  return {
    tasks: Object.keys(compiled.taskSteps),
    entered: [...Object.keys(compiled.taskSteps), ...compiled.waitStates],
  };
}

/** A state of `states`; with the hooks, one of the hooks' states half of the time. */
function stateOf(states: string[], hooks: boolean): fc.Arbitrary<string> {
  const any = fc.constantFrom(...states);
  return hooks ? fc.oneof(any, fc.constantFrom(...states.filter((s) => HOOK_TARGETS.includes(s)))) : any;
}

/** Releases without the lifecycle hooks (3 in 5) and with them (2 in 5). */
export function scenarios(): fc.Arbitrary<Scenario> {
  return fc
    .oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: hookScripts() })
    .chain((hooks) => scenariosWith(hooks));
}

function scenariosWith(hooks: HookScripts | undefined): fc.Arbitrary<Scenario> {
  const { tasks, entered } = workflowStates(!!hooks);
  const operations: string[] = hooks ? [...OPERATIONS, HOOK_INVOKE] : [...OPERATIONS];
  const trigger: fc.Arbitrary<Trigger> = fc.oneof(
    fc.record({
      on: fc.constant('call' as const),
      operation: fc.constantFrom(...operations),
      nth: fc.integer({ min: 1, max: 6 }),
    }),
    fc.record({ on: fc.constant('state' as const), state: stateOf(entered, !!hooks) }),
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
    fc.record({ kind: fc.constant('lambda-fails' as const), state: stateOf(tasks, !!hooks) }),
    fc.record({
      kind: fc.constant('stopped' as const),
      status: fc.constantFrom('ABORTED' as const, 'TIMED_OUT' as const),
      at: trigger,
    }),
    fc.record({ kind: fc.constant('notifier-down' as const), at: trigger }),
  );
  return fc.record({
    ...(hooks ? { hooks: fc.constant(hooks) } : {}),
    behaviour: fc.constantFrom(...BEHAVIOURS),
    keepIdleWarm: fc.boolean(),
    scaling: fc.boolean(),
    faults: fc
      .uniqueArray(
        fc.record({ operation: fc.constantFrom(...operations), nth: fc.integer({ min: 1, max: 8 }) }),
        { maxLength: 4, selector: (f) => `${f.operation}#${f.nth}` },
      )
      // Transient: at most two failures of any one operation (the retries allow three tries).
      .filter((faults) => operations.every((op) => faults.filter((f) => f.operation === op).length <= 2)),
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
  /** It ran with the lifecycle hooks. */
  readonly hooks: boolean;
  readonly world: FakeWorld;
}

const TIMED_OUT = 'Sandbox.Timedout';

/** Runs one release of `scenario` through the synthesized workflow, then the Stopped step, then the checks. */
export async function runChaos(scenario: Scenario): Promise<ChaosRun> {
  const world = new FakeWorld(V1, { transient: scenario.faults });
  world.behaviours.set(V2, scenario.behaviour);
  if (scenario.scaling) {
    world.enableScaling(SCALING).autoscale('blue', 3);
  }
  if (scenario.hooks) {
    scriptHooks(world, scenario.hooks);
  }
  const settings = {
    ...SETTINGS,
    keepIdleWarm: scenario.keepIdleWarm,
    ...(scenario.scaling ? { scaling: SCALING } : {}),
    ...(scenario.hooks ? { hooks: HOOK_SETTINGS } : {}),
  };
  const fired: EventKind[] = [];
  const done = new Set<ChaosEvent>();
  let stop: ExecutionStop | undefined;
  let switched = false;
  /** When traffic first went to the new color (the world's clock). */
  let switchedAt: number | undefined;
  let checksSinceSwitch = 0;
  let publishedBeforeTimeout = false;
  /** A notifier-down event came: publications fail until the execution ended. */
  let notifierDown = false;
  /** The running Lambda's timeout: a write armed with lambda-timeout fires it, after the write went through. */
  let timeOut: ((e: Error) => void) | undefined;
  let armedTimeout: ChaosEvent | undefined;
  /** Each listener move: where it falls among the world's calls, and the weights it replaced. */
  const moves: { at: number; before: TrafficWeights }[] = [];
  /** Each loss of the new color's tasks, likewise. */
  const losses: { at: number; before: number }[] = [];
  /** The position in the world's calls of what triggers the event being applied (see `trigger`). */
  let position = 0;

  const happen = (event: ChaosEvent) => {
    done.add(event);
    switch (event.kind) {
      case 'listener-moved':
        moves.push({ at: position, before: world.weights });
        world.weights =
          event.to === 'split'
            ? { blue: 50, green: 50 }
            : { blue: event.to === 'old' ? 100 : 0, green: event.to === 'new' ? 100 : 0 };
        break;
      case 'idle-lost':
        losses.push({ at: position, before: world.services[NEW].running });
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
      case 'notifier-down':
        notifierDown = true;
        break;
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
    // A call's event lands before the call takes effect (the call sees it); a state's, before its next call.
    position = call.operation ? world.calls.length - 1 : world.calls.length;
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
    record: {
      ...base.record,
      write: afterWrite('record.write', base.record.write),
      writeCapacity: afterWrite('record.writeCapacity', base.record.writeCapacity),
    },
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
      setCapacity: afterWrite('fleet.setCapacity', base.fleet.setCapacity),
    },
    lock: {
      ...base.lock,
      acquire: afterWrite('lock.acquire', base.lock.acquire),
      release: afterWrite('lock.release', base.lock.release),
    },
    notifier: {
      publish: afterWrite('notifier.publish', (outcome) =>
        notifierDown
          ? Promise.reject(new BluegreenError('ServiceUnavailable', 'SNS is down (a notifier-down event)'))
          : base.notifier.publish(outcome),
      ),
    },
    alarms: {
      named: base.alarms.named,
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
    compiledWorkflow({ keepIdleWarm: scenario.keepIdleWarm, hooks: !!scenario.hooks }),
    deps,
    settings,
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
      // A state's events happen as its Lambda starts (the event log hands "entered" over later).
      wrapTask: (state, invoke) =>
        new Promise((resolve, reject) => {
          trigger({ state });
          timeOut = reject;
          invoke().then(resolve, reject);
        }),
      stopWhen: () => stop,
    },
  );
  const byWorkflow = world.published.filter((p) => p.release === EXECUTION).length;
  // The workflow's last look at the production listener (a read or a write): a move after it, no workflow sees.
  const lastLook = world.calls.reduce(
    (last, call, i) => (/^router\.(set)?[pP]roductionWeights$/.test(call) ? i : last),
    -1,
  );
  const unseen = moves.find((m) => m.at > lastLook);
  // Likewise its last look at the new color's health (its targets, or its service).
  const lastHealthLook = world.calls.reduce(
    (last, call, i) => (call === 'router.targetHealth' || call === 'fleet.describe' ? i : last),
    -1,
  );
  const unseenLoss = losses.find((l) => l.at > lastHealthLook);

  let stoppedOutcome: ChaosRun['stoppedOutcome'];
  if (result.status !== 'SUCCEEDED') {
    world.onCall = undefined; // the world stops changing: the Stopped step runs after the execution ended
    notifierDown = false;
    // EventBridge invokes the Stopped step again when it fails (retryAttempts 4 on the rule's target).
    for (let invocation = 1; !stoppedOutcome; invocation++) {
      try {
        stoppedOutcome = await stopped(endingOf(result, EXECUTION), base, settings);
      } catch (e) {
        if (invocation === 5) {
          throw e;
        }
      }
    }
  }
  const ending =
    result.status === 'SUCCEEDED'
      ? 'Released'
      : result.status === 'FAILED'
        ? (result.states[result.states.length - 1] ?? 'FAILED')
        : `Stopped (${result.status})`;
  // Its own ending step ran to the end (it may have left its outcome unsent, which the Stopped step published).
  const reachedOwnEnding = ownEnding(result);
  const found = violations(world, {
    execution: EXECUTION,
    newColor: NEW,
    newImage: V2,
    weightsAtLastLook: unseen?.before,
    newRunningAtLastLook: unseenLoss?.before,
    listenerMoved: moves.length > 0,
    wentLive: ([STATES.finishFailed, STATES.contractReportFailed] as string[]).includes(
      result.states[result.states.length - 1] ?? '',
    ),
    result,
    stoppedOutcome,
    byWorkflow,
    publishedBeforeTimeout,
    reachedOwnEnding,
    rollbackBroken: failing.some((f) => f.state === 'Roll back') && fired.includes('lambda-fails'),
  });
  const published = world.published.filter((p) => p.release === EXECUTION);
  found.push(
    ...scalingProblems(world, SCALING, published),
    ...hookProblems(world, result, published, !!scenario.hooks),
  );
  const live = world.liveTarget();
  return {
    result,
    stoppedOutcome,
    ending,
    fired,
    violations: found,
    unhealthyAfterStop: !reachedOwnEnding && !(live && healthy(world, live)),
    hooks: !!scenario.hooks,
    world,
  };
}
