/**
 * Gradual shifts (canary, linear) as the CLI shows them: which step a release is at, how production traffic is
 * split, the analysis' verdicts and a promotion, all read from the release a shift state carries
 * (`release.shift`). Shared by `release --wait`, `status` and `promote`.
 */
import type { Release, Shift, StepVerdict } from '../lambda/shared/release';
import { STATES } from '../lambda/shared/state-names';
import { ALL_AT_ONCE, describeStrategy, type Strategy } from '../lambda/shared/strategy';
import type { TrafficWeights } from '../lambda/shared/traffic';

/** The states of the shift phase: a step's weights set, its bake, its analysis, and the choice on its verdict. */
export const SHIFT_STATES: readonly string[] = [
  STATES.shift,
  STATES.stepBake,
  STATES.analyse,
  STATES.stepVerdict,
];

/** The release is in a gradual shift: in one of its states, carrying where the shift stands. */
export function shiftOf(state: string | undefined, release: Release | undefined): Shift | undefined {
  return state !== undefined && SHIFT_STATES.includes(state) ? release?.shift : undefined;
}

/** How the release moves traffic: its shift's strategy, else the one it was given, else all at once. */
export function strategyOf(release: Release | undefined): Strategy {
  return release?.shift?.strategy ?? release?.strategy ?? ALL_AT_ONCE;
}

/** A shift's colors: traffic moves from `live` (the old color, live per the record until the end) to `idle`. */
export type ShiftColors = Pick<Release, 'live' | 'idle'>;

/** The new color's share of production traffic at the current step, in percent (one decimal). */
export function newColorPercent(release: ShiftColors, shift: Shift): number {
  if (shift.weights) {
    const total = shift.weights.blue + shift.weights.green;
    return total === 0 ? 0 : Math.round((shift.weights[release.idle] * 1000) / total) / 10;
  }
  return shift.steps[shift.step] ?? 0;
}

/** "step 2 of 3: green 50%, blue 50%" ("before step 1 of 3" until the first step's weights are set). */
export function stepLine(release: ShiftColors, shift: Shift): string {
  const of = shift.steps.length;
  if (shift.step < 0) {
    return `before step 1 of ${of}: all production traffic on ${release.live}`;
  }
  const percent = newColorPercent(release, shift);
  const rest = Math.round((100 - percent) * 10) / 10;
  return `step ${shift.step + 1} of ${of}: ${release.idle} ${percent}%, ${release.live} ${rest}%`;
}

/** One verdict, one line: "step 1 verdict: <its summary>" (and what a dry run did not do). */
export function verdictLine(verdict: StepVerdict): string {
  // The summary names the step and, in dry run, what a real run would have done.
  const dry =
    verdict.wouldHave && !verdict.summary.includes('DRY RUN')
      ? ` (dry run: would have ${verdictAction(verdict.wouldHave)})`
      : '';
  return `${verdict.summary}${dry}`;
}

function verdictAction(action: 'rollback' | 'extend'): string {
  return action === 'rollback' ? 'rolled back' : 'baked the step again';
}

/** The lines `bluegreen status` shows for a release in a gradual shift. */
export function shiftStatusLines(release: ShiftColors, shift: Shift, latest = 3): string[] {
  const lines = [
    `strategy: ${describeStrategy(shift.strategy)}` +
      (shift.dryRun ? ' (dry run: verdicts are reported, not acted on)' : ''),
    stepLine(release, shift) +
      (shift.extensions > 0 ? ` (baked again ${shift.extensions}x: inconclusive)` : ''),
  ];
  const shown = shift.verdicts.slice(-latest);
  if (shown.length < shift.verdicts.length) {
    lines.push(`verdicts (the latest ${shown.length} of ${shift.verdicts.length}):`);
  } else if (shown.length > 0) {
    lines.push('verdicts:');
  }
  lines.push(...shown.map((v) => `  ${verdictLine(v)}`));
  if (shift.promotedBy) {
    lines.push(
      `promoted by ${shift.promotedBy.by} at ${shift.promotedBy.at}: the remaining steps are skipped`,
    );
  }
  return lines;
}

/** What `release --wait` reports of a shift, once each: a step's split, a verdict, a promotion. */
export type ShiftNews =
  | {
      readonly type: 'step';
      readonly step: number;
      readonly of: number;
      readonly percent: number;
      readonly weights?: TrafficWeights;
      readonly line: string;
    }
  | { readonly type: 'verdict'; readonly verdict: StepVerdict; readonly line: string }
  | { readonly type: 'promoted'; readonly by: string; readonly at: string; readonly line: string };

/** Remembers what was reported, so each step, verdict and promotion is told once as the history is read. */
export class ShiftProgress {
  private step = -1;
  private verdicts = 0;
  private promoted = false;
  /** The current step, as the last shift state read said it (for the spinner). */
  current?: string;

  news(release: Release | undefined, shift: Shift | undefined): ShiftNews[] {
    if (!release || !shift) {
      return [];
    }
    const out: ShiftNews[] = [];
    // Verdicts first: a step's verdict comes before the next step's weights.
    for (const verdict of shift.verdicts.slice(this.verdicts)) {
      out.push({ type: 'verdict', verdict, line: verdictLine(verdict) });
    }
    this.verdicts = Math.max(this.verdicts, shift.verdicts.length);
    this.current = stepLine(release, shift);
    if (shift.step > this.step) {
      this.step = shift.step;
      out.push({
        type: 'step',
        step: shift.step + 1,
        of: shift.steps.length,
        percent: newColorPercent(release, shift),
        ...(shift.weights ? { weights: shift.weights } : {}),
        line: stepLine(release, shift),
      });
    }
    if (shift.promotedBy && !this.promoted) {
      this.promoted = true;
      const { by, at } = shift.promotedBy;
      out.push({
        type: 'promoted',
        by,
        at,
        line: `promoted by ${by} at ${at}: the remaining steps are skipped, on to 100%`,
      });
    }
    return out;
  }
}
