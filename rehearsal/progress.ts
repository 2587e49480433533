/**
 * The rehearsal's progress lines, as the Step Functions console tells a release: each state entered (▶) and left
 * (✓) with its duration; a failure (✗) once, saying whether the workflow caught it or retries it; and each polling
 * loop (a Wait state and the states it cycles through) as one line when it starts (↻) and one when it is done,
 * with its number of rounds.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { StateEvent } from './workflow-runner';

export interface ProgressPrinter {
  (event: StateEvent): void;
  /** Prints what is still pending (a failure the execution ended with). Call once, after the execution. */
  done(): void;
}

/** What the printer needs to know of the state machine. */
export interface WorkflowShape {
  /** Each polling loop: its Wait state's name → the states of the cycle. */
  readonly loops: ReadonlyMap<string, ReadonlySet<string>>;
  /** Fail states: entering one ends the execution (its "failed" event is the execution's end, told elsewhere). */
  readonly failStates: ReadonlySet<string>;
}

export function workflowShape(definition: StateMachineDefinition): WorkflowShape {
  const states = definition.States as Record<string, { Type?: unknown }>;
  return {
    loops: pollingLoops(definition),
    failStates: new Set(Object.keys(states).filter((name) => states[name].Type === 'Fail')),
  };
}

/**
 * The polling loops of a state machine: for each Wait state that is part of a cycle, the states of that cycle
 * (its strongly connected component), keyed by the Wait state's name.
 */
export function pollingLoops(definition: StateMachineDefinition): Map<string, Set<string>> {
  const states = definition.States as unknown as Record<string, Record<string, unknown>>;
  const next = (name: string): string[] => {
    const s = states[name];
    const choices = (s.Choices as { Next: string }[] | undefined)?.map((c) => c.Next) ?? [];
    const catches = (s.Catch as { Next: string }[] | undefined)?.map((c) => c.Next) ?? [];
    return [s.Next, s.Default, ...choices, ...catches].filter((n): n is string => typeof n === 'string');
  };
  const reachable = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = next(from);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (!seen.has(n) && states[n]) {
        seen.add(n);
        stack.push(...next(n));
      }
    }
    return seen;
  };
  const loops = new Map<string, Set<string>>();
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Wait') {
      continue;
    }
    const fromWait = reachable(name);
    if (!fromWait.has(name)) {
      continue; // a Wait that is not polled (waits once)
    }
    loops.set(name, new Set([...fromWait].filter((s) => s === name || reachable(s).has(name))));
  }
  return loops;
}

/** A printer of `log` lines for one execution's events. */
export function progressPrinter(
  log: (line: string) => void,
  { loops, failStates }: WorkflowShape = { loops: new Map(), failStates: new Set() },
): ProgressPrinter {
  const entered = new Map<string, number>();
  /** A failure not yet told: the next event says whether it is retried, caught, or ends the execution. */
  let failure: { state: string; ms: number } | undefined;
  /** States whose failure was caught: their "exited" (the library's, after the catch) is not a success. */
  const caught = new Set<string>();
  /** The polling loop in progress: its name, when it started, how many rounds, and whether it was left by a catch. */
  let loop:
    { name: string; states: ReadonlySet<string>; from: number; rounds: number; last: number } | undefined;
  const loopOf = (state: string) => [...loops.entries()].find(([, states]) => states.has(state));

  const tellFailure = (how?: 'retried' | 'caught') => {
    if (!failure) {
      return;
    }
    const { state, ms } = failure;
    failure = undefined;
    if (how === 'retried') {
      log(`  ↺ ${state} (${ms} ms) failed, retrying`);
    } else if (how === 'caught') {
      log(`  ✗ ${state} (${ms} ms) failed; caught, the workflow handles it`);
    } else {
      log(`  ✗ ${state} (${ms} ms) failed`);
    }
  };
  const endLoop = (at: number) => {
    if (loop) {
      const rounds = `${loop.rounds} round${loop.rounds === 1 ? '' : 's'}`;
      log(`  ✓ ${loop.name} (${rounds}, ${at - loop.from} ms)`);
      loop = undefined;
    }
  };

  const print = (event: StateEvent) => {
    const { state, at } = event;
    if (event.type === 'retried' || event.type === 'caught') {
      tellFailure(event.type);
      if (event.type === 'caught') {
        caught.add(state);
        if (loop?.states.has(state)) {
          loop = undefined; // left by a failure, told above: not a finished loop
        }
      }
      return;
    }
    tellFailure();
    if (event.type === 'failed' && failStates.has(state)) {
      return; // a Fail state: the execution ends here, with its error and cause
    }
    if (event.type === 'failed') {
      failure = { state, ms: at - (entered.get(state) ?? at) };
      return;
    }
    if (event.type === 'entered') {
      entered.set(state, at);
      caught.delete(state);
      if (loop && !loop.states.has(state)) {
        endLoop(loop.last);
      }
      const inLoop = loopOf(state);
      if (inLoop && !loop) {
        loop = { name: inLoop[0], states: inLoop[1], from: at, rounds: 0, last: at };
        log(`  ↻ ${loop.name}`);
      }
      if (loop) {
        if (state === loop.name) {
          loop.rounds += 1;
        }
        return;
      }
      log(`  ▶ ${state}`);
      return;
    }
    // exited
    if (caught.delete(state)) {
      return; // its failure was told, with its catch
    }
    if (loop?.states.has(state)) {
      loop.last = at;
      return;
    }
    log(`  ✓ ${state} (${at - (entered.get(state) ?? at)} ms)`);
  };
  return Object.assign(print, {
    done: () => {
      tellFailure();
      if (loop) {
        endLoop(loop.last);
      }
    },
  });
}
