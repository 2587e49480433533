/**
 * The rehearsal's report: JSON for machines, and a self-contained HTML page with a timeline per scenario
 * (share of traffic per color, failed requests and p99 latency per second, state transitions marked).
 */
import { writeFileSync } from 'node:fs';
import { nearestRank, type Sample } from './load';
import type { ScenarioResult } from './rehearse';

/** Width of one timeline bucket. */
export const BUCKET_MS = 250;

export interface TimelineBucket {
  /** Seconds since the scenario's load started (start of the bucket). */
  readonly t: number;
  readonly blue: number;
  readonly green: number;
  readonly failed: number;
  readonly p99Ms: number;
}

export function timeline(samples: readonly Sample[], start: number): TimelineBucket[] {
  const buckets = new Map<number, Sample[]>();
  for (const s of samples) {
    const t = (Math.floor((s.at - start) / BUCKET_MS) * BUCKET_MS) / 1000;
    buckets.set(t, [...(buckets.get(t) ?? []), s]);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, list]) => {
      const ok = list.filter((s) => s.status > 0 && s.status < 500);
      return {
        t,
        blue: ok.filter((s) => s.color === 'blue').length,
        green: ok.filter((s) => s.color === 'green').length,
        failed: list.length - ok.length,
        p99Ms: nearestRank(
          list.map((s) => s.latencyMs),
          0.99,
        ),
      };
    });
}

export interface ScenarioReport {
  readonly id: number;
  readonly title: string;
  /** How traffic moved (the execution input's strategy); absent: all at once. */
  readonly strategy?: string;
  readonly expected: string;
  readonly outcome: string;
  readonly passed: boolean;
  readonly error?: string;
  readonly cause?: string;
  readonly liveAfter: string;
  readonly load: ScenarioResult['load'];
  readonly switchMs?: number;
  /** A gradual shift's step verdicts, as published (one line each). */
  readonly verdicts?: readonly string[];
  readonly timeline: TimelineBucket[];
  readonly transitions: { readonly t: number; readonly state: string }[];
}

export function scenarioReport(r: ScenarioResult): ScenarioReport {
  const start = r.loadStartedAt;
  const entered = r.execution.events.filter((e) => e.type === 'entered');
  const keyStates = new Set([
    'Prepare',
    'Deploy to idle color',
    'Validate idle color',
    'Shift traffic',
    'Switch traffic',
    'Roll back',
    'Abort',
    'Finish',
  ]);
  return {
    id: r.scenario.id,
    title: r.scenario.title,
    ...(r.scenario.strategy ? { strategy: r.scenario.strategy } : {}),
    expected: r.scenario.expect,
    outcome: r.outcome,
    passed: r.passed,
    error: r.execution.error,
    cause: r.execution.cause,
    liveAfter: r.liveAfter,
    load: r.load,
    switchMs: r.switchMs,
    ...(r.verdicts.length > 0 ? { verdicts: r.verdicts.map((v) => v.summary) } : {}),
    timeline: timeline(r.samples, start),
    transitions: entered
      .filter((e) => keyStates.has(e.state))
      .map((e) => ({ t: (e.at - start) / 1000, state: e.state })),
  };
}

export function writeReport(
  base: string,
  scenarios: readonly ScenarioReport[],
  session?: unknown,
): { json: string; html: string } {
  const json = `${base}.json`;
  const html = `${base}.html`;
  writeFileSync(
    json,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), scenarios, session }, null, 2)}\n`,
  );
  writeFileSync(html, renderHtml(scenarios));
  return { json, html };
}

const BLUE = '#1f77b4';
const GREEN = '#2ca02c';
const RED = '#d62728';

export function renderHtml(scenarios: readonly ScenarioReport[]): string {
  const panels = scenarios.map(renderScenario).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bluegreen rehearsal</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px} h2{font-size:16px;margin:28px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
.ok{color:#2a7d2a;font-weight:600} .bad{color:${RED};font-weight:600} .cause{color:#555;font-size:12px;max-width:1000px}
.legend span{display:inline-block;margin-right:14px} .sw{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>bluegreen local rehearsal</h1>
<p class="legend"><span><i class="sw" style="background:${BLUE}"></i>requests answered by blue</span><span><i class="sw" style="background:${GREEN}"></i>by green</span><span><i class="sw" style="background:${RED}"></i>failed requests</span><span>— p99 latency (right axis)</span><span>┊ state transitions</span></p>
${panels}
</body></html>
`;
}

function renderScenario(s: ScenarioReport): string {
  const l = s.load;
  const fmt = (v: number | undefined, unit = 'ms') => (v === undefined ? '–' : `${v.toFixed(1)} ${unit}`);
  const verdicts = (s.verdicts ?? []).map((v) => `<li>${escape(v)}</li>`).join('');
  return `<h2>Scenario ${s.id}: ${escape(s.title)}</h2>
<p>traffic: ${escape(s.strategy ?? 'all at once')}</p>
<table><tr><th>expected</th><th>outcome</th><th>live after</th><th>requests</th><th>failed</th><th>p50 / p99 before</th><th>p50 / p99 at switch</th><th>switch</th><th>time to restore</th></tr>
<tr><td>${escape(s.expected)}</td><td class="${s.passed ? 'ok' : 'bad'}">${escape(s.outcome)}</td><td>${escape(s.liveAfter)}</td><td>${l.requests}</td><td>${l.failed}</td>
<td>${fmt(l.p50BeforeMs)} / ${fmt(l.p99BeforeMs)}</td><td>${fmt(l.p50SwitchMs)} / ${fmt(l.p99SwitchMs)}</td><td>${fmt(s.switchMs)}</td><td>${l.restoreMs === undefined ? '–' : `${(l.restoreMs / 1000).toFixed(2)} s`}</td></tr></table>
${s.cause ? `<p class="cause">${escape(s.error ?? '')}: ${escape(s.cause)}</p>` : ''}
${verdicts ? `<ol class="cause">${verdicts}</ol>` : ''}
${renderChart(s)}`;
}

function renderChart(s: ScenarioReport): string {
  const W = 1000;
  const H = 220;
  const pad = { l: 50, r: 50, t: 10, b: 30 };
  const buckets = s.timeline;
  const step = BUCKET_MS / 1000;
  const tMax = Math.max(1, ...buckets.map((b) => b.t + step), ...s.transitions.map((x) => x.t));
  const rMax = Math.max(1, ...buckets.map((b) => b.blue + b.green + b.failed));
  const pMax = Math.max(1, ...buckets.map((b) => b.p99Ms));
  const x = (t: number) => pad.l + (t / tMax) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / rMax) * (H - pad.t - pad.b);
  const yp = (v: number) => H - pad.b - (v / pMax) * (H - pad.t - pad.b);
  const bw = Math.max(1, ((W - pad.l - pad.r) * step) / tMax - 1);
  const bars = buckets
    .map((b) => {
      const parts: string[] = [];
      let base = 0;
      for (const [v, color] of [
        [b.blue, BLUE],
        [b.green, GREEN],
        [b.failed, RED],
      ] as const) {
        if (v > 0) {
          parts.push(
            `<rect x="${x(b.t).toFixed(1)}" y="${y(base + v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(base) - y(base + v)).toFixed(1)}" fill="${color}"/>`,
          );
          base += v;
        }
      }
      return parts.join('');
    })
    .join('');
  const line = buckets
    .map((b, i) => `${i === 0 ? 'M' : 'L'}${(x(b.t) + bw / 2).toFixed(1)},${yp(b.p99Ms).toFixed(1)}`)
    .join(' ');
  const marks = s.transitions
    .map(
      (m, i) =>
        `<line x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#555" stroke-dasharray="3,3"/><text x="${(x(m.t) + 3).toFixed(1)}" y="${pad.t + 22 + (i % 3) * 12}" font-size="10" fill="#333">${escape(m.state)}</text>`,
    )
    .join('');
  const every = tMax <= 20 ? 1 : 5;
  const ticks = Array.from({ length: Math.floor(tMax / every) + 1 }, (_, i) => i * every)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${H - 10}" font-size="10" text-anchor="middle">${t}s</text>`)
    .join('');
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="timeline of scenario ${s.id}">
<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
${bars}
<path d="${line}" fill="none" stroke="#222" stroke-width="1.5"/>
${marks}${ticks}
<text x="5" y="${pad.t + 10}" font-size="10">${rMax} req / ${BUCKET_MS} ms</text>
<text x="${W - 5}" y="${pad.t + 10}" font-size="10" text-anchor="end">p99 ${pMax.toFixed(0)} ms</text>
</svg>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
