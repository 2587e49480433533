/**
 * Time to detect and time to restore of a release that rolled back, from what its history says:
 * - only for a release the workflow sent to "Roll back" (outcome ROLLED_BACK or ROLLBACK_FAILED); a check that
 *   failed and recovered on a release that went on is no detection;
 * - detection: the failure a Catch caught just before "Roll back" was entered (what sent it there), or, when that
 *   state data is missing (cut short), the last failing verdict before it, advisory and inconclusive ones aside;
 *   an inconclusive analysis that rolled the release back detected nothing;
 * - time to detect: from the first time traffic moved to the new color to that detection;
 * - time to restore: from the detection to the end of "Roll back" (traffic back on the old color).
 * A rollback by hand (`bluegreen rollback`) has neither: an operator decided, and the CLI moved traffic outside
 * the history.
 */
import { ReleaseErrors } from '../lambda/shared/errors';
import type { ReportVerdict } from './model';
import { decisiveFailure } from './verdicts';

/** What the history says of the workflow's "Roll back" step. */
export interface RollbackSeen {
  readonly enteredAt: string;
  /** The failure caught by the state that went to "Roll back" (its exit, the event before). */
  readonly caught?: { readonly at: string; readonly error: string };
  /** When "Roll back" ended with traffic back on the old color (absent when it failed or still runs). */
  readonly doneAt?: string;
  readonly failed: boolean;
}

export interface Detection {
  readonly timeToDetectMs?: number;
  readonly timeToRestoreMs?: number;
  readonly gaps: readonly string[];
}

export function detection(
  movedAt: string | undefined,
  rollback: RollbackSeen | undefined,
  verdicts: readonly ReportVerdict[],
  manual: boolean,
): Detection {
  if (manual) {
    return {
      gaps: [
        'An operator rolled the release back by hand (bluegreen rollback; the cause says who and why): no check of ' +
          'the workflow detected a fault, and the CLI moved traffic outside the history, so time to detect and to ' +
          'restore are not given.',
      ],
    };
  }
  if (!rollback || !movedAt) {
    return { gaps: [] };
  }
  if (rollback.caught?.error === ReleaseErrors.AnalysisInconclusive) {
    return {
      gaps: [
        'The release rolled back because its analysis was inconclusive (too little traffic to judge), not because a ' +
          'check failed: time to detect and to restore are not given.',
      ],
    };
  }
  const detectedAt =
    rollback.caught?.at ??
    [...verdicts].reverse().find((v) => decisiveFailure(v) && v.at >= movedAt && v.at <= rollback.enteredAt)
      ?.at;
  if (!detectedAt) {
    return {
      gaps: [
        'The release rolled back after traffic moved, but the history holds neither the failure that sent it to ' +
          '"Roll back" nor a failing check before it (its state data was cut short?): time to detect is unknown.',
      ],
    };
  }
  const timeToDetectMs = Math.max(0, Date.parse(detectedAt) - Date.parse(movedAt));
  if (!rollback.doneAt) {
    return {
      timeToDetectMs,
      gaps: [
        rollback.failed
          ? 'The rollback failed: the history does not show traffic back on the old color, so time to restore is not given.'
          : 'The rollback has not ended yet: time to restore is not known.',
      ],
    };
  }
  return { timeToDetectMs, timeToRestoreMs: Date.parse(rollback.doneAt) - Date.parse(detectedAt), gaps: [] };
}
