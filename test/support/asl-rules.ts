/**
 * The structural rules of the Amazon States Language (https://states-language.net/, the Step Functions
 * developer guide's "Amazon States Language" pages) that Step Functions enforces when a state machine is created
 * or updated, checked on a definition as the stack deploys it. CloudFormation's schema, cfn-lint and the local
 * runner accept definitions that Step Functions refuses at deploy time (an empty ErrorEquals, say); this does not.
 *
 * `aslProblems` returns one line per broken rule, naming the state: an empty list is a definition Step Functions
 * would take. Beyond the language's rules it holds bluegreen's own: the machine has a global timeout, and a task
 * that waits on something outside Step Functions (a callback, a .sync job) has its own timeout.
 */

type Json = Record<string, unknown>;

const STATE_TYPES = ['Task', 'Parallel', 'Map', 'Pass', 'Wait', 'Choice', 'Succeed', 'Fail'];
/** States that end an execution (or a branch) by their type; they may have neither Next nor End. */
const TERMINAL_TYPES = ['Succeed', 'Fail'];
/** Only these states may carry Retry and Catch. */
const RETRYING_TYPES = ['Task', 'Parallel', 'Map'];
const WAIT_FIELDS = ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'];
/** Reference paths of a state (JSONPath): a string starting with "$" (InputPath, OutputPath, ResultPath may be null). */
const PATH_FIELDS = [
  'InputPath',
  'OutputPath',
  'ResultPath',
  'ItemsPath',
  'SecondsPath',
  'TimestampPath',
  'ErrorPath',
  'CausePath',
  'TimeoutSecondsPath',
  'HeartbeatSecondsPath',
];
const NULLABLE_PATHS = ['InputPath', 'OutputPath', 'ResultPath'];
const MAX_STATE_NAME = 80;

export interface AslOptions {
  /**
   * The machine's own checks (not the language's): a top-level TimeoutSeconds, and one on every task that waits
   * on something outside Step Functions (a .waitForTaskToken callback or a .sync job). A Lambda invoked
   * synchronously is bounded by the function's own timeout. On by default.
   */
  readonly requireTimeouts?: boolean;
}

/** Every broken rule of a whole state machine definition (top level and nested branches), one line each. */
export function aslProblems(definition: unknown, options: AslOptions = {}): string[] {
  const problems: string[] = [];
  if (!isObject(definition)) {
    return ['the definition is not a JSON object'];
  }
  const requireTimeouts = options.requireTimeouts ?? true;
  if (requireTimeouts && definition.TimeoutSeconds === undefined) {
    problems.push('the state machine has no TimeoutSeconds: an execution could run for a year');
  }
  if (definition.TimeoutSeconds !== undefined && !isInt(definition.TimeoutSeconds, 1)) {
    problems.push(
      `TimeoutSeconds must be a positive integer (got ${JSON.stringify(definition.TimeoutSeconds)})`,
    );
  }
  checkMachine(definition, '', problems, requireTimeouts);
  return problems;
}

/** One state machine or one Parallel branch / Map iterator: StartAt, States, transitions, reachability. */
function checkMachine(machine: Json, where: string, problems: string[], requireTimeouts: boolean): void {
  const at = (s: string) => `${where}${where ? ' > ' : ''}"${s}"`;
  const states = machine.States;
  if (!isObject(states) || Object.keys(states).length === 0) {
    problems.push(`${where || 'the definition'}: States must be a non-empty object`);
    return;
  }
  const names = new Set(Object.keys(states));
  if (typeof machine.StartAt !== 'string' || !names.has(machine.StartAt)) {
    problems.push(
      `${where || 'the definition'}: StartAt ${JSON.stringify(machine.StartAt)} names no state of ${where ? 'this branch' : 'the machine'}`,
    );
  }

  const edges = new Map<string, string[]>();
  for (const [name, raw] of Object.entries(states)) {
    const p = (message: string) => problems.push(`${at(name)}: ${message}`);
    if ([...name].length > MAX_STATE_NAME) {
      p(`the name has ${[...name].length} characters, over the ${MAX_STATE_NAME} allowed`);
    }
    if (!isObject(raw)) {
      p('must be a JSON object');
      continue;
    }
    const state = raw;
    const type = state.Type;
    if (typeof type !== 'string' || !STATE_TYPES.includes(type)) {
      p(`Type ${JSON.stringify(type)} is not one of ${STATE_TYPES.join(', ')}`);
      continue;
    }
    const targets: string[] = [];
    const target = (field: string, value: unknown) => {
      if (typeof value !== 'string' || !names.has(value)) {
        p(`${field} ${JSON.stringify(value)} names no state${where ? ' of this branch' : ''}`);
      } else {
        targets.push(value);
      }
    };

    // Transitions: exactly one of Next and End, except Choice, Succeed and Fail, which have neither.
    if (type === 'Choice' || TERMINAL_TYPES.includes(type)) {
      for (const field of ['Next', 'End']) {
        if (field in state) {
          p(`a ${type} state may not have ${field}`);
        }
      }
    } else if ('Next' in state && 'End' in state) {
      p('has both Next and End');
    } else if ('End' in state) {
      if (state.End !== true) {
        p(`End must be true (got ${JSON.stringify(state.End)})`);
      }
    } else if ('Next' in state) {
      target('Next', state.Next);
    } else {
      p('is a dead end: a non-terminal state needs Next or "End": true');
    }

    for (const field of PATH_FIELDS) {
      if (!(field in state)) {
        continue;
      }
      const value = state[field];
      if (
        !(value === null && NULLABLE_PATHS.includes(field)) &&
        !(typeof value === 'string' && value.startsWith('$'))
      ) {
        p(`${field} must be a path starting with "$" (got ${JSON.stringify(value)})`);
      }
    }
    for (const field of ['Parameters', 'ResultSelector', 'ItemSelector']) {
      if (field in state) {
        checkPayloadTemplate(state[field], field, p);
      }
    }

    if (!RETRYING_TYPES.includes(type)) {
      for (const field of ['Retry', 'Catch']) {
        if (field in state) {
          p(`a ${type} state may not have ${field}`);
        }
      }
    }
    if ('Retry' in state) {
      checkRetry(state.Retry, p);
    }
    if ('Catch' in state) {
      checkErrorList(state.Catch, 'Catch', 'catcher', p, (catcher, i) => {
        target(`Catch[${i}].Next`, catcher.Next);
      });
    }

    switch (type) {
      case 'Task':
        checkTask(state, p, requireTimeouts);
        break;
      case 'Wait': {
        const given = WAIT_FIELDS.filter((f) => f in state);
        if (given.length !== 1) {
          p(
            `a Wait state needs exactly one of ${WAIT_FIELDS.join(', ')} (got ${given.join(', ') || 'none'})`,
          );
        }
        if ('Seconds' in state && !isInt(state.Seconds, 0)) {
          p(`Seconds must be a non-negative integer (got ${JSON.stringify(state.Seconds)})`);
        }
        break;
      }
      case 'Choice': {
        if (!Array.isArray(state.Choices) || state.Choices.length === 0) {
          p('a Choice state needs a non-empty Choices array');
          break;
        }
        state.Choices.forEach((rule: unknown, i: number) => {
          if (!isObject(rule)) {
            p(`Choices[${i}] must be an object`);
            return;
          }
          target(`Choices[${i}].Next`, rule.Next);
          checkChoiceRule(rule, `Choices[${i}]`, p, true);
        });
        if ('Default' in state) {
          target('Default', state.Default);
        }
        break;
      }
      case 'Fail':
        for (const [a, b] of [
          ['Error', 'ErrorPath'],
          ['Cause', 'CausePath'],
        ]) {
          if (a in state && b in state) {
            p(`a Fail state may not have both ${a} and ${b}`);
          }
        }
        break;
      case 'Parallel':
        if (!Array.isArray(state.Branches) || state.Branches.length === 0) {
          p('a Parallel state needs a non-empty Branches array');
        } else {
          state.Branches.forEach((branch: unknown, i: number) =>
            isObject(branch)
              ? checkMachine(branch, `${at(name)} branch ${i}`, problems, requireTimeouts)
              : p(`Branches[${i}] must be an object`),
          );
        }
        break;
      case 'Map': {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (!isObject(processor)) {
          p('a Map state needs an ItemProcessor');
        } else {
          checkMachine(processor, `${at(name)} item processor`, problems, requireTimeouts);
        }
        break;
      }
    }
    edges.set(name, targets);
  }

  // Step Functions refuses a state that no path from StartAt reaches.
  const reached = reach(
    typeof machine.StartAt === 'string' ? [machine.StartAt] : [],
    (n) => edges.get(n) ?? [],
  );
  for (const name of names) {
    if (!reached.has(name)) {
      problems.push(`${at(name)}: is not reachable from StartAt`);
    }
  }
  // bluegreen's own rule: no trap, every reachable state can still reach an ending (a loop needs a way out).
  const ends = [...names].filter((n) => {
    const s = states[n] as Json;
    return isObject(s) && (TERMINAL_TYPES.includes(String(s.Type)) || s.End === true);
  });
  const reverse = new Map<string, string[]>();
  for (const [from, tos] of edges) {
    for (const to of tos) {
      reverse.set(to, [...(reverse.get(to) ?? []), from]);
    }
  }
  const canEnd = reach(ends, (n) => reverse.get(n) ?? []);
  for (const name of reached) {
    if (!canEnd.has(name)) {
      problems.push(`${at(name)}: no path from it reaches a Succeed, Fail or End state`);
    }
  }
}

/** Retriers: the ErrorEquals rules, then each field's range. */
function checkRetry(retry: unknown, p: (message: string) => void): void {
  checkErrorList(retry, 'Retry', 'retrier', p, (retrier, i) => {
    const field = (name: string) => `Retry[${i}].${name}`;
    if ('IntervalSeconds' in retrier && !isInt(retrier.IntervalSeconds, 1)) {
      p(
        `${field('IntervalSeconds')} must be a positive integer (got ${JSON.stringify(retrier.IntervalSeconds)})`,
      );
    }
    if ('MaxAttempts' in retrier && !isInt(retrier.MaxAttempts, 0)) {
      p(
        `${field('MaxAttempts')} must be a non-negative integer (got ${JSON.stringify(retrier.MaxAttempts)})`,
      );
    }
    if ('BackoffRate' in retrier && !(typeof retrier.BackoffRate === 'number' && retrier.BackoffRate >= 1)) {
      p(
        `${field('BackoffRate')} must be a number of at least 1.0 (got ${JSON.stringify(retrier.BackoffRate)})`,
      );
    }
    if ('MaxDelaySeconds' in retrier && !isInt(retrier.MaxDelaySeconds, 1)) {
      p(
        `${field('MaxDelaySeconds')} must be a positive integer (got ${JSON.stringify(retrier.MaxDelaySeconds)})`,
      );
    }
    if ('JitterStrategy' in retrier && !['FULL', 'NONE'].includes(String(retrier.JitterStrategy))) {
      p(
        `${field('JitterStrategy')} must be "FULL" or "NONE" (got ${JSON.stringify(retrier.JitterStrategy)})`,
      );
    }
  });
}

/**
 * Retry and Catch share their error rules: a non-empty array of objects, each with a non-empty ErrorEquals of
 * strings; "States.ALL" alone in its ErrorEquals, and only in the last retrier or catcher.
 */
function checkErrorList(
  list: unknown,
  field: 'Retry' | 'Catch',
  what: string,
  p: (message: string) => void,
  each: (entry: Json, index: number) => void,
): void {
  if (!Array.isArray(list)) {
    p(`${field} must be an array of ${what}s`);
    return;
  }
  list.forEach((entry: unknown, i: number) => {
    if (!isObject(entry)) {
      p(`${field}[${i}] must be an object`);
      return;
    }
    const errors = entry.ErrorEquals;
    if (!Array.isArray(errors) || errors.length === 0) {
      p(
        `${field}[${i}].ErrorEquals must be a non-empty array of error names (got ${JSON.stringify(errors)})`,
      );
    } else {
      if (errors.some((e) => typeof e !== 'string' || e.length === 0)) {
        p(`${field}[${i}].ErrorEquals must hold error names (got ${JSON.stringify(errors)})`);
      }
      if (errors.includes('States.ALL')) {
        if (errors.length > 1) {
          p(`${field}[${i}].ErrorEquals: "States.ALL" must appear alone (got ${JSON.stringify(errors)})`);
        }
        if (i !== list.length - 1) {
          p(`${field}[${i}]: the ${what} with "States.ALL" must be the last one`);
        }
      }
    }
    each(entry, i);
  });
}

/** A Task: a Resource, and timeouts that make sense; bluegreen's rule for tasks that wait on the outside. */
function checkTask(state: Json, p: (message: string) => void, requireTimeouts: boolean): void {
  if (typeof state.Resource !== 'string' || !state.Resource.startsWith('arn:')) {
    p(`a Task needs a Resource ARN (got ${JSON.stringify(state.Resource)})`);
    return;
  }
  for (const [a, b] of [
    ['TimeoutSeconds', 'TimeoutSecondsPath'],
    ['HeartbeatSeconds', 'HeartbeatSecondsPath'],
  ]) {
    if (a in state && b in state) {
      p(`may not have both ${a} and ${b}`);
    }
  }
  if ('TimeoutSeconds' in state && !isInt(state.TimeoutSeconds, 1)) {
    p(`TimeoutSeconds must be a positive integer (got ${JSON.stringify(state.TimeoutSeconds)})`);
  }
  if ('HeartbeatSeconds' in state) {
    if (!isInt(state.HeartbeatSeconds, 1)) {
      p(`HeartbeatSeconds must be a positive integer (got ${JSON.stringify(state.HeartbeatSeconds)})`);
    } else if (typeof state.TimeoutSeconds === 'number' && state.HeartbeatSeconds >= state.TimeoutSeconds) {
      p('HeartbeatSeconds must be smaller than TimeoutSeconds');
    }
  }
  const waitsOutside = /\.(waitForTaskToken|sync(:\d+)?)$/.test(state.Resource);
  if (requireTimeouts && waitsOutside && !('TimeoutSeconds' in state) && !('TimeoutSecondsPath' in state)) {
    p(
      `calls ${state.Resource.split(':::').pop()}, which waits on something outside Step Functions, without ` +
        'TimeoutSeconds: it would wait until the whole execution times out',
    );
  }
}

/** A Choice rule: a top-level rule has Next, a nested one (in And/Or/Not) does not; every rule tests something. */
function checkChoiceRule(rule: Json, where: string, p: (message: string) => void, top: boolean): void {
  if (!top && 'Next' in rule) {
    p(`${where}: a nested choice rule may not have Next`);
  }
  const nested = (['And', 'Or', 'Not'] as const).filter((k) => k in rule);
  if (nested.length > 0) {
    for (const k of nested) {
      const inner = k === 'Not' ? [rule.Not] : rule[k];
      if (!Array.isArray(inner) || inner.length === 0) {
        p(`${where}.${k} must hold at least one rule`);
        continue;
      }
      inner.forEach((r: unknown, i: number) =>
        isObject(r)
          ? checkChoiceRule(r, `${where}.${k}[${i}]`, p, false)
          : p(`${where}.${k}[${i}] must be an object`),
      );
    }
    return;
  }
  if (typeof rule.Variable !== 'string' || !rule.Variable.startsWith('$')) {
    p(
      `${where}: a choice rule needs a Variable path starting with "$" (got ${JSON.stringify(rule.Variable)})`,
    );
  }
  const comparisons = Object.keys(rule).filter((k) => !['Variable', 'Next', 'Comment'].includes(k));
  if (comparisons.length !== 1) {
    p(`${where}: a choice rule needs exactly one comparison (got ${comparisons.join(', ') || 'none'})`);
  }
}

/** Payload templates: a field whose name ends in ".$" takes a path or an intrinsic function. */
function checkPayloadTemplate(value: unknown, where: string, p: (message: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkPayloadTemplate(v, `${where}[${i}]`, p));
    return;
  }
  if (!isObject(value)) {
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key.endsWith('.$')) {
      if (typeof v !== 'string' || !(v.startsWith('$') || v.startsWith('States.'))) {
        p(`${where}.${key} must be a path or an intrinsic function (got ${JSON.stringify(v)})`);
      }
    } else {
      checkPayloadTemplate(v, `${where}.${key}`, p);
    }
  }
}

function reach(from: readonly string[], next: (name: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (!seen.has(n)) {
      seen.add(n);
      todo.push(...next(n));
    }
  }
  return seen;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}
