/**
 * The verdicts of a release's report, each value beside its threshold, from what the steps recorded in the state
 * data (lambda/shared/release.ts): Validate's checks, each shift step's analysis and alarms, the bake checks, hook
 * answers, migration exit codes, and the failure a Catch recorded.
 */
import type { MetricVerdict } from '../lambda/shared/analysis';
import type {
  HookAnswer,
  MigrationTaskResult,
  Release,
  StepVerdict,
  ValidationReport,
} from '../lambda/shared/release';
import type { Color } from '../lambda/shared/release-record';
import { STATES } from '../lambda/shared/state-names';
import type { ReportVerdict } from './model';

/** More bake checks than this are summarized: failing checks one by one, runs of passing ones as one verdict. */
export const BAKE_CHECKS_LISTED = 12;

/** One output of "Check new live color": its check number, failures in a row, what it checked. */
export interface BakeCheck {
  readonly at: string;
  readonly checks: number;
  readonly failures: number;
  readonly checked?: string;
  readonly ignored: readonly string[];
}

/**
 * The kind of verdict a failure caught in a state is (the check that failed there); elsewhere (Prepare refusing,
 * an ending's cleanup) it is a `failure`.
 */
const FAILURE_KINDS: Readonly<Record<string, string>> = {
  [STATES.validate]: 'smoke',
  [STATES.watch]: 'bake',
  [STATES.analyse]: 'analysis',
  // The idle color's deploy and readiness, and the re-check before traffic moves to it.
  [STATES.deploy]: 'health',
  [STATES.checkIdle]: 'health',
  [STATES.shift]: 'health',
  [STATES.switch]: 'health',
  [STATES.approval]: 'approval',
  [STATES.expand]: 'migration',
  [STATES.backfill]: 'migration',
  [STATES.contract]: 'migration',
  [STATES.previousContract]: 'migration',
};

/** Validate's checks: smoke checks, target health, the validation hook. */
export function checkVerdicts(validation: ValidationReport, state: string): ReportVerdict[] {
  return validation.checks.map((check) => ({
    at: validation.at,
    kind: check.name === 'target health' ? 'health' : check.name === 'validation hook' ? 'hook' : 'smoke',
    name: check.name,
    value: check.value,
    threshold: check.threshold,
    passed: check.passed,
    state,
  }));
}

/** One answer of a lifecycle hook (IN_PROGRESS is not a failure: the hook is called again). */
export function hookVerdict(answer: HookAnswer, state?: string): ReportVerdict {
  return {
    at: answer.at,
    kind: 'hook',
    name: `${answer.hook} hook (call ${answer.attempt})`,
    value: `${answer.status}: ${answer.summary}`,
    threshold: 'SUCCEEDED (IN_PROGRESS: called again)',
    passed: !['FAILED', 'TIMED_OUT', 'ERROR'].includes(answer.status),
    ...(state ? { state } : {}),
  };
}

/** A migration phase's task and its exit code. */
export function migrationVerdict(
  phase: string,
  task: MigrationTaskResult,
  at: string,
  state: string,
): ReportVerdict {
  return {
    at,
    kind: 'migration',
    name: `${phase} migration`,
    value: `exit code ${task.exitCode}`,
    threshold: 'exit code 0',
    passed: task.exitCode === 0,
    state,
  };
}

/**
 * A shift step that failed its analysis: the Analyse step throws AnalysisFailed (or AnalysisInconclusive) with the
 * step's summary as the message, so its verdict never reaches the state data; the summary says each metric's
 * figures and threshold (lambda/shared/analysis.ts's explanations, lambda/workflow/analyse.ts's stepSummary), one
 * verdict per metric is read back from it. Undefined when the message is not such a summary.
 */
export function failedStepVerdicts(message: string, at: string, state: string): ReportVerdict[] | undefined {
  const head = /^Step (\d+)\/\d+ \(([\d.]+)% to (\w+), window [^)]*\): /.exec(message);
  if (!head) {
    return undefined;
  }
  const name = `step ${head[1]} (${head[2]}% to ${head[3]})`;
  const starts = [...message.matchAll(/\b(errors|latency): (pass|fail|inconclusive), /g)];
  const out: ReportVerdict[] = starts.map((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : message.length;
    const text = message.slice(m.index + m[0].length, end);
    // Each explanation ends with its parenthesis (and " [advisory]"); then "; " or ". <what the workflow did>."
    const close = /^(.*\))( \[advisory\])?/.exec(text);
    const body = close?.[1] ?? text;
    const threshold = /\((?:not )?below ([\d.e+-]+)\)$/.exec(body)?.[1];
    const limit = /\(limit ([\d.]+)\)$/.exec(body)?.[1];
    const needed = /at least (\d+) each/.exec(body)?.[1];
    return {
      at,
      kind: 'analysis',
      name: `${name} ${m[1]}${close?.[2] ? ' (advisory)' : ''}`,
      value: m[2] === 'inconclusive' ? `inconclusive: ${body}` : body.replace(/ \([^()]*\)$/, ''),
      threshold:
        m[2] === 'inconclusive'
          ? `at least ${needed ?? '?'} requests on each color`
          : m[1] === 'errors'
            ? `p not below ${threshold ?? '?'}`
            : `ratio new/old at most ${limit ?? '?'}`,
      passed: m[2] === 'pass',
      state,
    };
  });
  const alarms =
    /the user's alarm\(s\) went off: (.*?)(?:; (?:FAIL|PASS|INCONCLUSIVE): |\. [A-Z][^.]*\.$)/.exec(message);
  if (alarms) {
    out.push({
      at,
      kind: 'alarm',
      name: `${name} alarms`,
      value: `in ALARM: ${alarms[1]}`,
      threshold: 'none in ALARM',
      passed: false,
      state,
    });
  }
  return out.length > 0 ? out : undefined;
}

/**
 * A failing verdict that decides: not an advisory metric (its name ends "(advisory)", as stepVerdicts and
 * failedStepVerdicts write it), nor an inconclusive one (its value says "inconclusive", as both write it).
 */
export function decisiveFailure(v: ReportVerdict): boolean {
  return (
    !v.passed &&
    !v.name.endsWith('(advisory)') &&
    !(v.kind === 'analysis' && /\binconclusive\b/.test(v.value))
  );
}

/**
 * The failure a Catch recorded as `failure` when `state` failed (its cause as a message); a bake check that
 * failed is the check after the `bakeChecks` that passed through.
 */
export function failureVerdict(
  failure: { readonly Error: string; readonly Cause: string; readonly phase?: string },
  state: string,
  at: string,
  bakeChecks: number,
): ReportVerdict {
  return {
    at,
    kind: FAILURE_KINDS[state] ?? 'failure',
    name: failure.phase
      ? `${failure.phase} migration`
      : state === STATES.watch
        ? `bake check ${bakeChecks + 1}`
        : state,
    value: `${failure.Error}: ${failure.Cause}`,
    threshold: failure.phase ? 'exit code 0' : 'no error',
    passed: false,
    state,
  };
}

/** One verdict per metric of a shift step, and one for its alarms. */
export function stepVerdicts(step: StepVerdict, at: string, idle: Color | undefined): ReportVerdict[] {
  const name = `step ${step.step} (${step.percent}%${idle ? ` to ${idle}` : ''})`;
  // The state, and what the workflow did with the step (a dry run: what it would have done).
  const state =
    `${STATES.analyse} → ${STEP_ACTIONS[step.action]}` +
    (step.wouldHave ? ` (dry run: would have ${WOULD_HAVE[step.wouldHave]})` : '');
  const out: ReportVerdict[] = step.metrics.map((m) => ({
    at,
    kind: 'analysis',
    name: `${name} ${m.metric}${m.critical ? '' : ' (advisory)'}`,
    value: metricValue(m),
    threshold: metricThreshold(m),
    passed: m.result === 'pass',
    state,
  }));
  out.push({
    at,
    kind: 'alarm',
    name: `${name} alarms`,
    value: step.alarms.length > 0 ? `in ALARM: ${step.alarms.join(', ')}` : 'none in ALARM',
    threshold: 'none in ALARM',
    passed: step.alarms.length === 0,
    state,
  });
  return out;
}

/** A shift step's action, in words. */
const STEP_ACTIONS: Readonly<Record<StepVerdict['action'], string>> = {
  next: 'next step',
  promote: 'promoted to 100%',
  extend: 'step extended',
  rollback: 'rolled back',
};
/** What a dry run's step would have done, in words. */
const WOULD_HAVE: Readonly<Record<NonNullable<StepVerdict['wouldHave']>, string>> = {
  rollback: 'rolled back',
  extend: 'extended the step',
};

function metricValue(m: MetricVerdict): string {
  const figure =
    m.value === undefined
      ? `${m.result}`
      : m.metric === 'errors'
        ? `p = ${m.value.toPrecision(2)}`
        : `ratio ${Number.isFinite(m.value) ? m.value.toFixed(2) : '∞'}`;
  return `new ${m.new}, old ${m.old}: ${figure}`;
}

/** "p not below 0.005: Fisher's exact test, ...", "ratio new/old at most 1.25 (differences under 20 ms never fail)". */
function metricThreshold(m: MetricVerdict): string {
  return m.metric === 'errors'
    ? `p not below ${m.threshold}: ${m.test}`
    : m.test.replace(', at most', ' at most');
}

/** The bake checks: one verdict each, or, beyond BAKE_CHECKS_LISTED, failing ones each and passing runs summed. */
export function bakeVerdicts(bake: readonly BakeCheck[], release: Release | undefined): ReportVerdict[] {
  const threshold = release
    ? `fewer than ${release.timings.failureThreshold} consecutive failed checks`
    : 'no failed check';
  const one = (b: BakeCheck): ReportVerdict => ({
    at: b.at,
    kind: 'bake',
    name: `bake check ${b.checks}`,
    value:
      (b.failures === 0 ? 'passed' : `failed (${b.failures} in a row)`) +
      (b.checked ? `: ${b.checked}` : '') +
      (b.ignored.length > 0 ? `; ignored: ${b.ignored.join('; ')}` : ''),
    threshold,
    passed: b.failures === 0,
    state: STATES.watch,
  });
  if (bake.length <= BAKE_CHECKS_LISTED) {
    return bake.map(one);
  }
  const out: ReportVerdict[] = [];
  let run: BakeCheck[] = [];
  const flush = () => {
    if (run.length > 0) {
      const [first, last] = [run[0], run[run.length - 1]];
      out.push({
        ...one(last),
        at: last.at,
        name: run.length === 1 ? `bake check ${first.checks}` : `bake checks ${first.checks}-${last.checks}`,
        value:
          `${run.length} check${run.length === 1 ? '' : 's'} passed` +
          (last.checked ? `: ${last.checked}` : ''),
      });
      run = [];
    }
  };
  for (const b of bake) {
    if (b.failures === 0) {
      run.push(b);
    } else {
      flush();
      out.push(one(b));
    }
  }
  flush();
  return out;
}
