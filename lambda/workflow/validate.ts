/**
 * Validate: test the idle color through the test listener before it sees a single user: smoke checks (status,
 * version, latency budget), target health, and the optional user validation hook. Any failure: ValidationFailed.
 */
import { smokeCheckProblem } from '../shared/decisions';
import { releaseError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import { requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';

export async function validate(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'probe' | 'router' | 'testToken' | 'hook'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const token = await deps.testToken();
  const headers = { [settings.testHeader]: token };
  const problems: string[] = [];
  for (const check of settings.smokeChecks) {
    // Allow a slow answer to arrive (and be reported as over budget), but never hang the step.
    const timeoutMs = Math.min(Math.max(check.latencyBudgetMs * 5, 2000), 10_000);
    const result = await deps.probe.get(`${settings.testUrl}${check.path}`, headers, timeoutMs);
    const problem = smokeCheckProblem(check, result, release.version);
    if (problem) {
      problems.push(problem);
    }
  }
  const health = await deps.router.targetHealth(release.idle);
  if (health.healthy < release.liveCount || health.notHealthy > 0) {
    problems.push(
      `target health: ${health.healthy}/${release.liveCount} healthy` +
        (health.problems.length > 0 ? ` (${health.problems.join('; ')})` : ''),
    );
  }
  if (problems.length === 0 && settings.hasValidationHook && deps.hook) {
    const hook = await deps.hook.run({
      testUrl: settings.testUrl,
      header: { name: settings.testHeader, value: token },
      color: release.idle,
      image: release.image,
      version: release.version,
    });
    if (!hook.passed) {
      problems.push(`validation hook: ${hook.summary}`);
    }
  }
  if (problems.length > 0) {
    throw releaseError(
      'ValidationFailed',
      `Validation of ${release.image} on ${release.idle} (test listener) failed: ${problems.join('; ')}.`,
    );
  }
  return state;
}
