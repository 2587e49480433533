/**
 * No step's AWS calls can outlast its Lambda: releases run through the synthesized state machine (real handlers,
 * FakeWorld) down many paths, on both platforms, and every port call each Lambda invocation makes is recorded.
 * An invocation's worst case is the sum, over its port calls in order, of what each can take at worst: the SDK
 * calls its AWS adapter makes one after another (sdk-budget.ts, SDK_CALLS_PER_PORT_CALL) × one SDK call's worst
 * case (SDK_CALL_WORST_MS); a smoke check's probe, its own timeout; the validation hook, what the Lambda has left
 * (lambda-hook.ts). Each step's longest invocation must fit the synthesized function's Timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  HOOK_MINIMUM_SECONDS,
  HOOK_RESERVE_MS,
  SDK_CALL_WORST_MS,
  SDK_CALLS_PER_PORT_CALL,
  SDK_CALLS_PER_SHARED_PORT_CALL,
  STEP_TIMEOUT_SECONDS,
} from '../lambda/adapters/sdk-budget';
import type { WorkflowDeps } from '../lambda/shared/ports';
import type { WorkflowSettings } from '../lambda/shared/release';
import { requestApproval } from '../lambda/workflow/approval';
import { stopped } from '../lambda/workflow/conclude';
import { followLive } from '../lambda/workflow/follow-live';
import { runWorkflow } from '../rehearsal/workflow-runner';
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import {
  ANALYSIS,
  compiledWorkflow,
  HOOK_SETTINGS,
  HOOKS_CONFIG,
  SETTINGS,
  type Platform,
} from './support/run-workflow';
import { resourcesOfType, synth } from './support/synth';
const SCALING = { minCount: 2, maxCount: 10 };

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

/**
 * One port call: its name (as FakeWorld names it) and its arguments; `after`: how many port calls had ended when it
 * started, and `done`: its place among the ends (calls a step makes together, with Promise.all, overlap).
 */
interface PortCall {
  readonly op: string;
  readonly args: readonly unknown[];
  after?: number;
  done?: number;
}

/** Port calls ended so far (all invocations: only the order within one matters). */
let ended = 0;

/**
 * The longest a step's port calls can take, each at its worst: a call starts once every call that ended before it
 * started has ended (its virtual start), so calls made together count once, their longest.
 */
function criticalMs(platform: Platform, calls: readonly PortCall[]): number {
  const ends = new Map<PortCall, number>();
  for (const call of calls) {
    const start = Math.max(
      0,
      ...calls.filter((c) => c.done !== undefined && c.done < (call.after ?? 0)).map((c) => ends.get(c) ?? 0),
    );
    ends.set(call, start + worstMs(platform, call));
  }
  return Math.max(0, ...ends.values());
}

/** The worst case of one port call, in ms. */
function worstMs(platform: Platform, { op, args }: PortCall): number {
  if (op === 'probe.get') {
    return (args[2] as number | undefined) ?? 5000; // HttpProbe's own timeout (its default when none is given)
  }
  if (op === 'hook.run' || op === 'lifecycleHooks.invoke') {
    return 0; // counted apart: the hook gets what the Lambda has left, minus HOOK_RESERVE_MS
  }
  const sends = SDK_CALLS_PER_PORT_CALL[platform][op] ?? SDK_CALLS_PER_SHARED_PORT_CALL[op];
  if (sends === undefined) {
    throw new Error(`no SDK call count for the port call ${op}: add it to sdk-budget.ts`);
  }
  return sends * SDK_CALL_WORST_MS;
}

/** `deps` with every port call recorded (its name and arguments) before it runs. */
function recorded(deps: WorkflowDeps, record: (call: PortCall) => void): WorkflowDeps {
  const wrap = <T extends object>(port: T | undefined, name: string): T | undefined =>
    port &&
    new Proxy(port, {
      get: (target, method: string) => {
        const fn = (target as Record<string, unknown>)[method];
        return typeof fn === 'function'
          ? (...args: unknown[]) => {
              const call: PortCall = { op: `${name}.${method}`, args, after: ended };
              record(call);
              const end = () => void (call.done = ended++);
              const out = (fn as (...a: unknown[]) => unknown).apply(target, args);
              void Promise.resolve(out).then(end, end);
              return out;
            }
          : fn;
      },
    });
  return {
    ...deps,
    record: wrap(deps.record, 'record')!,
    router: wrap(deps.router, 'router')!,
    fleet: wrap(deps.fleet, 'fleet')!,
    probe: wrap(deps.probe, 'probe')!,
    alarms: wrap(deps.alarms, 'alarms')!,
    lock: wrap(deps.lock, 'lock')!,
    notifier: wrap(deps.notifier, 'notifier')!,
    testToken: (options) => {
      record({ op: 'testToken', args: [options] });
      return deps.testToken(options);
    },
    hook: wrap(deps.hook, 'hook'),
    lifecycleHooks: wrap(deps.lifecycleHooks, 'lifecycleHooks'),
    migrations: deps.migrations && {
      record: wrap(deps.migrations.record, 'migrations.record')!,
      tasks: wrap(deps.migrations.tasks, 'migrations.tasks')!,
    },
  };
}

/** One Lambda invocation's port calls. */
interface Invocation {
  readonly platform: Platform;
  readonly step: string;
  readonly calls: PortCall[];
}

const invocations: Invocation[] = [];

/** Runs a release through the synthesized workflow and keeps every Task invocation's port calls. */
async function release(
  platform: Platform,
  world: FakeWorld,
  input: unknown,
  options: {
    migrations?: boolean;
    keepIdleWarm?: boolean;
    execution?: string;
    settings?: Partial<WorkflowSettings>;
    /** The three lifecycle hooks (their answers: the world's hookFunctions). */
    hooks?: boolean;
  } = {},
): Promise<void> {
  const keepIdleWarm = !!options.keepIdleWarm;
  const compiled = compiledWorkflow({
    platform,
    migrations: !!options.migrations,
    keepIdleWarm,
    hooks: options.hooks,
  });
  const current = new AsyncLocalStorage<Invocation>();
  const deps = recorded(world.deps(), (call) => {
    const invocation = current.getStore();
    if (!invocation) {
      throw new Error(`${call.op} was called outside any Task state`);
    }
    invocation.calls.push(call);
  });
  await runWorkflow(
    compiled,
    deps,
    {
      ...SETTINGS,
      ...(options.migrations ? { migrations: { timeoutSeconds: 300 }, keepIdleWarm } : {}),
      ...(options.hooks ? { hooks: HOOK_SETTINGS } : {}),
      ...options.settings,
    },
    input,
    {
      execution: options.execution,
      instant: true,
      tasks: world.tasks(),
      wrapTask: (state, invoke) => {
        const invocation: Invocation = { platform, step: compiled.taskSteps[state], calls: [] };
        invocations.push(invocation);
        return current.run(invocation, invoke);
      },
    },
  );
}

function worldWith(behaviour: Behaviour, plan?: ConstructorParameters<typeof FakeWorld>[1]): FakeWorld {
  const world = new FakeWorld(V1, plan);
  world.behaviours.set(V2, behaviour);
  return world;
}

/** The secret was rotated since the (warm) Lambda read it: the listener answers 403 until it reads it again. */
function rotatedSinceRead(world: FakeWorld): FakeWorld {
  world.cachedToken = 'the-token-before-rotation';
  return world;
}

/** A validation hook that passes (FakeWorld has none). */
function withHook(world: FakeWorld): FakeWorld {
  const deps = world.deps.bind(world);
  world.deps = () => ({
    ...deps(),
    hook: { run: () => Promise.resolve({ passed: true, summary: 'ok' }) },
  });
  return world;
}

const synthesized = new Map<Platform, ReturnType<typeof synth>>();

/** Each step's function Timeout (ms) in the synthesized template, by handler file (e.g. `check-deploy`). */
function timeouts(platform: Platform): (step: string) => number {
  if (!synthesized.has(platform)) {
    synthesized.set(
      platform,
      synth({
        platform,
        migrations: { command: ['node', 'migrate.js'], timeoutMinutes: 5 },
        approval: 'before-switch',
        // Every step exists: the follower too (keepIdleWarm with scaling).
        keepIdleWarm: true,
        scaling: { minCount: 2, maxCount: 4, targets: { cpuPercent: 60 } },
        // The hook step too (the hooks' timeouts need a longer release).
        release: { hooks: HOOKS_CONFIG, maxReleaseMinutes: 240 },
      }),
    );
  }
  const { serviceJson } = synthesized.get(platform)!;
  const functions = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function'));
  return (step) => {
    const pascal = step.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
    const found = functions.filter(([id]) =>
      new RegExp(`^ReleaseWorkflowSteps${pascal}Function[0-9A-F]{8}$`).test(id),
    );
    expect(found.map(([id]) => id)).toHaveLength(1);
    return Number(found[0][1].Timeout) * 1000;
  };
}

const LINEAR = { type: 'linear', stepPercent: 25, bakeSeconds: 120 };

describe.each(['ecs', 'asg'] as const)('every step’s AWS calls fit its Lambda timeout (%s)', (platform) => {
  beforeAll(async () => {
    const runs: [FakeWorld, unknown, Parameters<typeof release>[3]?][] = [
      [worldWith('good'), { image: V2 }],
      [worldWith('good'), { image: V2 }, { settings: { keepIdleWarm: true } }],
      [withHook(worldWith('good')), { image: V2 }, { settings: { hasValidationHook: true } }],
      // The most the Validate step does before its hook: 20 smoke checks (the config's maximum) at their
      // longest timeout (10 s), run twice because the listener answered 403 to the token read before a rotation.
      [
        withHook(rotatedSinceRead(worldWith('good'))),
        { image: V2 },
        {
          settings: {
            hasValidationHook: true,
            smokeChecks: Array.from({ length: 20 }, (_, i) => ({
              path: `/check-${i}`,
              expectStatus: 200,
              expectVersion: false,
              latencyBudgetMs: 60_000,
            })),
          },
        },
      ],
      [worldWith('crash'), { image: V2 }],
      [worldWith('never-healthy'), { image: V2, deployTimeoutSeconds: 60 }],
      [worldWith('fails-validation'), { image: V2 }],
      [worldWith('fails-after-switch'), { image: V2 }],
      [worldWith('alarms-after-switch'), { image: V2 }],
      [
        worldWith('fails-after-switch', {
          transient: Array.from({ length: 10 }, (_, i) => ({
            operation: 'router.setProductionWeights',
            nth: i + 2,
          })),
        }),
        { image: V2 },
      ],
      [worldWith('good'), { image: V2 }, { migrations: true }],
      [worldWith('fails-after-switch'), { image: V2 }, { migrations: true }],
      // Gradual shifts: every step judged, and one rolled back by its verdict.
      [worldWith('good'), { image: V2, strategy: LINEAR }, { settings: { analysis: ANALYSIS } }],
      [worldWith('errors-2pct'), { image: V2, strategy: LINEAR }, { settings: { analysis: ANALYSIS } }],
    ];
    const refused = worldWith('good');
    refused.lock = { owner: 'release-0', image: V1, since: '2026-11-26T09:59:00Z', expiresAt: Infinity };
    runs.push([refused, { image: V2 }]);
    const contractFails = worldWith('good');
    contractFails.failingMigrations.set('contract', 'exit');
    runs.push([contractFails, { image: V2 }, { migrations: true }]);
    // With a warm old color the contract pends until the next release, which records it.
    const warm = worldWith('good');
    warm.behaviours.set(`${REPO}:v3`, 'good');
    runs.push([warm, { image: V2 }, { migrations: true, keepIdleWarm: true }]);
    runs.push([
      warm,
      { image: `${REPO}:v3` },
      { migrations: true, keepIdleWarm: true, execution: 'release-2' },
    ]);
    // Auto scaling: both colors held from the deploy, given back by every ending.
    const scaled = (behaviour: Behaviour) => worldWith(behaviour).enableScaling(SCALING);
    const scaling = { scaling: SCALING };
    runs.push(
      [scaled('good'), { image: V2 }, { settings: scaling }],
      [scaled('good'), { image: V2 }, { settings: { ...scaling, keepIdleWarm: true } }],
      [scaled('fails-validation'), { image: V2 }, { settings: scaling }],
      [scaled('fails-after-switch'), { image: V2 }, { settings: scaling }],
      [scaled('good'), { image: V2 }, { migrations: true, settings: scaling }],
      [
        scaled('errors-2pct'),
        { image: V2, strategy: LINEAR },
        { settings: { ...scaling, analysis: ANALYSIS } },
      ],
    );
    // Lifecycle hooks: the admission hook polled, the production hook beside the bake; then a rollback with its
    // hook and the report after it.
    const hooked = (behaviour: Behaviour) => {
      const world = worldWith(behaviour);
      world.hookFunctions.script.set('beforeDeploy', [
        { returns: { status: 'IN_PROGRESS', details: { n: 1 } } },
        { returns: { status: 'SUCCEEDED' } },
      ]);
      world.hookFunctions.script.set('afterShift', [{ returns: { status: 'SUCCEEDED' } }]);
      world.hookFunctions.script.set('onRollback', [{ returns: { status: 'SUCCEEDED' } }]);
      return world;
    };
    runs.push(
      [hooked('good'), { image: V2 }, { hooks: true }],
      [hooked('fails-after-switch'), { image: V2 }, { hooks: true }],
      [
        hooked('fails-after-switch').enableScaling(SCALING),
        { image: V2 },
        { hooks: true, settings: scaling },
      ],
    );
    for (const [world, input, options] of runs) {
      await release(platform, world, input, options);
    }
    // The gate's callback step and the Stopped step run outside the Task states: their calls, directly.
    for (const [step, run] of [
      [
        'await-approval',
        (deps: WorkflowDeps) =>
          requestApproval(
            {
              execution: 'release-1',
              taskToken: 'token',
              release: {
                image: V2,
                version: 'v2',
                live: 'blue',
                idle: 'green',
                liveCount: 2,
                idleBefore: { count: 0, image: V1, revision: 'r0' },
                timings: SETTINGS.timings,
                startedAt: '2026-11-26T10:00:00Z',
                revision: 'r',
              },
            },
            deps,
            { ...SETTINGS, approval: { timeoutSeconds: 3600, onTimeout: 'abort' } },
          ),
      ],
      [
        'stopped',
        (deps: WorkflowDeps) =>
          stopped({ execution: 'release-1', status: 'TIMED_OUT', endedIn: 'Switch traffic' }, deps, SETTINGS),
      ],
      [
        'stopped',
        (deps: WorkflowDeps) =>
          stopped({ execution: 'release-1', status: 'TIMED_OUT', endedIn: 'Switch traffic' }, deps, {
            ...SETTINGS,
            scaling: SCALING,
          }),
      ],
      [
        'follow-live',
        async (deps: WorkflowDeps) => {
          await followLive(deps, { scaling: SCALING, keepIdleWarm: true });
        },
      ],
    ] as const) {
      const invocation: Invocation = { platform, step, calls: [] };
      if (step === 'stopped') {
        invocation.calls.push({ op: 'history.lastStateEntered', args: [] });
      }
      const world = worldWith('good');
      if (step === 'follow-live') {
        // Between releases: blue scaled out, green pinned warm below it.
        world.enableScaling(SCALING).autoscale('blue', 5);
      } else {
        world.lock = { owner: 'release-1', image: V2, since: '2026-11-26T10:00:00Z', expiresAt: Infinity };
        if (invocations.some((i) => i.step === 'stopped' && i.platform === platform)) {
          world.enableScaling(SCALING);
        }
      }
      await run(recorded(world.deps(), (call) => invocation.calls.push(call)));
      invocations.push(invocation);
    }
  }, 120_000);

  test('each step’s longest invocation: SDK calls × their worst case (+ probes, + the hook) ≤ its Timeout', () => {
    const timeoutMs = timeouts(platform);
    const longest = new Map<string, { ms: number; calls: string[] }>();
    for (const { step, calls } of invocations.filter((i) => i.platform === platform)) {
      const ms = criticalMs(platform, calls);
      if (ms >= (longest.get(step)?.ms ?? -1)) {
        longest.set(step, { ms, calls: calls.map((c) => c.op) });
      }
    }
    // Every step of the state machine (with migrations and the gate) was measured.
    expect([...longest.keys()].sort()).toEqual(
      [
        'prepare',
        'register',
        'deploy',
        'check-deploy',
        'validate',
        'await-approval',
        'switch',
        'shift',
        'analyse',
        'watch',
        'finish',
        'scale-down-old-color',
        'record-contract',
        'rollback',
        'abort',
        'rollback-failed',
        'contract-failed',
        'stopped',
        'follow-live',
        'hook',
      ].sort(),
    );
    const report = [...longest].map(([step, { ms, calls }]) => ({
      step,
      worstMs: ms,
      timeoutMs: timeoutMs(step),
      fits: ms <= timeoutMs(step) - (step === 'validate' || step === 'hook' ? HOOK_RESERVE_MS : 0),
      calls: calls.join(' '),
    }));
    expect(report.filter((r) => !r.fits)).toEqual([]);
    // The hook gets what Validate's Lambda has left: at least HOOK_MINIMUM_SECONDS after the most it can do first.
    const validate = longest.get('validate')!;
    expect(validate.calls.filter((c) => c === 'probe.get')).toHaveLength(40);
    expect(validate.calls).toContain('hook.run');
    expect(timeoutMs('validate') - HOOK_RESERVE_MS - validate.ms).toBeGreaterThanOrEqual(
      HOOK_MINIMUM_SECONDS * 1000,
    );
    // The lifecycle hook step makes one call, the hook's: it gets the whole Lambda but HOOK_RESERVE_MS.
    expect(longest.get('hook')!.calls).toEqual(['lifecycleHooks.invoke']);
  });

  test('the stack gives the steps the timeouts sdk-budget.ts counts on', () => {
    const timeoutMs = timeouts(platform);
    for (const step of [
      'prepare',
      'deploy',
      'validate',
      'switch',
      'shift',
      'analyse',
      'watch',
      'rollback',
      'finish',
      'stopped',
    ]) {
      expect({ step, timeout: timeoutMs(step) }).toEqual({ step, timeout: STEP_TIMEOUT_SECONDS * 1000 });
    }
  });
});
