/**
 * The cold rollback's validation of the color it brought back: the Validate step's own checks (smoke checks
 * through the test listener, target health, the validation hook), run where they can reach the test listener.
 * The CLI invokes the stack's Validate Lambda (in the VPC, behind the NAT gateways the test port admits) with the
 * state built here; the rehearsal and the tests run the same core (validate) with their local ports.
 */
import { BluegreenError } from '../shared/errors';
import type { WorkflowDeps } from '../shared/ports';
import type { CheckResult, ReleaseState, WorkflowSettings } from '../shared/release';
import { otherColor, type Color } from '../shared/release-record';
import { validate } from './validate';

/** What the cold rollback validates: the cold color, what it runs, the version /version must say, its count. */
export interface ColdTarget {
  readonly owner: string;
  readonly color: Color;
  readonly image: string;
  readonly revision: string;
  /** '' when unknown: then no body has to contain it. */
  readonly version: string;
  readonly count: number;
}

export interface ColdValidation {
  readonly passed: boolean;
  /** Each check's value beside its threshold (when it passed; the Validate step reports failures as problems). */
  readonly checks: readonly CheckResult[];
  readonly problems: readonly string[];
}

/** The port: validates the cold color (the test listener already points at it). */
export type ValidateColor = (target: ColdTarget) => Promise<ColdValidation>;

/** The Validate step's input for the cold color: a release of its image to it, the live count as its count. */
export function coldValidationState(target: ColdTarget, now: Date): ReleaseState {
  return {
    execution: target.owner,
    release: {
      image: target.image,
      version: target.version,
      live: otherColor(target.color),
      idle: target.color,
      liveCount: target.count,
      idleBefore: { count: 0, image: target.image, revision: target.revision },
      timings: {
        bakeSeconds: 0,
        watchIntervalSeconds: 0,
        failureThreshold: 1,
        deployTimeoutSeconds: 0,
        deployPollSeconds: 0,
        finishDelaySeconds: 0,
      },
      startedAt: now.toISOString(),
      revision: target.revision,
    },
  };
}

/** The Validate step's answer as a ColdValidation: its checks, or its ValidationFailed cause as the problem. */
export async function asColdValidation(run: () => Promise<ReleaseState>): Promise<ColdValidation> {
  try {
    const state = await run();
    return { passed: true, checks: state.release?.validation?.checks ?? [], problems: [] };
  } catch (e) {
    if (e instanceof BluegreenError && e.name === 'ValidationFailed') {
      return { passed: false, checks: [], problems: [e.message] };
    }
    throw e;
  }
}

/** The same core as the Validate Lambda, with local ports (the rehearsal, the tests). */
export function validateLocally(
  deps: Pick<WorkflowDeps, 'probe' | 'router' | 'testToken' | 'hook' | 'now'>,
  settings: Pick<WorkflowSettings, 'testUrl' | 'testHeader' | 'smokeChecks' | 'hasValidationHook'>,
): ValidateColor {
  return (target) =>
    asColdValidation(() => validate(coldValidationState(target, deps.now()), deps, settings));
}
