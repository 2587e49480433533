/**
 * Runs the release state machine exactly as synthesized (the ASL in the template, tokens resolved) with
 * aws-local-stepfunctions, each Task state bound to the real step handler (`handler.withDeps`) over a FakeWorld.
 */
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { handler as abort } from '../../lambda/abort';
import { handler as checkDeploy } from '../../lambda/check-deploy';
import { handler as deploy } from '../../lambda/deploy';
import { handler as finish } from '../../lambda/finish';
import { handler as prepare } from '../../lambda/prepare';
import { handler as rollback } from '../../lambda/rollback';
import { handler as rollbackFailed } from '../../lambda/rollback-failed';
import type { ReleaseState, WorkflowSettings } from '../../lambda/shared/release';
import type { StepHandler } from '../../lambda/shared/step-handler';
import { handler as switchTraffic } from '../../lambda/switch';
import { handler as validate } from '../../lambda/validate';
import { handler as watch } from '../../lambda/watch';
import { REPO, type FakeWorld } from './fake-world';
import { synth } from './synth';

const HANDLERS: Record<string, StepHandler> = {
  prepare,
  deploy,
  'check-deploy': checkDeploy,
  validate,
  switch: switchTraffic,
  watch,
  rollback,
  abort,
  finish,
  'rollback-failed': rollbackFailed,
};

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

interface Compiled {
  readonly definition: StateMachineDefinition;
  /** Task state name → step (handler file). */
  readonly taskSteps: Record<string, string>;
  readonly waitStates: string[];
  readonly retryStates: string[];
}

let compiled: Compiled | undefined;

/** The release state machine's ASL from the synthesized service stack, with its tokens resolved. */
export function compiledWorkflow(): Compiled {
  if (compiled) {
    return compiled;
  }
  const { serviceJson, stacks } = synth();
  const [machine] = Object.values(serviceJson.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  const functionIds = new Map<string, string>();
  for (const [step, fn] of Object.entries(stacks.service.workflow.functions)) {
    functionIds.set(stacks.service.resolve((fn.node.defaultChild as CfnFunction).logicalId) as string, step);
  }
  const asl = flatten(machine.Properties!.DefinitionString);
  const definition = JSON.parse(asl) as StateMachineDefinition & {
    States: Record<string, Record<string, unknown>>;
  };
  const taskSteps: Record<string, string> = {};
  const waitStates: string[] = [];
  const retryStates: string[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      const id = /function:(\w+)$/.exec(String(state.Resource))?.[1] ?? '';
      const step = functionIds.get(id);
      if (!step) {
        throw new Error(`Task state ${name} calls ${String(state.Resource)}, not a step function`);
      }
      taskSteps[name] = step;
    }
    if (state.Type === 'Wait') {
      waitStates.push(name);
    }
    if (state.Retry) {
      retryStates.push(name);
    }
  }
  compiled = { definition, taskSteps, waitStates, retryStates };
  return compiled;
}

/** Fn::Join / Fn::GetAtt / Ref of the definition string → plain ASL text. */
function flatten(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if ('Fn::GetAtt' in v) {
    const [id] = v['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:eu-west-1:123456789012:function:${id}`;
  }
  if ('Ref' in v) {
    return (
      (
        { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '123456789012' } as Record<
          string,
          string
        >
      )[v.Ref as string] ?? `ref-${String(v.Ref)}`
    );
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  /** States entered, in order (as the console's event history shows them). */
  readonly states: string[];
  readonly output?: ReleaseState;
}

/** Runs one release through the synthesized state machine against `world`. */
export async function runRelease(
  world: FakeWorld,
  input: unknown,
  options: { execution?: string; settings?: Partial<WorkflowSettings> } = {},
): Promise<ExecutionResult> {
  const { definition, taskSteps, waitStates, retryStates } = compiledWorkflow();
  const settings = { ...SETTINGS, ...options.settings };
  const deps = world.deps();
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        Object.entries(taskSteps).map(([state, step]) => [
          state,
          (payload: unknown) => HANDLERS[step].withDeps(deps, settings)(payload as ReleaseState) as never,
        ]),
      ),
      waitTimeOverrides: Object.fromEntries(waitStates.map((s) => [s, 0])),
      retryIntervalOverrides: Object.fromEntries(retryStates.map((s) => [s, 0])),
    },
    context: {
      Execution: {
        Id: `arn:exec:${options.execution ?? 'release-1'}`,
        Name: options.execution ?? 'release-1',
      },
    },
  });
  const states: string[] = [];
  let failed: { Error: string; Cause: unknown } | undefined;
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        states.push(event.state.name);
      }
      if (event.type === 'ExecutionFailed') {
        failed = { Error: event.Error, Cause: event.Cause };
      }
    }
  })();
  try {
    const output = (await execution.result) as unknown as ReleaseState;
    await collect;
    return { status: 'SUCCEEDED', states, output };
  } catch (e) {
    await collect;
    if (!(e instanceof ExecutionError)) {
      throw e;
    }
    return {
      status: 'FAILED',
      error: failed?.Error,
      cause: typeof failed?.Cause === 'string' ? failed.Cause : JSON.stringify(failed?.Cause),
      states,
    };
  }
}
