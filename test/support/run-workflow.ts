/**
 * The tests' way to run a release: the synthesized workflow (rehearsal/workflow-runner.ts) over a FakeWorld.
 */
import type { WorkflowSettings } from '../../lambda/shared/release';
import { DEFAULT_POLICY } from '../../lambda/shared/strategy';
import type { ExecutionEnding } from '../../lambda/workflow/stopped';
import {
  compileWorkflow,
  runWorkflow,
  type CompiledWorkflow,
  type ExecutionResult,
  type RunOptions,
} from '../../rehearsal/workflow-runner';
import { parseConfig } from '../../lib/config';
import { HOOK_ARNS } from './fake-hooks';
import { REPO, type FakeWorld } from './fake-world';
import { runCached } from './run-cache';
import { BASE_CONFIG, merge, synth } from './synth';

export type { ExecutionResult };

export const SETTINGS: WorkflowSettings = {
  appName: 'shop',
  imageRepository: REPO,
  productionUrl: 'http://shop-alb.example.com',
  testUrl: 'http://shop-alb.example.com:9000',
  testHeader: 'X-Bluegreen-Test-Token',
  healthPath: '/health',
  smokeChecks: [
    { path: '/health', expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
    { path: '/version', expectStatus: 200, expectVersion: true, latencyBudgetMs: 1000 },
  ],
  hasValidationHook: false,
  keepIdleWarm: false,
  maxReleaseSeconds: 7200,
  timings: {
    bakeSeconds: 60,
    watchIntervalSeconds: 10,
    failureThreshold: 3,
    deployTimeoutSeconds: 120,
    deployPollSeconds: 15,
    finishDelaySeconds: 300,
  },
};

/** The comparative analysis the tests' gradual shifts run with: one-minute periods, a minute to settle. */
export const ANALYSIS: NonNullable<WorkflowSettings['analysis']> = {
  policy: DEFAULT_POLICY,
  latencyPercentile: 99,
  onInconclusive: 'extend',
  maxExtensions: 1,
  alarms: ['shop-checkout-errors'],
  dryRun: false,
  periodSeconds: 60,
  settleSeconds: 60,
};

const compiled = new Map<string, CompiledWorkflow>();

export type Platform = 'ecs' | 'asg';

/** Which state machine: the platform's, with database migrations (and a warm old color) or without. */
export interface Variant {
  readonly platform?: Platform;
  readonly migrations?: boolean;
  readonly keepIdleWarm?: boolean;
  /** The three lifecycle hooks (HOOKS_CONFIG). */
  readonly hooks?: boolean;
}

/** The lifecycle hooks of the `hooks` variant: every hook, with its default timings. */
export const HOOKS_CONFIG = {
  beforeDeploy: { functionArn: HOOK_ARNS.beforeDeploy },
  afterShift: { functionArn: HOOK_ARNS.afterShift },
  onRollback: { functionArn: HOOK_ARNS.onRollback },
};
/** Their timings in the steps' settings. */
export const HOOK_SETTINGS: NonNullable<WorkflowSettings['hooks']> = {
  beforeDeploy: { timeoutSeconds: 600, pollSeconds: 30 },
  afterShift: { timeoutSeconds: 600, pollSeconds: 30 },
  onRollback: { timeoutSeconds: 600, pollSeconds: 30 },
};

/**
 * The release state machine's ASL from the synthesized service stack (test config), tokens resolved. Compiled once
 * per run for each variant (see compiledWorkflowOf); `compileHere` compiles it in this file, for a test that
 * watches the compilation itself.
 */
export function compiledWorkflow(
  variant: Platform | Variant = 'ecs',
  { compileHere = false }: { compileHere?: boolean } = {},
): CompiledWorkflow {
  const v = typeof variant === 'string' ? { platform: variant } : variant;
  const key = JSON.stringify([v.platform ?? 'ecs', !!v.migrations, !!v.keepIdleWarm, compileHere, !!v.hooks]);
  if (!compiled.has(key)) {
    const overrides: SynthOverrides = {
      platform: v.platform ?? 'ecs',
      ...(v.migrations ? { migrations: { command: ['node', 'migrate.js'], timeoutMinutes: 5 } } : {}),
      ...(v.keepIdleWarm ? { keepIdleWarm: true } : {}),
      ...(v.hooks ? { release: { hooks: HOOKS_CONFIG } } : {}),
    };
    compiled.set(key, compileHere ? compile(overrides) : compiledWorkflowOf(overrides));
  }
  return compiled.get(key)!;
}

type SynthOverrides = Parameters<typeof synth>[0];

/**
 * The release state machine for BASE_CONFIG plus `overrides`, synthesized (cdk-nag, CloudFormation Validate) and
 * validated (the States Language, by aws-local-stepfunctions) by the first test file of the run that asks for
 * this configuration, and read from the run's cache (test/support/run-cache.ts) by the others: 1-3 s of CPU per
 * file and configuration.
 */
export function compiledWorkflowOf(overrides: SynthOverrides): CompiledWorkflow {
  return runCached('workflow', parseConfig(merge(BASE_CONFIG, overrides)), () => compile(overrides));
}

function compile(overrides: SynthOverrides): CompiledWorkflow {
  const { serviceJson, stacks } = synth(overrides);
  return compileWorkflow(serviceJson, stacks);
}

/** Runs one release through the synthesized state machine against `world`, with instant waits. */
export function runRelease(
  world: FakeWorld,
  input: unknown,
  options: {
    execution?: string;
    settings?: Partial<WorkflowSettings>;
    platform?: Platform;
    /** Database migrations on (the state machine and the settings), with a warm old color or not. */
    migrations?: { keepIdleWarm?: boolean };
    /** Shortens the migration tasks' timeout. */
    taskTimeoutSeconds?: number;
    /** Task states whose Lambda fails (see RunOptions.lambdaFailures). */
    lambdaFailures?: RunOptions['lambdaFailures'];
    /** A stop from outside (see RunOptions.stopWhen). */
    stopWhen?: RunOptions['stopWhen'];
    /** The lifecycle hooks on (the state machine with all three, and their timings: HOOK_SETTINGS). */
    hooks?: boolean;
  } = {},
): Promise<ExecutionResult> {
  const m = options.migrations;
  return runWorkflow(
    compiledWorkflow({
      platform: options.platform,
      migrations: !!m,
      keepIdleWarm: m?.keepIdleWarm,
      hooks: options.hooks,
    }),
    world.deps(),
    {
      ...SETTINGS,
      ...(m ? { migrations: { timeoutSeconds: 300 }, keepIdleWarm: !!m.keepIdleWarm } : {}),
      ...(options.hooks ? { hooks: HOOK_SETTINGS } : {}),
      ...options.settings,
    },
    input,
    {
      execution: options.execution,
      instant: true,
      tasks: world.tasks(),
      taskTimeoutSeconds: options.taskTimeoutSeconds,
      lambdaFailures: options.lambdaFailures,
      stopWhen: options.stopWhen,
    },
  );
}

/**
 * What the Stopped step is given for an execution that did not succeed, as in AWS: its status, error and cause
 * (the EventBridge event), the last state it entered and the release its last state carried (its history).
 */
export function endingOf(result: ExecutionResult, execution = 'release-1'): ExecutionEnding {
  const newest = result.lastOutput ?? result.lastInput;
  return {
    execution,
    status: result.status,
    error: result.error,
    cause: result.cause,
    endedIn: result.states[result.states.length - 1],
    release: result.lastInput?.release,
    // As the history's newest input: the last Task's output once it returned (the Fail state after it), else its input.
    ...(newest?.unpublished ? { unpublished: newest.unpublished } : {}),
    ...(newest?.unsent ? { unsent: newest.unsent } : {}),
  };
}
