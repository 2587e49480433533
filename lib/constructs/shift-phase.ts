/**
 * The gradual shift phase of the release state machine (canary and linear strategies), between validation and
 * the final switch:
 *
 *   Gradual shift? ── all at once ──────────────────────────────────────────────► Switch traffic
 *        └─ canary/linear → Shift traffic → Bake step (Wait) → Analyse step → Step verdict
 *                               ▲                  ▲                            │ waiting/extend → Bake step
 *                               └──────────────────┴──── next step ─────────────┤ promote → Switch traffic
 *                                                                               (failed/inconclusive → Roll back)
 *
 * A step the new color was not ready for before any traffic moved aborts; from then on every failure returns all
 * traffic to the old color in one listener change (the Roll back step).
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ReleaseErrors, SHIFT_RECHECK_VERDICTS } from '../../lambda/shared/errors';
import { STATES } from '../../lambda/shared/state-names';
import type { StateHelpers, StepFunctions } from './workflow-states';

export interface ShiftPhaseTargets {
  /** The final 100% (the existing switch, which re-checks the new color and the last step's split). */
  readonly switchTraffic: sfn.IChainable;
  readonly abort: sfn.IChainable;
  readonly rollback: sfn.IChainable;
}

/** The shift phase's entry: the Choice that sends gradual strategies through the steps, the rest to the switch. */
export function shiftPhase(
  scope: Construct,
  fns: Pick<StepFunctions, 'shift' | 'analyse'>,
  helpers: Pick<StateHelpers, 'invoke' | 'retryAllBut' | 'retryIdempotent'>,
  targets: ShiftPhaseTargets,
): sfn.Choice {
  const { invoke, retryAllBut, retryIdempotent } = helpers;
  const shift = invoke(
    STATES.shift,
    fns.shift,
    "New color re-checked, listener where the last step left it; then the step's weights, then the record.",
  );
  // The new color was no longer ready before any traffic moved (first step): a verdict that aborts. A re-check
  // failing at a later step, or a moved listener, is a verdict that rolls back. Anything else: the weights and
  // record are absolute values, so the step is retried, then rolled back.
  shift.addRetry({ errors: [...SHIFT_RECHECK_VERDICTS], maxAttempts: 0 });
  retryIdempotent(shift);
  shift.addCatch(targets.abort, { errors: [ReleaseErrors.IdleNotReady], resultPath: '$.failure' });
  shift.addCatch(targets.rollback, { resultPath: '$.failure' });

  const bake = new sfn.Wait(scope, STATES.stepBake, {
    comment: 'The step bakes; the analysis checks it every watch interval.',
    time: sfn.WaitTime.secondsPath('$.release.shift.waitSeconds'),
  });
  const analyse = invoke(
    STATES.analyse,
    fns.analyse,
    'Listener, health, alarms, promote request; once the window is complete, new color vs old (errors, latency).',
  );
  // A verdict is never retried; a glitch (a throttled API) is, twice.
  retryAllBut(analyse, [
    ReleaseErrors.AnalysisFailed,
    ReleaseErrors.AnalysisInconclusive,
    ReleaseErrors.UnhealthyDuringShift,
    ReleaseErrors.TrafficMovedDuringRelease,
  ]);
  analyse.addCatch(targets.rollback, { resultPath: '$.failure' });
  const verdict = new sfn.Choice(scope, STATES.stepVerdict, {
    comment: "The step's verdict: bake on, the next step, or 100% to the new color.",
  })
    .when(sfn.Condition.stringEquals('$.verdict', 'shift'), shift)
    .when(sfn.Condition.stringEquals('$.verdict', 'promote'), targets.switchTraffic)
    .otherwise(bake);
  shift.next(bake);
  bake.next(analyse);
  analyse.next(verdict);

  return new sfn.Choice(scope, STATES.strategy, {
    comment:
      'Canary and linear strategies move traffic in steps, each judged; all at once goes to the switch.',
  })
    .when(sfn.Condition.isPresent('$.release.shift'), shift)
    .otherwise(targets.switchTraffic);
}
