/**
 * Axis ticks for the report's charts: "nice numbers" (1, 2, 2.5, 5 × 10^k) from 0 to a nice maximum for values, and
 * for time either seconds since the axis starts (rehearsal scenarios, a few minutes at most) or the clock (HH:MM,
 * UTC) at nice minute or hour steps (real releases).
 */

/**
 * The smallest nice step (1, 2, 2.5, 5 × 10^k; for whole numbers 1, 2, 5 × 10^k and at least 1) with at most
 * `count` intervals up to `span`.
 */
export function niceStep(span: number, count: number, integer = false): number {
  if (!(span > 0) || !Number.isFinite(span)) {
    return 1;
  }
  const rough = span / Math.max(1, count);
  if (integer && rough <= 1) {
    return 1;
  }
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of integer && power < 10 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]) {
    if (m * power >= rough * (1 - 1e-9)) {
      return m * power;
    }
  }
  return 10 * power;
}

/**
 * Ticks of a value axis from 0: 0, nice intermediate values, and a nice maximum at or above `max` (the axis' top),
 * with at most `count` intervals; `integer`: whole steps (counts). A max of 0 (or less) gives the axis 0..1.
 */
export function valueTicks(max: number, count = 4, integer = false): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const step = niceStep(top, count, integer);
  const n = Math.ceil(top / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => round(i * step));
}

/** A tick's label: no float noise (0.30000000000000004), thousands as 1.5k above 10,000. */
export function formatTick(value: number): string {
  if (Math.abs(value) >= 10_000) {
    return `${round(value / 1000)}k`;
  }
  return String(round(value));
}

function round(v: number): number {
  return Number(v.toPrecision(12));
}

export interface TimeTick {
  /** Epoch ms. */
  readonly at: number;
  readonly label: string;
}

/** The axis' unit: seconds since its start for short spans, the clock (UTC) beyond. */
export type TimeMode = 'seconds' | 'clock';

/** Spans up to this long get seconds since the start; longer ones the clock. */
export const SECONDS_AXIS_MAX_MS = 5 * 60_000;

export function timeMode(startMs: number, endMs: number): TimeMode {
  return endMs - startMs <= SECONDS_AXIS_MAX_MS ? 'seconds' : 'clock';
}

const CLOCK_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/**
 * Ticks of a time axis from `startMs` to `endMs`, at most about `count` intervals. In seconds mode the ticks are
 * 0 s, nice steps, up to the end ("12 s"); in clock mode whole minutes or hours of the clock ("14:05"), the first
 * at or after the start.
 */
export function timeTicks(
  startMs: number,
  endMs: number,
  count = 8,
  mode = timeMode(startMs, endMs),
): TimeTick[] {
  const span = Math.max(endMs - startMs, 1);
  if (mode === 'seconds') {
    const step = niceStep(span / 1000, count);
    const ticks: TimeTick[] = [];
    for (let i = 0; i * step * 1000 <= span + 1e-6; i++) {
      const s = round(i * step);
      ticks.push({ at: startMs + s * 1000, label: `${formatTick(s)} s` });
    }
    return ticks;
  }
  const minutes = span / 60_000;
  const stepMin =
    CLOCK_STEPS_MIN.find((m) => minutes / m <= count) ?? Math.ceil(minutes / count / 1440) * 1440;
  const stepMs = stepMin * 60_000;
  const ticks: TimeTick[] = [];
  for (let at = Math.ceil(startMs / stepMs) * stepMs; at <= endMs; at += stepMs) {
    ticks.push({ at, label: clock(at) });
  }
  return ticks;
}

/** HH:MM (UTC). */
export function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 16);
}
