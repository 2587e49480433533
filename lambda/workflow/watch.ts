/**
 * Watch: one check of the new live color during the bake. It confirms that the production listener still sends
 * all traffic to the new color, that users get an answer (the health path) from the new version (the first smoke
 * check with `expectVersion`, through the production URL), and that none of its alarms entered ALARM since the
 * switch. Throws TrafficMovedDuringRelease when the listener was changed under the release, and
 * UnhealthyAfterSwitch when the verdict says so: the state machine rolls back on either. With auto scaling, it then
 * raises the old color's floor to the new color's count when the new color scaled out (capacity.ts
 * keepRollbackTargetAtPar), so a rollback never lands all traffic on fewer tasks than served it.
 */
import {
  alarmsSinceSwitch,
  describeAlarm,
  healthProblem,
  smokeCheckProblem,
  watchVerdict,
} from '../shared/decisions';
import { BluegreenError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import { requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';
import { attempt } from './attempt';
import { keepRollbackTargetAtPar } from './capacity';
import { allTrafficTo, LISTENER_CHANGED_BY, listenerSays, trafficMoved } from './traffic-guard';

export async function watch(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'probe' | 'alarms' | 'router' | 'now' | 'fleet' | 'record' | 'lock'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const progress = release.watch ?? { until: new Date(0).toISOString(), checks: 0, consecutiveFailures: 0 };
  const checks = progress.checks + 1;
  const weights = await deps.router.productionWeights();
  if (!allTrafficTo(weights, release.idle)) {
    throw trafficMoved(
      `The production listener no longer sends all traffic to ${release.idle} (${release.image}), switched to ` +
        `at ${release.switchedAt ?? '?'}: it now sends ${listenerSays(weights)} (bake check ${checks}). It was ` +
        `changed under the release (${LISTENER_CHANGED_BY}). The bake cannot vouch for what users get any more: ` +
        `traffic goes back to ${release.live}, which is still warm, and the record follows.`,
    );
  }
  // The version answers through production: proof that the new color, not another one, serves users.
  const versionCheck = settings.smokeChecks.find((c) => c.expectVersion);
  const [health, version, firing] = await Promise.all([
    deps.probe.get(`${settings.productionUrl}${settings.healthPath}`, {}, 5000),
    versionCheck ? deps.probe.get(`${settings.productionUrl}${versionCheck.path}`, {}, 5000) : undefined,
    deps.alarms.firing(release.idle),
  ]);
  const problem =
    healthProblem(settings.healthPath, health) ??
    (versionCheck && version
      ? smokeCheckProblem(
          { ...versionCheck, latencyBudgetMs: Number.POSITIVE_INFINITY },
          version,
          release.version,
        )
      : undefined);
  const { counted, ignored } = alarmsSinceSwitch(firing, new Date(release.switchedAt ?? 0));
  const verdict = watchVerdict({
    consecutiveFailures: progress.consecutiveFailures,
    problem: problem && `${problem} (through production)`,
    alarms: counted,
    staleAlarms: ignored,
    threshold: release.timings.failureThreshold,
    now: deps.now(),
    until: new Date(progress.until),
  });
  if (verdict.kind === 'rollback') {
    throw new BluegreenError(
      'UnhealthyAfterSwitch',
      `${release.idle} (${release.image}) failed during the bake, check ${checks}: ${verdict.reason}.`,
    );
  }
  // With auto scaling, the old color keeps up with the new one's count: a rollback puts all traffic on it at once.
  // Housekeeping for the rollback, never a verdict: a failure is noted in the bake's progress and tried next check.
  const notes: string[] = [];
  let raised: string | undefined;
  const scaling = settings.scaling;
  if (scaling) {
    await attempt(notes, `keep ${release.live} at ${release.idle}'s count`, async () => {
      raised = await keepRollbackTargetAtPar(release, state.execution, deps, scaling);
    });
  }
  const oldColorRaised = raised
    ? `check ${checks}: ${raised}`
    : notes.length > 0
      ? `check ${checks}: ${notes.join('; ')}`
      : progress.oldColorRaised;
  return {
    ...state,
    verdict: verdict.kind,
    release: {
      ...release,
      watch: {
        ...progress,
        ...(oldColorRaised ? { oldColorRaised } : {}),
        checks,
        consecutiveFailures: verdict.kind === 'watching' ? verdict.consecutiveFailures : 0,
        checked:
          `production listener all to ${release.idle}; GET ${settings.healthPath} answers 2xx/3xx; ` +
          (versionCheck
            ? `GET ${versionCheck.path} answers with "${release.version}"`
            : 'version not checked (no smoke check with expectVersion)') +
          `; alarms of ${release.idle} that entered ALARM since the switch`,
        ignoredAlarms: ignored.map(
          (a) =>
            `${describeAlarm(a)} — before the switch at ${release.switchedAt ?? '?'}: ignored unless still in ALARM when the bake ends`,
        ),
      },
    },
  };
}
