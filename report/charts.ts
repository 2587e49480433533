/**
 * The report's charts (inline SVG), every chart of one release on ONE time axis: the same plot left and right
 * edges and the same time → x mapping, so a moment is at the same x in the state bars, the weights, the requests,
 * the errors and the latency. State transitions are dashed vertical lines at the same x in every chart; their
 * labels are laid out in rows above the state bars (report/layout.ts), where each bar's lane also carries its name.
 */
import type { Color } from '../lambda/shared/release-record';
import { CHAR_PX, LABEL_FONT_PX, packLabels } from './layout';
import type { ReleaseReport, ReportState, TrafficBucket } from './model';
import { formatTick, timeMode, timeTicks, valueTicks, type TimeMode, type TimeTick } from './ticks';

/** Geometry shared by every chart: the plot spans [LEFT, WIDTH - RIGHT] horizontally. */
export const WIDTH = 1000;
export const LEFT = 170;
export const RIGHT = 24;
const TITLE_H = 20;
const AXIS_H = 30;
const PLOT_H = 110;
const LANE_H = 15;
const ROW_H = 13;

export const COLORS: Readonly<Record<Color, string>> = { blue: '#1f77b4', green: '#2ca02c' };
const FAILED = '#d62728';

export interface TimeAxis {
  readonly start: number;
  readonly end: number;
  readonly mode: TimeMode;
  readonly ticks: readonly TimeTick[];
  x(at: number): number;
}

const ms = (iso: string) => Date.parse(iso);

/**
 * One axis for every chart of a release: from its first to its last time across states, weights and traffic; a
 * release still running reaches `now` (when the report was made), where its running state's bar ends.
 */
export function timeAxis(report: ReleaseReport, now?: string): TimeAxis {
  const times = [
    ms(report.startedAt),
    ...(report.endedAt ? [ms(report.endedAt)] : now ? [ms(now)] : []),
    ...report.states.flatMap((s) => [ms(s.enteredAt), ...(s.exitedAt ? [ms(s.exitedAt)] : [])]),
    ...report.weights.map((w) => ms(w.at)),
    ...(report.traffic?.buckets ?? []).flatMap((b) => [
      ms(b.at),
      ms(b.at) + report.traffic!.bucketSeconds * 1000,
    ]),
  ].filter((t) => Number.isFinite(t));
  const start = Math.min(...times);
  const end = Math.max(start + 1000, ...times);
  const mode = timeMode(start, end);
  const span = WIDTH - LEFT - RIGHT;
  return {
    start,
    end,
    mode,
    ticks: timeTicks(start, end, 10, mode),
    x: (at: number) => round1(LEFT + ((at - start) / (end - start)) * span),
  };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** The state transitions marked on every chart: the release's milestones and every state that failed. */
export function markers(report: ReleaseReport): { at: number; state: string }[] {
  const seen = new Set<string>();
  const marked: { at: number; state: string }[] = [];
  for (const s of report.states) {
    if (seen.has(s.name)) {
      continue;
    }
    seen.add(s.name);
    if (MILESTONE.test(s.name) || s.error !== undefined) {
      marked.push({ at: ms(s.enteredAt), state: s.name });
    }
  }
  return marked;
}

/** The states a reader looks for on the time axis (the release workflow's phases, gates, hooks and endings). */
const MILESTONE =
  /^(Prepare|Deploy to idle color|Validate idle color|Shift traffic|Switch traffic|Finish|Roll back|Abort)$|approv|gate|migrat|hook|expand|backfill|contract/i;

/** A state's lanes: one per state name, in the order first entered (so a later state is always lower). */
export function lanes(states: readonly ReportState[]): { name: string; entries: ReportState[] }[] {
  const byName = new Map<string, ReportState[]>();
  for (const s of states) {
    byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  }
  return [...byName.entries()].map(([name, entries]) => ({ name, entries }));
}

interface Frame {
  readonly chart: string;
  readonly title: string;
  readonly axis: TimeAxis;
  /** Extra space above the plot (the state chart's label rows). */
  readonly band?: number;
  readonly plotHeight: number;
  readonly y?: { readonly ticks: readonly number[]; readonly unit: string };
  readonly marks: readonly { at: number; state: string }[];
  /** Draws the plot's content given its top y. */
  readonly body: (top: number) => string;
  readonly extra?: (top: number) => string;
}

function frame(f: Frame): string {
  const band = f.band ?? 0;
  const top = TITLE_H + band;
  const bottom = top + f.plotHeight;
  const height = bottom + AXIS_H;
  const right = WIDTH - RIGHT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${f.chart}" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(f.title)}">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text class="chart-title" x="${LEFT}" y="14" font-size="12" font-weight="600">${esc(f.title)}</text>`,
  ];
  if (f.y) {
    const max = f.y.ticks[f.y.ticks.length - 1];
    for (const t of f.y.ticks) {
      const y = round1(bottom - (t / max) * f.plotHeight);
      parts.push(
        `<line class="grid" x1="${LEFT}" x2="${right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
        `<text class="y-tick" x="${LEFT - 6}" y="${y + 3.5}" font-size="${LABEL_FONT_PX}" text-anchor="end">${esc(formatTick(t))}</text>`,
      );
    }
    parts.push(
      `<text class="y-unit" x="${LEFT - 6}" y="14" font-size="${LABEL_FONT_PX}" text-anchor="end" fill="#555">${esc(f.y.unit)}</text>`,
    );
  }
  parts.push(f.body(top));
  for (const m of f.marks) {
    const x = f.axis.x(m.at);
    parts.push(
      `<line class="marker" data-state="${esc(m.state)}" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#666" stroke-dasharray="3,3"><title>${esc(m.state)}</title></line>`,
    );
  }
  if (f.extra) {
    parts.push(f.extra(top));
  }
  parts.push(`<line x1="${LEFT}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`);
  for (const t of f.axis.ticks) {
    const x = f.axis.x(t.at);
    parts.push(
      `<line class="x-tick" data-at="${t.at}" x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" stroke="#888"/>`,
      `<text class="x-label" x="${x}" y="${bottom + 15}" font-size="${LABEL_FONT_PX}" text-anchor="middle">${esc(t.label)}</text>`,
    );
  }
  const unit =
    f.axis.mode === 'seconds'
      ? `seconds since ${new Date(f.axis.start).toISOString().slice(11, 19)} UTC`
      : 'time (UTC)';
  parts.push(
    `<text class="x-unit" x="${right}" y="${bottom + 27}" font-size="${LABEL_FONT_PX}" text-anchor="end" fill="#555">${unit}</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** (a) The states as bars, one lane per state in the order entered, with the transitions' labels above. */
export function stateChart(report: ReleaseReport, axis: TimeAxis): string {
  const marks = markers(report);
  const placed = packLabels(
    marks.map((m) => ({ x: axis.x(m.at), text: m.state })),
    WIDTH - RIGHT,
  );
  const rows = placed.length === 0 ? 0 : Math.max(...placed.map((p) => p.row)) + 1;
  const band = rows * ROW_H + 4;
  const laneList = lanes(report.states);
  const maxChars = Math.floor((LEFT - 12) / CHAR_PX);
  const body = (top: number) =>
    laneList
      .map((lane, i) => {
        const y = top + i * LANE_H;
        const name =
          [...lane.name].length > maxChars ? `${[...lane.name].slice(0, maxChars - 1).join('')}…` : lane.name;
        const bars = lane.entries.map((s) => {
          const x0 = axis.x(ms(s.enteredAt));
          const x1 = axis.x(s.exitedAt ? ms(s.exitedAt) : axis.end);
          const fill = s.error ? FAILED : s.exitedAt ? '#7f8fa6' : '#c0c8d4';
          const tip = `${s.name}: ${s.enteredAt} → ${s.exitedAt ?? 'running'}${s.error ? ` (${s.error})` : ''}`;
          return `<rect class="state-bar" data-state="${esc(s.name)}" data-lane="${i}" x="${x0}" y="${y + 2}" width="${Math.max(1.5, round1(x1 - x0))}" height="${LANE_H - 4}" fill="${fill}"><title>${esc(tip)}</title></rect>`;
        });
        return [
          i % 2 === 0
            ? `<rect x="${LEFT}" y="${y}" width="${WIDTH - LEFT - RIGHT}" height="${LANE_H}" fill="#f7f7f7"/>`
            : '',
          `<text class="lane-label" data-lane="${i}" x="${LEFT - 6}" y="${y + LANE_H - 4}" font-size="${LABEL_FONT_PX}" text-anchor="end"${lane.entries.some((s) => s.error) ? ` fill="${FAILED}"` : ''}>${esc(name)}<title>${esc(lane.name)}</title></text>`,
          ...bars,
        ].join('');
      })
      .join('\n');
  const labels = () =>
    placed
      .map(
        (p) =>
          `<text class="marker-label" data-state="${esc(p.text)}" data-row="${p.row}" data-x0="${round1(p.x0)}" data-x1="${round1(p.x1)}" x="${round1(p.x0)}" y="${TITLE_H + p.row * ROW_H + 10}" font-size="${LABEL_FONT_PX}" fill="#333">${esc(p.text)}</text>`,
      )
      .join('\n');
  return frame({
    chart: 'states',
    title: 'States (one lane per state, in the order entered)',
    axis,
    band,
    plotHeight: Math.max(1, laneList.length) * LANE_H,
    marks,
    body,
    extra: labels,
  });
}

/** (b) The production listener's share of traffic per color, a step line (each weight holds until the next). */
export function weightsChart(report: ReleaseReport, axis: TimeAxis): string {
  const points = [...report.weights].sort((a, b) => ms(a.at) - ms(b.at));
  const body = (top: number) => {
    const y = (pct: number) => round1(top + PLOT_H - (pct / 100) * PLOT_H);
    return (['blue', 'green'] as const)
      .map((color) => {
        if (points.length === 0) {
          return '';
        }
        const d = points
          .map((p, i) => {
            const total = p.blue + p.green;
            const pct = total > 0 ? (100 * p[color]) / total : 0;
            const x = axis.x(ms(p.at));
            return i === 0 ? `M${x},${y(pct)}` : `H${x}V${y(pct)}`;
          })
          .join('');
        return `<path class="series" data-color="${color}" d="${d}H${axis.x(axis.end)}" fill="none" stroke="${COLORS[color]}" stroke-width="2"/>`;
      })
      .join('\n');
  };
  return frame({
    chart: 'weights',
    title: 'Production traffic weight per color',
    axis,
    plotHeight: PLOT_H,
    y: { ticks: [0, 25, 50, 75, 100], unit: '% of traffic' },
    marks: markers(report),
    body,
  });
}

type Metric = 'requests' | 'errors' | 'p99Ms';

/** (c), (d), (e): a traffic metric per color per bucket, as step lines. */
export function trafficChart(report: ReleaseReport, axis: TimeAxis, metric: Metric): string {
  const traffic = report.traffic;
  const bucketMs = (traffic?.bucketSeconds ?? 60) * 1000;
  const per = traffic ? perBucket(traffic.bucketSeconds) : '';
  const spec = {
    requests: { chart: 'requests', title: `Requests per color${per}`, unit: 'requests' },
    errors: { chart: 'errors', title: `Errors (5xx and failed connections) per color${per}`, unit: 'errors' },
    p99Ms: { chart: 'latency', title: `p99 latency per color${per}`, unit: 'ms' },
  }[metric];
  const buckets = traffic?.buckets ?? [];
  const values = buckets.map((b) => b[metric]).filter((v): v is number => v !== undefined);
  const ticks = valueTicks(Math.max(0, ...values), 4, metric !== 'p99Ms');
  const max = ticks[ticks.length - 1];
  // The buckets' grid, from the first to the last: a count missing on it is 0, a missing latency is a gap.
  const first = Math.min(...buckets.map((b) => ms(b.at)));
  const slot = (at: number) => Math.round((at - first) / bucketMs);
  const slots = buckets.length === 0 ? 0 : Math.max(...buckets.map((b) => slot(ms(b.at)))) + 1;
  const body = (top: number) => {
    const y = (v: number) => round1(top + PLOT_H - (v / max) * PLOT_H);
    return (['blue', 'green'] as const)
      .map((color) => {
        const mine = new Map<number, TrafficBucket>(
          buckets.filter((b) => b.color === color).map((b) => [slot(ms(b.at)), b]),
        );
        if (mine.size === 0) {
          return '';
        }
        let d = '';
        let open = false;
        for (let i = 0; i < slots; i++) {
          const b = mine.get(i);
          const v = metric === 'p99Ms' ? b?.p99Ms : (b?.[metric] ?? 0);
          if (v === undefined) {
            open = false;
            continue;
          }
          const t = first + i * bucketMs;
          d += open ? `V${y(v)}H${axis.x(t + bucketMs)}` : `M${axis.x(t)},${y(v)}H${axis.x(t + bucketMs)}`;
          open = true;
        }
        return `<path class="series" data-color="${color}" d="${d}" fill="none" stroke="${COLORS[color]}" stroke-width="1.5"/>`;
      })
      .join('\n');
  };
  return frame({
    chart: spec.chart,
    title: spec.title,
    axis,
    plotHeight: PLOT_H,
    y: { ticks, unit: spec.unit },
    marks: markers(report),
    body: traffic
      ? body
      : (top) =>
          `<text x="${LEFT + 8}" y="${top + PLOT_H / 2}" font-size="11" fill="#777">no traffic figures for this release</text>`,
  });
}

function perBucket(seconds: number): string {
  return seconds % 60 === 0 ? ` per ${seconds === 60 ? '' : `${seconds / 60} `}minute` : ` per ${seconds} s`;
}

/** Every chart of a release, on one time axis (`now`: when the report was made, the end of a running release). */
export function charts(report: ReleaseReport, now?: string): string {
  const axis = timeAxis(report, now);
  return [
    stateChart(report, axis),
    weightsChart(report, axis),
    trafficChart(report, axis, 'requests'),
    trafficChart(report, axis, 'errors'),
    trafficChart(report, axis, 'p99Ms'),
  ].join('\n');
}

/** Text and attribute values, escaped for HTML and SVG. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
