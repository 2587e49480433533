/**
 * Watch: one check of the new live color during the bake, through the production listener, plus its alarms.
 * Throws UnhealthyAfterSwitch (the state machine rolls back) when the verdict says so.
 */
import { healthProblem, watchVerdict } from '../shared/decisions';
import { BluegreenError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import { requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';

export async function watch(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'probe' | 'alarms' | 'now'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const progress = release.watch ?? { until: new Date(0).toISOString(), checks: 0, consecutiveFailures: 0 };
  const [result, alarms] = await Promise.all([
    deps.probe.get(`${settings.productionUrl}${settings.healthPath}`, {}, 5000),
    deps.alarms.firing(release.idle),
  ]);
  const verdict = watchVerdict({
    consecutiveFailures: progress.consecutiveFailures,
    problem: healthProblem(settings.healthPath, result),
    alarms,
    threshold: release.timings.failureThreshold,
    now: deps.now(),
    until: new Date(progress.until),
  });
  const checks = progress.checks + 1;
  if (verdict.kind === 'rollback') {
    throw new BluegreenError(
      'UnhealthyAfterSwitch',
      `${release.idle} (${release.image}) failed during the bake, check ${checks}: ${verdict.reason}.`,
    );
  }
  return {
    ...state,
    verdict: verdict.kind,
    release: {
      ...release,
      watch: {
        ...progress,
        checks,
        consecutiveFailures: verdict.kind === 'watching' ? verdict.consecutiveFailures : 0,
      },
    },
  };
}
