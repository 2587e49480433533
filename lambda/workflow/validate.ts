/**
 * Validate: test the idle color through the test listener before it sees a single user: smoke checks (status,
 * version, latency budget), target health, and the optional user validation hook. Any failure: ValidationFailed.
 */
import { smokeCheckProblem } from '../shared/decisions';
import { releaseError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import {
  requireRelease,
  type CheckResult,
  type ReleaseState,
  type SmokeCheck,
  type WorkflowSettings,
} from '../shared/release';
import type { ProbeResult } from '../shared/ports';

export async function validate(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'probe' | 'router' | 'testToken' | 'hook' | 'now'>,
  settings: Pick<WorkflowSettings, 'testUrl' | 'testHeader' | 'smokeChecks' | 'hasValidationHook'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  let token = await deps.testToken();
  let smoke = await smokeChecks(token, release.version, deps, settings);
  if (smoke.forbidden) {
    // The token is cached for the life of a warm Lambda: after a rotation the listener answers 403. Read the
    // secret again, once, and run the checks with the fresh token.
    token = await deps.testToken({ fresh: true });
    smoke = await smokeChecks(token, release.version, deps, settings);
  }
  const checks: CheckResult[] = [...smoke.checks];
  const problems = [...smoke.problems];
  if (smoke.forbidden) {
    problems.push(
      `the test listener answers 403 to the token read just now from the secret: does its rule match the ` +
        `secret's value (${settings.testHeader})?`,
    );
  }
  const health = await deps.router.targetHealth(release.idle);
  const healthy = health.healthy >= release.liveCount && health.notHealthy === 0;
  checks.push({
    name: 'target health',
    value: `${health.healthy} healthy, ${health.notHealthy} not`,
    threshold: `at least ${release.liveCount} healthy, none unhealthy`,
    passed: healthy,
  });
  if (!healthy) {
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
    checks.push({ name: 'validation hook', value: hook.summary, threshold: 'passed', passed: hook.passed });
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
  return { ...state, release: { ...release, validation: { at: deps.now().toISOString(), checks } } };
}

/**
 * The smoke checks through the test listener with `token`: each check's value beside its threshold, the
 * problems found, and `forbidden` when the listener answered 403.
 */
export async function smokeChecks(
  token: string,
  version: string,
  deps: Pick<WorkflowDeps, 'probe'>,
  settings: Pick<WorkflowSettings, 'testHeader' | 'testUrl' | 'smokeChecks'>,
): Promise<{ checks: CheckResult[]; problems: string[]; forbidden: boolean }> {
  const headers = { [settings.testHeader]: token };
  const problems: string[] = [];
  const checks: CheckResult[] = [];
  let forbidden = false;
  for (const check of settings.smokeChecks) {
    // Allow a slow answer to arrive (and be reported as over budget), but never hang the step.
    const timeoutMs = Math.min(Math.max(check.latencyBudgetMs * 5, 2000), 10_000);
    const result = await deps.probe.get(`${settings.testUrl}${check.path}`, headers, timeoutMs);
    forbidden ||= result.status === 403 && check.expectStatus !== 403;
    const problem = smokeCheckProblem(check, result, version);
    checks.push(smokeResult(check, result, version, problem));
    if (problem) {
      problems.push(problem);
    }
  }
  return { checks, problems, forbidden };
}

function smokeResult(
  check: SmokeCheck,
  result: ProbeResult,
  version: string,
  problem: string | undefined,
): CheckResult {
  const seen =
    result.status === 0
      ? `no response (${result.error ?? 'connection failed'})`
      : `status ${result.status}, ${Math.round(result.latencyMs)} ms` +
        (check.expectVersion ? `, version ${result.body.includes(version) ? '' : 'not '}in the body` : '');
  return {
    name: `GET ${check.path}`,
    value: seen,
    threshold:
      `status ${check.expectStatus}, at most ${check.latencyBudgetMs} ms` +
      (check.expectVersion ? `, body contains ${version}` : ''),
    passed: problem === undefined,
  };
}
