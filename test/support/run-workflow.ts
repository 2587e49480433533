/**
 * The tests' way to run a release: the synthesized workflow (rehearsal/workflow-runner.ts) over a FakeWorld.
 */
import type { WorkflowSettings } from '../../lambda/shared/release';
import {
  compileWorkflow,
  runWorkflow,
  type CompiledWorkflow,
  type ExecutionResult,
} from '../../rehearsal/workflow-runner';
import { REPO, type FakeWorld } from './fake-world';
import { synth } from './synth';

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

const compiled = new Map<Platform, CompiledWorkflow>();

export type Platform = 'ecs' | 'asg';

/** The release state machine's ASL from the synthesized service stack (test config), tokens resolved. */
export function compiledWorkflow(platform: Platform = 'ecs'): CompiledWorkflow {
  if (!compiled.has(platform)) {
    const { serviceJson, stacks } = synth({ platform });
    compiled.set(platform, compileWorkflow(serviceJson, stacks));
  }
  return compiled.get(platform)!;
}

/** Runs one release through the synthesized state machine against `world`, with instant waits. */
export function runRelease(
  world: FakeWorld,
  input: unknown,
  options: { execution?: string; settings?: Partial<WorkflowSettings>; platform?: Platform } = {},
): Promise<ExecutionResult> {
  return runWorkflow(
    compiledWorkflow(options.platform),
    world.deps(),
    { ...SETTINGS, ...options.settings },
    input,
    {
      execution: options.execution,
      instant: true,
    },
  );
}
