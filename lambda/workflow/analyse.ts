/**
 * Analyse step: one check of a gradual shift's step, every `watchIntervalSeconds` while the step bakes. Each
 * check re-reads the listener (still the step's split?), the new color's targets and alarms, the user's alarms,
 * and whether an operator promoted the release. Once the step's window has ended and its metrics have settled,
 * it compares the new color with the old one over that window (lambda/shared/analysis.ts) and decides: the next
 * step, promote to 100% (the Switch), bake again (inconclusive, when the policy extends), or roll back (a named
 * error the state machine catches). In dry run the comparison is reported and never acted on.
 */
import { compareColors, type AnalysisVerdict } from '../shared/analysis';
import { alarmsSinceSwitch, describeAlarm } from '../shared/decisions';
import { BluegreenError, ReleaseErrors } from '../shared/errors';
import type { FiringAlarm, WorkflowDeps } from '../shared/ports';
import {
  requireRelease,
  type Release,
  type ReleaseState,
  type Shift,
  type StepVerdict,
  type WorkflowSettings,
} from '../shared/release';
import { stepWindow } from '../shared/strategy';
import { attempt } from './attempt';
import { sameWeights } from '../shared/traffic';
import { expectedWeights } from './switch';
import { LISTENER_CHANGED_BY, listenerSays, trafficMoved } from './traffic-guard';

type Deps = Pick<WorkflowDeps, 'router' | 'alarms' | 'lock' | 'notifier' | 'metrics' | 'now'>;

export async function analyseStep(
  state: ReleaseState,
  deps: Deps,
  settings: Pick<WorkflowSettings, 'analysis' | 'appName'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const shift = release.shift;
  const analysis = settings.analysis;
  if (
    !shift?.window ||
    !shift.since ||
    !analysis ||
    release.strategy?.type === 'all-at-once' ||
    !release.strategy
  ) {
    throw new Error('internal: the Analyse step runs after Shift traffic, with the analysis configured');
  }
  const percent = shift.steps[shift.step];
  const label = `step ${shift.step + 1} of ${shift.steps.length} (${percent}% to ${release.idle})`;

  // 1. The listener is still where this step put it.
  const weights = await deps.router.productionWeights();
  if (!sameWeights(weights, expectedWeights(release))) {
    throw trafficMoved(
      `During ${label}, the production listener sends ${listenerSays(weights)}, not the step's split. It was ` +
        `changed under the release (${LISTENER_CHANGED_BY}): all traffic goes back to ${release.live}.`,
    );
  }

  // 2. The new color still serves, and none of its alarms (nor the user's) went off since the shift began.
  const shiftStart = new Date(shift.startedAt ?? shift.since);
  const [health, own, user] = await Promise.all([
    deps.router.targetHealth(release.idle),
    deps.alarms.firing(release.idle),
    deps.alarms.named(analysis.alarms),
  ]);
  if (health.healthy < 1 || health.notHealthy > 0) {
    throw new BluegreenError(
      ReleaseErrors.UnhealthyDuringShift,
      `During ${label}, ${release.idle} (${release.image}) has ${health.healthy} healthy and ${health.notHealthy} ` +
        `not healthy targets${health.problems.length > 0 ? ` (${health.problems.join('; ')})` : ''}: all traffic ` +
        `goes back to ${release.live}.`,
    );
  }
  const ownAlarms = alarmsSinceSwitch(own, shiftStart).counted;
  if (ownAlarms.length > 0) {
    throw new BluegreenError(
      ReleaseErrors.UnhealthyDuringShift,
      `During ${label}, ${release.idle} (${release.image}) alarmed: ${ownAlarms.map(describeAlarm).join('; ')}. ` +
        `All traffic goes back to ${release.live}.`,
    );
  }
  const userAlarms = alarmsSinceSwitch(user, shiftStart).counted;

  // 3. An operator's `bluegreen promote` skips the remaining steps.
  const promotion = await deps.lock.promotion(state.execution);
  if (promotion) {
    return withShift(state, release, { ...shift, promotedBy: promotion }, 'promote');
  }

  // 4. A user alarm fails the step at once (in dry run it is reported with the step's verdict).
  const now = deps.now();
  if (userAlarms.length > 0 && !shift.dryRun) {
    return judged(state, deps, settings, release, shift, {
      result: 'fail',
      alarms: userAlarms,
      window: shift.window,
      reason: `the user's alarm(s) went off: ${userAlarms.map(describeAlarm).join('; ')}`,
    });
  }

  // 5. The window's metrics are complete once it has ended and CloudWatch has caught up.
  const metrics = deps.metrics;
  if (!metrics) {
    throw new Error('internal: the Analyse step needs the metrics port');
  }
  const readyAt = Date.parse(shift.window.end) + analysis.settleSeconds * 1000;
  if (now.getTime() < readyAt) {
    const waitSeconds = Math.max(
      1,
      Math.min(release.timings.watchIntervalSeconds, Math.ceil((readyAt - now.getTime()) / 1000)),
    );
    return withShift(state, release, { ...shift, waitSeconds }, 'waiting');
  }
  const start = new Date(shift.window.start);
  const end = new Date(shift.window.end);
  const [old, neu] = await Promise.all([
    metrics.window(release.live, start, end, analysis.latencyPercentile),
    metrics.window(release.idle, start, end, analysis.latencyPercentile),
  ]);
  const verdict = compareColors(old, neu, analysis.policy, analysis.latencyPercentile);
  const alarmed = userAlarms.length > 0;
  return judged(state, deps, settings, release, shift, {
    result: alarmed ? 'fail' : verdict.result,
    verdict,
    alarms: userAlarms,
    window: shift.window,
    reason: alarmed
      ? `the user's alarm(s) went off: ${userAlarms.map(describeAlarm).join('; ')}; ${verdict.summary}`
      : verdict.summary,
  });
}

/** The verdict of a judged step: what it means for the release, published, and acted on (unless dry run). */
async function judged(
  state: ReleaseState,
  deps: Deps,
  settings: Pick<WorkflowSettings, 'analysis' | 'appName'>,
  release: Release,
  shift: Shift,
  found: {
    readonly result: StepVerdict['result'];
    readonly verdict?: AnalysisVerdict;
    readonly alarms: readonly FiringAlarm[];
    readonly window: { readonly start: string; readonly end: string };
    readonly reason: string;
  },
): Promise<ReleaseState> {
  const analysis = settings.analysis!;
  const percent = shift.steps[shift.step];
  const last = shift.step === shift.steps.length - 1;
  const canExtend = analysis.onInconclusive === 'extend' && shift.extensions < analysis.maxExtensions;
  const wanted: StepVerdict['action'] =
    found.result === 'pass'
      ? last
        ? 'promote'
        : 'next'
      : found.result === 'inconclusive' && canExtend
        ? 'extend'
        : 'rollback';
  // Dry run: report what would have happened, then go on as if the step passed.
  const action: StepVerdict['action'] =
    shift.dryRun && (wanted === 'rollback' || wanted === 'extend') ? (last ? 'promote' : 'next') : wanted;
  const window = `${found.window.start.slice(11, 19)}-${found.window.end.slice(11, 19)}Z`;
  const doing = {
    next: `next: step ${shift.step + 2} (${shift.steps[shift.step + 1]}%)`,
    promote: 'next: 100% to the new color',
    extend:
      `bake the step longer and judge the whole window again (extension ${shift.extensions + 1} of ` +
      `${analysis.maxExtensions})`,
    rollback: `roll back to ${release.live}`,
  }[action];
  const dry =
    action !== wanted
      ? ` DRY RUN: a real run would ${wanted === 'extend' ? 'bake again' : 'roll back'}.`
      : '';
  const step: StepVerdict = {
    step: shift.step + 1,
    percent,
    window: found.window,
    result: found.result,
    metrics: found.verdict?.metrics ?? [],
    alarms: found.alarms.map(describeAlarm),
    action,
    ...(action !== wanted ? { wouldHave: wanted as 'rollback' | 'extend' } : {}),
    summary: stepSummary({
      step: shift.step + 1,
      steps: shift.steps.length,
      percent,
      color: release.idle,
      window,
      found: found.reason,
      doing,
      dry,
    }),
  };
  const verdicts = [...shift.verdicts, step];
  // Published for every judged step (an event, not an outcome); a failed publish never changes the verdict.
  await attempt([], 'publish the step verdict', () =>
    deps.notifier.publish({
      app: settings.appName,
      release: state.execution,
      status: 'SHIFT_STEP',
      image: release.image,
      liveColor: release.live,
      cause: step.summary,
      step,
    }),
  );
  if (action === 'rollback') {
    const error =
      found.result === 'inconclusive' ? ReleaseErrors.AnalysisInconclusive : ReleaseErrors.AnalysisFailed;
    throw new BluegreenError(
      error,
      `${step.summary} ${found.result === 'inconclusive' ? `Inconclusive after ${shift.extensions} extension(s) (release.analysis.onInconclusive ${analysis.onInconclusive}, maxExtensions ${analysis.maxExtensions}).` : ''}`.trim(),
    );
  }
  if (action === 'extend') {
    const extended = stepWindow(
      new Date(shift.since!),
      shift.strategy.type === 'all-at-once' ? 0 : shift.strategy.bakeSeconds,
      analysis.periodSeconds,
      new Date(found.window.end),
    );
    const longer: Shift = {
      ...shift,
      verdicts,
      extensions: shift.extensions + 1,
      // The window grows (same start, a bake later): each judgement has more requests than the last.
      window: { start: found.window.start, end: extended.end.toISOString() },
      waitSeconds: release.timings.watchIntervalSeconds,
    };
    return withShift(state, release, longer, 'waiting');
  }
  return withShift(state, release, { ...shift, verdicts }, action === 'promote' ? 'promote' : 'shift');
}

/**
 * One line per judged step, for the console, the events, `bluegreen status` and a rollback's cause:
 * "Step 1/3 (25% to green, window 10:01:00-10:03:00Z): PASS: errors: pass, ... Next: step 2 (50%)."
 */
export function stepSummary(s: {
  readonly step: number;
  readonly steps: number;
  readonly percent: number;
  readonly color: string;
  /** "10:01:00-10:03:00Z" */
  readonly window: string;
  /** What was found (the comparison's summary, or the alarms). */
  readonly found: string;
  /** What the workflow does next ("next: step 2 (50%)"). */
  readonly doing: string;
  /** " DRY RUN: ..." or "". */
  readonly dry: string;
}): string {
  return (
    `Step ${s.step}/${s.steps} (${s.percent}% to ${s.color}, window ${s.window}): ` +
    `${s.found.replace(/\.$/, '')}. ${capitalise(s.doing)}.${s.dry}`
  );
}

/** The state with the release's shift updated, and the verdict the Step verdict Choice reads. */
function withShift(
  state: ReleaseState,
  release: Release,
  shift: Shift,
  verdict: NonNullable<ReleaseState['verdict']>,
): ReleaseState {
  return { ...state, verdict, release: { ...release, shift } };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
