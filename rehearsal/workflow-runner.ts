/**
 * Runs bluegreen's release state machine exactly as `cdk synth` produces it (the ASL from the template, tokens
 * resolved) with aws-local-stepfunctions, each Task state bound to the real step handler (`handler.withDeps`)
 * over whatever ports it is given: the tests' in-memory AWS, or the local rehearsal's processes and proxy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import { handler as abort } from '../lambda/abort';
import { handler as awaitApproval } from '../lambda/await-approval';
import { handler as checkDeploy } from '../lambda/check-deploy';
import { handler as contractFailed } from '../lambda/contract-failed';
import { handler as deploy } from '../lambda/deploy';
import { handler as finish } from '../lambda/finish';
import { handler as hook } from '../lambda/hook';
import { handler as prepare } from '../lambda/prepare';
import { handler as recordContract } from '../lambda/record-contract';
import { handler as register } from '../lambda/register';
import { handler as rollback } from '../lambda/rollback';
import { handler as rollbackFailed } from '../lambda/rollback-failed';
import { handler as scaleDownOldColor } from '../lambda/scale-down-old-color';
import type { WorkflowDeps } from '../lambda/shared/ports';
import type { ReleaseState, WorkflowSettings } from '../lambda/shared/release';
import type { StepHandler } from '../lambda/shared/step-handler';
import { handler as switchTraffic } from '../lambda/switch';
import { handler as shift } from '../lambda/shift';
import { handler as analyse } from '../lambda/analyse';
import { handler as validate } from '../lambda/validate';
import { handler as watch } from '../lambda/watch';
import { addBluegreenStacks, type BluegreenStacks } from '../lib/app';
import type { BluegreenConfig } from '../lib/config';

if (!('withResolvers' in Promise)) {
  // aws-local-stepfunctions 3 targets Node 22 (Promise.withResolvers); keep it working on Node 20.
  Object.defineProperty(Promise, 'withResolvers', {
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const HANDLERS: Record<string, StepHandler> = {
  prepare,
  deploy,
  'check-deploy': checkDeploy,
  validate,
  switch: switchTraffic,
  shift,
  analyse,
  watch,
  rollback,
  abort,
  finish,
  'rollback-failed': rollbackFailed,
  'await-approval': awaitApproval,
  register,
  'scale-down-old-color': scaleDownOldColor,
  'record-contract': recordContract,
  'contract-failed': contractFailed,
  hook,
};

export interface CompiledWorkflow {
  readonly definition: StateMachineDefinition;
  /** Task state name → step (handler file). */
  readonly taskSteps: Record<string, string>;
  /** Task states that wait for a callback (task token): state name → step. */
  readonly callbackSteps: Record<string, string>;
  /** Task states that run a one-off ECS task and wait for it to stop (ECS RunTask .sync, the migrations). */
  readonly runTaskStates: string[];
  readonly waitStates: string[];
  readonly retryStates: string[];
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Synthesizes bluegreen's stacks for `config` in this process (no Lambda bundling) and compiles the workflow. */
export function synthesizeWorkflow(config: BluegreenConfig, outdir: string): CompiledWorkflow {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    // Only the state machine is used, and nothing is deployed: CDK's CloudFormation Validate of the templates
    // (about 5 s of CPU, most of it building its engine) is `cdk synth`'s and the tests' job, not the rehearsal's.
    builtinCloudFormationValidation: false,
  });
  const stacks = addBluegreenStacks(app, config);
  const assembly = app.synth();
  return compileWorkflow(assembly.getStackByName(stacks.service.stackName).template as Template, stacks);
}

/** The release state machine's ASL from a synthesized service stack, with its tokens resolved. */
export function compileWorkflow(template: Template, stacks: BluegreenStacks): CompiledWorkflow {
  const [machine] = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  const functionIds = new Map<string, string>();
  for (const [step, fn] of Object.entries(stacks.service.workflow.functions)) {
    functionIds.set(stacks.service.resolve((fn.node.defaultChild as CfnFunction).logicalId) as string, step);
  }
  const definition = JSON.parse(flatten(machine.Properties!.DefinitionString)) as StateMachineDefinition & {
    States: Record<string, Record<string, unknown>>;
  };
  const taskSteps: Record<string, string> = {};
  const callbackSteps: Record<string, string> = {};
  const runTaskStates: string[] = [];
  const waitStates: string[] = [];
  const retryStates: string[] = [];
  // The states of Parallel branches (the bake beside the production hook) too: their names are unique as well.
  const all = (states: Record<string, Record<string, unknown>>): [string, Record<string, unknown>][] =>
    Object.entries(states).flatMap(([name, state]) => [
      [name, state] as [string, Record<string, unknown>],
      ...(
        (state.Branches as { States: Record<string, Record<string, unknown>> }[] | undefined) ?? []
      ).flatMap((branch) => all(branch.States)),
    ]);
  for (const [name, state] of all(definition.States)) {
    if (state.Type === 'Task' && String(state.Resource).endsWith(':states:::ecs:runTask.sync')) {
      runTaskStates.push(name);
    } else if (state.Type === 'Task') {
      // A callback task calls lambda:invoke.waitForTaskToken with the function in its parameters.
      const callback = String(state.Resource).endsWith('.waitForTaskToken');
      const target = callback
        ? String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName)
        : String(state.Resource);
      const id = /function:(\w+)$/.exec(target)?.[1] ?? '';
      const step = functionIds.get(id);
      if (!step || !HANDLERS[step]) {
        throw new Error(`Task state ${name} calls ${target}, which is not a release step`);
      }
      (callback ? callbackSteps : taskSteps)[name] = step;
    }
    if (state.Type === 'Wait') {
      waitStates.push(name);
    }
    if (state.Retry) {
      retryStates.push(name);
    }
  }
  // Validated once, here: asl-validator takes 1-6 s of CPU on a busy 2-core machine, all of it synchronous, and a
  // run that validated again would stall everything on its thread (the rehearsal's load balancer and load
  // generator included: their requests timed out) at the start of every release.
  new StateMachine(definition, { validationOptions: { checkArn: false } });
  return { definition, taskSteps, callbackSteps, runTaskStates, waitStates, retryStates };
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
    return `arn:aws:lambda:local:000000000000:function:${id}`;
  }
  if ('Ref' in v) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': 'local',
      'AWS::AccountId': '000000000000',
    };
    return pseudo[v.Ref as string] ?? `ref-${String(v.Ref)}`;
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** One event of aws-local-stepfunctions' execution log (the package does not export the type). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface StateEvent {
  readonly type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  readonly state: string;
  /**
   * When it happened (epoch ms): aws-local-stepfunctions stamps each event synchronously as the state is entered,
   * left, fails, is retried or caught, not when the event log hands it over (which a busy machine can delay).
   */
  readonly at: number;
}

export interface ExecutionResult {
  /** ABORTED / TIMED_OUT only when RunOptions.stopWhen stopped it (StopExecution, the execution's own timeout). */
  readonly status: 'SUCCEEDED' | 'FAILED' | ExecutionStop['status'];
  readonly error?: string;
  readonly cause?: string;
  /** States entered, in order (as the console's event history shows them). */
  readonly states: string[];
  readonly events: StateEvent[];
  readonly output?: ReleaseState;
  /** The input of the last Task state that ran (as the execution's history shows each state's input). */
  readonly lastInput?: ReleaseState;
  /** The output of that last Task, when it returned one (what the state after it was entered with). */
  readonly lastOutput?: ReleaseState;
}

export interface RunOptions {
  readonly execution?: string;
  /** Run Wait states and retry intervals instantly (tests); the rehearsal waits for real. */
  readonly instant?: boolean;
  readonly onEvent?: (event: StateEvent) => void;
  /** Every event of aws-local-stepfunctions' log, with the states' data (recording a history: test/report). */
  readonly onLog?: (event: EventLog) => void;
  /** Answers callback tasks (the manual gate); without it a callback task waits until its timeout. */
  readonly callbacks?: LocalCallbacks;
  /** Shortens the callback tasks' timeout (tests of the gate's timeout). */
  readonly callbackTimeoutSeconds?: number;
  /** Runs the one-off tasks of ECS RunTask .sync states (the migrations); without it those states fail. */
  readonly tasks?: LocalTasks;
  /** Shortens the RunTask states' timeout (tests of a migration that hangs). */
  readonly taskTimeoutSeconds?: number;
  /**
   * Task states whose Lambda fails before its handler runs, with this error (e.g. Sandbox.Timedout, as when the
   * function times out): tests of an ending step that fails.
   */
  readonly lambdaFailures?: Readonly<Record<string, { readonly name: string; readonly message: string }>>;
  /**
   * Wraps each invocation of a Task state's Lambda (tests of a world that changes under the workflow: a Lambda
   * that times out after a partial write races `invoke` with its timeout).
   */
  readonly wrapTask?: (state: string, invoke: () => Promise<unknown>) => Promise<unknown>;
  /**
   * Asked on entering every state and after every Task's Lambda settles: a stop to apply now (StopExecution, the
   * execution's own TimeoutSeconds). The Lambda that was running has finished; no further state runs.
   */
  readonly stopWhen?: () => ExecutionStop | undefined;
}

/** How an execution was stopped from outside its states. */
export interface ExecutionStop {
  readonly status: 'ABORTED' | 'TIMED_OUT';
  readonly error?: string;
  readonly cause?: string;
}

/**
 * What ECS does for a RunTask .sync state, locally: run the task definition's container with the command
 * override, and say how it stopped.
 */
export interface LocalTasks {
  run(task: { readonly taskDefinition: string; readonly command: readonly string[] }): Promise<{
    readonly exitCode: number;
    /** Why it stopped, when it did not exit by itself (a start failure). */
    readonly reason?: string;
  }>;
}

/**
 * A RunTask .sync state's local handler: the task runs to its end; a non-zero exit fails the state with
 * States.TaskFailed and the stopped task as the cause, as Step Functions reports it.
 */
function runTaskHandler(tasks: LocalTasks | undefined) {
  let n = 0;
  return async (parameters: unknown): Promise<never> => {
    const p = parameters as {
      TaskDefinition: string;
      Overrides?: { ContainerOverrides?: { Name: string; Command?: string[] }[] };
    };
    const override = p.Overrides?.ContainerOverrides?.[0];
    if (!tasks) {
      const e = new Error('No local task runner was given for ECS RunTask states.');
      e.name = 'ECS.AmazonECSException';
      throw e;
    }
    const taskArn = `arn:aws:ecs:local:000000000000:task/local/${(++n).toString(16).padStart(32, '0')}`;
    const result = await tasks.run({ taskDefinition: p.TaskDefinition, command: override?.Command ?? [] });
    const task = {
      TaskArn: taskArn,
      TaskDefinitionArn: p.TaskDefinition,
      LastStatus: 'STOPPED',
      StopCode: 'EssentialContainerExited',
      StoppedReason: result.reason ?? 'Essential container in task exited',
      Containers: [{ Name: override?.Name ?? 'app', ExitCode: result.exitCode, LastStatus: 'STOPPED' }],
    };
    if (result.exitCode !== 0) {
      const e = new Error(JSON.stringify(task));
      e.name = 'States.TaskFailed';
      throw e;
    }
    return task as never;
  };
}

/**
 * Step Functions' callback API for local runs: a callback task's handler runs, then the task waits until
 * `sendTaskSuccess` / `sendTaskFailure` is called with its token (what `bluegreen approve` / `reject` call in
 * AWS), or until the state's TimeoutSeconds.
 */
export class LocalCallbacks {
  private readonly pending = new Map<
    string,
    { state: string; resolve: (output: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly listeners: ((token: string, state: string) => void)[] = [];

  /** Called by the runner: the task with `token` now waits for an answer. */
  wait(token: string, state: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(token, { state, resolve, reject });
      for (const listener of this.listeners.splice(0)) {
        listener(token, state);
      }
    });
  }

  /** The token of a task that waits now, or of the next one to wait. */
  nextToken(): Promise<{ token: string; state: string }> {
    const [waiting] = this.pending.entries();
    if (waiting) {
      return Promise.resolve({ token: waiting[0], state: waiting[1].state });
    }
    return new Promise((resolve) => this.listeners.push((token, state) => resolve({ token, state })));
  }

  sendTaskSuccess(token: string, output: unknown): void {
    this.take(token).resolve(output);
  }

  sendTaskFailure(token: string, error: string, cause: string): void {
    const failure = new Error(cause);
    failure.name = error;
    this.take(token).reject(failure);
  }

  private take(token: string) {
    const task = this.pending.get(token);
    if (!task) {
      const e = new Error(`Task token ${token} is not waiting (answered already, or timed out)`);
      e.name = 'TaskTimedOut';
      throw e;
    }
    this.pending.delete(token);
    return task;
  }
}

/** Runs one release (one execution) of the compiled workflow over the given ports. */
export async function runWorkflow(
  compiled: CompiledWorkflow,
  deps: WorkflowDeps,
  settings: WorkflowSettings,
  input: unknown,
  options: RunOptions = {},
): Promise<ExecutionResult> {
  const { taskSteps, callbackSteps, waitStates, retryStates } = compiled;
  const definition = withTimeouts(compiled, options.callbackTimeoutSeconds, options.taskTimeoutSeconds);
  const name = options.execution ?? 'release-1';
  // Validated by compileWorkflow (withTimeouts changes only TimeoutSeconds).
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  const callbacks = options.callbacks ?? new LocalCallbacks();
  type LocalHandler = (payload: unknown) => Promise<never>;
  let stop: ExecutionStop | undefined;
  let lastInput: ReleaseState | undefined;
  let lastOutput: ReleaseState | undefined;
  /** Lambdas running now: a stopped execution's result waits for them, as their writes land all the same. */
  const inflight = new Set<Promise<unknown>>();
  let abortExecution = () => undefined as void;
  const checkStop = () => {
    if (!stop && (stop = options.stopWhen?.())) {
      abortExecution();
    }
    return stop !== undefined;
  };
  const callbackHandlers = Object.entries(callbackSteps).map(([state, step]): [string, LocalHandler] => [
    state,
    async (parameters: unknown) => {
      // In AWS each attempt of a callback task gets its own token; the Lambda receives it in its payload.
      const token = `local-task-token-${randomUUID()}`;
      const payload = { ...(parameters as { Payload: ReleaseState }).Payload, taskToken: token };
      await HANDLERS[step].withDeps(deps, settings)(payload);
      return callbacks.wait(token, state) as never;
    },
  ]);
  const execution = machine.run(input as never, {
    noThrowOnAbort: true,
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries([
        ...Object.entries(taskSteps).map(([state, step]): [string, LocalHandler] => [
          state,
          async (payload: unknown) => {
            lastInput = payload as ReleaseState;
            lastOutput = undefined;
            const failure = options.lambdaFailures?.[state];
            if (failure) {
              throw Object.assign(new Error(failure.message), { name: failure.name });
            }
            if (checkStop()) {
              return new Promise<never>(() => undefined); // stopped before this Lambda was invoked
            }
            const invoke = () => HANDLERS[step].withDeps(deps, settings)(payload as ReleaseState);
            const running = Promise.allSettled([options.wrapTask?.(state, invoke) ?? invoke()]);
            inflight.add(running);
            const settled = await running;
            inflight.delete(running);
            if (checkStop()) {
              return new Promise<never>(() => undefined); // stopped: nothing reads this state's result
            }
            const [done] = settled;
            if (done.status === 'rejected') {
              throw done.reason;
            }
            lastOutput = done.value as ReleaseState;
            return done.value as never;
          },
        ]),
        ...callbackHandlers,
        ...compiled.runTaskStates.map((state): [string, LocalHandler] => [
          state,
          runTaskHandler(options.tasks),
        ]),
      ]),
      ...(options.instant
        ? {
            waitTimeOverrides: Object.fromEntries(waitStates.map((s) => [s, 0])),
            retryIntervalOverrides: Object.fromEntries(retryStates.map((s) => [s, 0])),
          }
        : {}),
    },
    context: {
      Execution: { Id: `arn:aws:states:local:000000000000:execution:release:${name}`, Name: name },
      // Replaced per attempt by the runner (above); present so `$$.Task.Token` resolves.
      Task: { Token: 'local-task-token' },
      State: { EnteredTime: new Date().toISOString() },
    },
  });
  abortExecution = () => execution.abort();
  const states: string[] = [];
  const events: StateEvent[] = [];
  let failed: { Error: string; Cause: unknown } | undefined;
  const note = (type: StateEvent['type'], state: string, at: number) => {
    const event = { type, state, at };
    events.push(event);
    options.onEvent?.(event);
  };
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      options.onLog?.(event);
      switch (event.type) {
        case 'StateEntered':
          states.push(event.state.name);
          note('entered', event.state.name, event.timestamp);
          checkStop();
          break;
        case 'StateExited':
          note('exited', event.state.name, event.timestamp);
          break;
        case 'StateFailed':
          note('failed', event.state.name, event.timestamp);
          break;
        case 'StateRetried':
          note('retried', event.state.name, event.timestamp);
          break;
        case 'StateCaught':
          note('caught', event.state.name, event.timestamp);
          break;
        case 'ExecutionFailed':
          failed = { Error: event.Error, Cause: event.Cause };
          break;
        default:
          break;
      }
    }
  })();
  try {
    const output = (await execution.result) as unknown as ReleaseState | null;
    await collect;
    if (stop) {
      await Promise.all(inflight);
      return { ...stop, states, events, lastInput, lastOutput };
    }
    return { status: 'SUCCEEDED', states, events, output: output ?? undefined, lastInput, lastOutput };
  } catch (e) {
    await collect;
    if (!(e instanceof ExecutionError)) {
      throw e;
    }
    const cause = typeof failed?.Cause === 'string' ? failed.Cause : JSON.stringify(failed?.Cause);
    return { status: 'FAILED', error: failed?.Error, cause, states, events, lastInput, lastOutput };
  }
}

function withTimeouts(
  compiled: CompiledWorkflow,
  callbackSeconds: number | undefined,
  taskSeconds: number | undefined,
): StateMachineDefinition {
  if (callbackSeconds === undefined && taskSeconds === undefined) {
    return compiled.definition;
  }
  // A JSON copy, not structuredClone: under Jest that makes objects of another realm, which
  // aws-local-stepfunctions does not take for plain objects (it would skip their Parameters).
  const copy = JSON.parse(JSON.stringify(compiled.definition)) as StateMachineDefinition & {
    States: Record<string, Record<string, unknown>>;
  };
  const shorten = (states: string[], seconds: number | undefined) => {
    for (const state of seconds === undefined ? [] : states) {
      copy.States[state].TimeoutSeconds = seconds;
    }
  };
  shorten(Object.keys(compiled.callbackSteps), callbackSeconds);
  shorten(compiled.runTaskStates, taskSeconds);
  return copy;
}
