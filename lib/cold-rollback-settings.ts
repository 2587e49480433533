/**
 * What `bluegreen rollback` needs to bring back a color that went cold, from the stack: the window, the deadline,
 * the poll interval, the smoke checks and the Validate Lambda that runs them, as the stack output COLD_ROLLBACK_OUTPUT (compact JSON: the smoke checks
 * as the Validate step gets them). Plain functions (no CDK): the CLI reads them back.
 */
import { decodeSmokeChecks, encodeSmokeChecks } from '../lambda/adapters/step-environment';
import type { SmokeCheck } from '../lambda/shared/release';

export const COLD_ROLLBACK_OUTPUT = 'ColdRollbackSettings';

export interface ColdRollbackStackSettings {
  /** release.coldRollbackWindowHours */
  readonly windowHours: number;
  /** release.deployTimeoutSeconds: how long the cold color has to become healthy. */
  readonly timeoutSeconds: number;
  /** release.deployPollSeconds */
  readonly pollSeconds: number;
  readonly smokeChecks: readonly SmokeCheck[];
  /** The header that opens the test listener (its value is the test-traffic secret). */
  readonly testHeader: string;
  /**
   * The workflow's Validate Lambda: it runs in the VPC, where the test listener admits it, so the CLI invokes it to
   * validate the cold color (the operator's machine cannot reach the test listener).
   */
  readonly validateFunctionArn: string;
}

/** The smoke checks the Validate step runs: the configured ones, or GET on the health check's path. */
export function configuredSmokeChecks(config: {
  readonly healthCheck: { readonly path: string };
  readonly release: { readonly smokeChecks?: readonly SmokeCheck[] };
}): readonly SmokeCheck[] {
  return (
    config.release.smokeChecks ?? [
      { path: config.healthCheck.path, expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
    ]
  );
}

export function encodeColdRollbackSettings(settings: ColdRollbackStackSettings): string {
  return JSON.stringify({
    windowHours: settings.windowHours,
    timeoutSeconds: settings.timeoutSeconds,
    pollSeconds: settings.pollSeconds,
    smokeChecks: encodeSmokeChecks(settings.smokeChecks),
    testHeader: settings.testHeader,
    validateFunctionArn: settings.validateFunctionArn,
  });
}

/** The output's value back; undefined when it is not what encodeColdRollbackSettings writes. */
export function decodeColdRollbackSettings(value: string): ColdRollbackStackSettings | undefined {
  try {
    const raw = JSON.parse(value) as Record<string, unknown>;
    const { windowHours, timeoutSeconds, pollSeconds, smokeChecks, testHeader, validateFunctionArn } = raw;
    if (
      [windowHours, timeoutSeconds, pollSeconds].every((n) => typeof n === 'number' && n > 0) &&
      typeof smokeChecks === 'string' &&
      typeof testHeader === 'string' &&
      typeof validateFunctionArn === 'string'
    ) {
      return {
        windowHours: windowHours as number,
        timeoutSeconds: timeoutSeconds as number,
        pollSeconds: pollSeconds as number,
        smokeChecks: decodeSmokeChecks(smokeChecks),
        testHeader,
        validateFunctionArn,
      };
    }
  } catch {
    // not JSON: undefined below
  }
  return undefined;
}
