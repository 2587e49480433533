/**
 * Where the report's transition labels go: greedy interval packing into rows, so no two labels' boxes overlap
 * however close their transitions are. A label's width is measured as `CHAR_PX` per character at the 10 px font
 * the charts use (generous for the system sans-serif fonts' digits and lower case).
 */

export const LABEL_FONT_PX = 10;
export const CHAR_PX = 6;
/** Space kept between two labels of one row. */
export const LABEL_GAP_PX = 6;

export interface LabelInput {
  /** Where the label's marker is (px); the label starts just right of it. */
  readonly x: number;
  readonly text: string;
}

export interface PlacedLabel extends LabelInput {
  /** The box the label's text occupies, [x0, x1) horizontally, in row `row` (0 = top). */
  readonly x0: number;
  readonly x1: number;
  readonly row: number;
}

export function labelWidth(text: string): number {
  return [...text].length * CHAR_PX;
}

/**
 * Each label in the first row (top down) whose last label ends, with the gap, before this one starts; labels are
 * taken from left to right. A label that would run past `right` is drawn ending at `right` (its marker then at its
 * right end) so it stays inside the chart.
 */
export function packLabels(labels: readonly LabelInput[], right = Infinity): PlacedLabel[] {
  const ends: number[] = [];
  const sorted = labels
    .map((label, index) => ({ label, index }))
    .sort((a, b) => a.label.x - b.label.x || a.index - b.index);
  const placed: { index: number; placed: PlacedLabel }[] = [];
  for (const { label, index } of sorted) {
    const width = labelWidth(label.text);
    let x0 = label.x + 3;
    if (x0 + width > right) {
      x0 = Math.max(0, right - width);
    }
    let row = ends.findIndex((end) => end + LABEL_GAP_PX <= x0);
    if (row < 0) {
      row = ends.length;
      ends.push(-Infinity);
    }
    ends[row] = x0 + width;
    placed.push({ index, placed: { ...label, x0, x1: x0 + width, row } });
  }
  return placed.sort((a, b) => a.index - b.index).map((p) => p.placed);
}

/** True when two placed labels' boxes overlap (same row, intersecting spans). */
export function overlaps(a: PlacedLabel, b: PlacedLabel): boolean {
  return a.row === b.row && a.x0 < b.x1 && b.x0 < a.x1;
}
