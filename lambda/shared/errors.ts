/**
 * Named errors: `name` is what a Step Functions Retry/Catch matches on, and the message is the cause an
 * operator reads in the console, so it says what was found and what to do.
 */
export class BluegreenError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The release record in SSM is missing or holds something that is not a valid record. */
export function recordInvalid(message: string): BluegreenError {
  return new BluegreenError('RecordInvalid', message);
}

/** The load balancer is not configured the way bluegreen built it (unknown target group, no forward action). */
export function routerInvalid(message: string): BluegreenError {
  return new BluegreenError('RouterInvalid', message);
}

/**
 * Every error a release can end with, by name. These are what Step Functions Catch/Retry match and what an
 * operator sees as the execution's error in the console (README "Errors").
 */
export const ReleaseErrors = {
  /** The execution input is wrong; nothing was changed. */
  InvalidInput: 'InvalidInput',
  /** Another release of the same app holds the lock; nothing was changed. */
  ReleaseInProgress: 'ReleaseInProgress',
  /** The release record and the production listener disagree; nothing was changed. */
  Drift: 'Drift',
  /** The idle color did not become stable and healthy (crash loop, failed rollout). Traffic never moved. */
  DeployFailed: 'DeployFailed',
  /** The idle color was not ready before the deploy deadline. Traffic never moved. */
  DeployTimeout: 'DeployTimeout',
  /** Smoke checks, target health or the validation hook failed on the idle color. Traffic never moved. */
  ValidationFailed: 'ValidationFailed',
  /**
   * Just before the switch, the idle color was no longer what validation saw (tasks lost, another revision,
   * unhealthy targets): the switch did not happen. Traffic never moved.
   */
  IdleNotReady: 'IdleNotReady',
  /**
   * Auto scaling: the live color scaled out since the deploy, and the new color, scaled out to match, still runs
   * fewer tasks than it will have to serve. The switch waits (the state machine tries it again,
   * CATCH_UP_SCHEDULE); if the tasks never come, the release aborts with it. Traffic never moved.
   */
  CapacityCatchingUp: 'CapacityCatchingUp',
  /** The same, at the promotion to 100% after a gradual shift: if the tasks never come, the release rolls back. */
  CapacityCatchingUpDuringShift: 'CapacityCatchingUpDuringShift',
  /**
   * The production listener was changed under the release (a cdk deploy whose change set predates the switch,
   * an operator): bluegreen put all traffic on a healthy color and the record follows it; no color with
   * production weight is ever scaled down.
   */
  TrafficMovedDuringRelease: 'TrafficMovedDuringRelease',
  /**
   * A gradual shift's analysis found the new color worse than the old one (a critical metric failed, or one of
   * the user's alarms went off): all traffic goes back to the old color in one listener change.
   */
  AnalysisFailed: 'AnalysisFailed',
  /** A shift step had too little traffic to judge, and the policy (or its extensions) says roll back. */
  AnalysisInconclusive: 'AnalysisInconclusive',
  /**
   * During a gradual shift the new color stopped serving (targets unhealthy, tasks lost, its alarm went off):
   * all traffic goes back to the old color.
   */
  UnhealthyDuringShift: 'UnhealthyDuringShift',
  /** The new live color failed during the bake; traffic was switched back to the old color. */
  RolledBack: 'RolledBack',
  /**
   * The admission hook (`release.hooks.beforeDeploy`) answered FAILED, gave no valid answer (ERROR) or none in
   * time (TIMED_OUT): the release is refused before anything is registered or deployed.
   */
  AdmissionRefused: 'AdmissionRefused',
  /**
   * The production hook (`release.hooks.afterShift`), run against production during the bake, answered FAILED,
   * ERROR or TIMED_OUT: all traffic goes back to the old color.
   */
  ProductionHookFailed: 'ProductionHookFailed',
  /**
   * The hook step itself (not the hook: its FAILED, ERROR and TIMED_OUT are answers) failed after its retries,
   * so the hook gave no answer: the admission hook's refuses the release, the production hook's rolls it back.
   * Named by the state machine (lib/constructs/hook-phase.ts); the cause gives the step's error and message.
   */
  HookStepFailed: 'HookStepFailed',
  /** Switching back failed: traffic and record may be on the failing color. Operators must act. */
  RollbackFailed: 'RollbackFailed',
  /** The expand migrations failed: nothing was deployed, traffic never moved. */
  ExpandFailed: 'ExpandFailed',
  /** The backfill migrations failed: no switch; the idle color went back to what it was. */
  BackfillFailed: 'BackfillFailed',
  /**
   * The contract migrations failed (after the release, or the previous release's at this one's start). Traffic
   * was not touched; the contract runs again at the next release's start.
   */
  ContractFailed: 'ContractFailed',
} as const;

/**
 * Re-checks before traffic moves during a gradual shift (and at its final switch) end in these verdicts, never
 * retried: the idle color not ready before any traffic moved (abort), the new color lost or the listener moved
 * under the shift (roll back).
 */
export const SHIFT_RECHECK_VERDICTS = [
  ReleaseErrors.IdleNotReady,
  ReleaseErrors.UnhealthyDuringShift,
  ReleaseErrors.TrafficMovedDuringRelease,
] as const;

/**
 * A fleet change has to wait for an earlier one to stop (an instance refresh still cancelling). Never waited for
 * inside a step: the step fails with it and the state machine retries the step after an interval.
 */
export const FLEET_BUSY = 'RefreshStillActive';

/**
 * How a step that failed with FLEET_BUSY is tried again (the state machine's Retry, and `bluegreen rollback`):
 * after 20 s, then 1.5 times longer each time, 6 times (about 6 minutes in all).
 */
export const FLEET_BUSY_SCHEDULE = { intervalSeconds: 20, backoffRate: 1.5, maxAttempts: 6 } as const;

/**
 * How a switch that failed with CapacityCatchingUp(DuringShift) is tried again while the new color's tasks start:
 * after 30 s, then 1.5 times longer each time, 5 times (about 6.5 minutes in all, CATCH_UP_SECONDS).
 */
export const CATCH_UP_SCHEDULE = { intervalSeconds: 30, backoffRate: 1.5, maxAttempts: 5 } as const;
export const CATCH_UP_SECONDS = Array.from(
  { length: CATCH_UP_SCHEDULE.maxAttempts },
  (_, i) => CATCH_UP_SCHEDULE.intervalSeconds * CATCH_UP_SCHEDULE.backoffRate ** i,
).reduce((a, b) => a + b, 0);

/** The error `bluegreen rollback` stops a release with (StopExecution), so its Stopped report can say so. */
export const MANUAL_ROLLBACK = 'ManualRollback';

export function releaseError(name: keyof typeof ReleaseErrors, message: string): BluegreenError {
  return new BluegreenError(ReleaseErrors[name], message);
}
