/**
 * How the stack hands its settings to the step functions, and how a step reads them back: Lambda allows 4 KB of
 * environment per function, so the settings every step needs travel in BLUEGREEN_SETTINGS (JSON), and the smoke
 * checks, the one list that grows with the config and that only the Validate step reads, travel to that step
 * alone, compactly, in BLUEGREEN_SMOKE_CHECKS. The stack checks the result against the limit at synth
 * (lib/constructs/environment-size.ts).
 */
import type { SmokeCheck } from '../shared/release';

export const SETTINGS_VARIABLE = 'BLUEGREEN_SETTINGS';
export const SMOKE_CHECKS_VARIABLE = 'BLUEGREEN_SMOKE_CHECKS';

/** One smoke check as `[path, expectStatus, expectVersion (1 or 0), latencyBudgetMs]`. */
type EncodedCheck = [string, number, 0 | 1, number];

export function encodeSmokeChecks(checks: readonly SmokeCheck[]): string {
  return JSON.stringify(
    checks.map((c): EncodedCheck => [c.path, c.expectStatus, c.expectVersion ? 1 : 0, c.latencyBudgetMs]),
  );
}

export function decodeSmokeChecks(raw: string): SmokeCheck[] {
  return (JSON.parse(raw) as EncodedCheck[]).map(([path, expectStatus, expectVersion, latencyBudgetMs]) => ({
    path,
    expectStatus,
    expectVersion: expectVersion === 1,
    latencyBudgetMs,
  }));
}

/**
 * The AWS settings the Validate step's ports take (router, test token, hook; the probe takes none): its
 * environment, the one that also carries the smoke checks, leaves the others (fleet, alarms, lock, topic,
 * migrations) out. Its core (workflow/validate.ts) uses no other port.
 */
export const VALIDATE_AWS_SETTINGS = [
  'targetGroups',
  'productionListenerArn',
  'testRuleArn',
  'testTokenSecretArn',
  'validationHookArn',
] as const;
