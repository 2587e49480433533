/**
 * The one report renderer: a `ReportDocument` (report/model.ts) as a self-contained HTML page (inline CSS and SVG,
 * no scripts, nothing fetched), one section per release: a summary, the states, every verdict with its value
 * beside its threshold, and the charts on one time axis (report/charts.ts). Used by the rehearsal (`npm start`)
 * and by `bluegreen report`.
 *
 * Stable hooks for tests and tools: each release is `<section class="release" data-release="...">`; tables are
 * `table.summary`, `table.states`, `table.verdicts` (rows `tr.verdict.pass` / `tr.verdict.fail`); charts are
 * `svg[data-chart=states|weights|requests|errors|latency]`.
 */
import { charts, COLORS, esc } from './charts';
import type { ReleaseReport, ReportDocument } from './model';

export function renderReportHtml(doc: ReportDocument): string {
  const toc =
    doc.reports.length > 1
      ? `<ol class="toc">${doc.reports
          .map(
            (r, i) =>
              `<li><a href="#release-${i + 1}">${esc(r.title)}</a> <span class="${statusClass(r)}">${esc(r.outcome ?? r.status)}</span></li>`,
          )
          .join('')}</ol>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.title)}</title>
<style>${CSS}</style></head><body>
<h1>${esc(doc.title)}</h1>
<p class="generated">generated ${esc(doc.generatedAt)}</p>
${LEGEND}
${toc}
${doc.reports.map((r, i) => section(r, i + 1, doc.generatedAt)).join('\n')}
</body></html>
`;
}

const CSS = `
body{font:14px system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1040px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:36px 0 8px;padding-top:12px;border-top:2px solid #ddd}
h3{font-size:14px;margin:16px 0 4px}
.generated{color:#666;font-size:12px;margin:0 0 10px}
table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}
td,th{border:1px solid #d6d6d6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
table.summary th{width:190px}
table.states td:first-child{white-space:nowrap} table.verdicts td:nth-child(3){min-width:170px} table.verdicts td:nth-child(2){white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok,.pass td.passed{color:#217a21;font-weight:600} .bad,.fail td.passed{color:#c62121;font-weight:600}
.neutral{font-weight:600}
.cause{color:#444;font-size:12px;max-width:1000px;white-space:pre-wrap}
.gaps{background:#fff6e0;border:1px solid #f0d9a0;padding:6px 10px;font-size:13px}
.legend span{display:inline-block;margin-right:16px;font-size:12px}
.sw{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}
.dash{display:inline-block;width:0;height:12px;border-left:1px dashed #666;margin:0 6px;vertical-align:middle}
svg.chart{display:block;margin:6px 0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
`;

const LEGEND = `<p class="legend"><span><i class="sw" style="background:${COLORS.blue}"></i>blue</span><span><i class="sw" style="background:${COLORS.green}"></i>green</span><span><i class="dash"></i>state transition (same time on every chart of a release)</span><span><i class="sw" style="background:#d62728;height:8px"></i>a state that failed</span></p>`;

function statusClass(r: ReleaseReport): string {
  const text = `${r.outcome ?? ''} ${r.status}`.toUpperCase();
  if (/SUCCEEDED|RELEASED/.test(text) && !/ROLL|FAIL|ABORT/.test(r.outcome?.toUpperCase() ?? '')) {
    return 'ok';
  }
  return r.status === 'RUNNING' ? 'neutral' : 'bad';
}

function section(r: ReleaseReport, n: number, now: string): string {
  return `<section class="release" id="release-${n}" data-release="${esc(r.release)}">
<h2>${esc(r.title)}</h2>
${summary(r)}
${r.gaps && r.gaps.length > 0 ? `<div class="gaps"><strong>Not in this report:</strong><ul>${r.gaps.map((g) => `<li>${esc(g)}</li>`).join('')}</ul></div>` : ''}
<h3>Timeline</h3>
${charts(r, now)}
<h3>States</h3>
${states(r)}
<h3>Verdicts</h3>
${verdicts(r)}
</section>`;
}

function summary(r: ReleaseReport): string {
  const rows: [string, string][] = [
    ['release', esc(r.release)],
    ['app', esc(r.app)],
    [
      'image',
      esc(
        [r.image, r.version && r.image?.endsWith(`:${r.version}`) ? '' : r.version]
          .filter(Boolean)
          .join(' ') || '–',
      ),
    ],
    [
      'status',
      `<span class="status ${statusClass(r)}">${esc(r.status)}</span>${r.outcome && r.outcome !== r.status ? ` · outcome <span class="outcome ${statusClass(r)}">${esc(r.outcome)}</span>` : ''}`,
    ],
    ['colors', `${esc(r.colors.from)} → ${esc(r.colors.to)}`],
    ['strategy', esc(r.strategy ?? '–')],
    ['started', `${esc(r.startedAt)}${r.startedBy ? ` by ${esc(r.startedBy)}` : ''}`],
    ['ended', esc(r.endedAt ?? 'not yet (running)')],
    ['duration', r.endedAt ? esc(duration(Date.parse(r.endedAt) - Date.parse(r.startedAt))) : '–'],
    [
      'approvals',
      r.approvals.length === 0
        ? 'none'
        : r.approvals.map((a) => `${esc(a.what)} by ${esc(a.by)} at ${esc(a.at)}`).join('<br>'),
    ],
  ];
  if (r.timeToDetectMs !== undefined) {
    rows.push(['time to detect', esc(duration(r.timeToDetectMs))]);
  }
  if (r.timeToRestoreMs !== undefined) {
    rows.push(['time to restore', esc(duration(r.timeToRestoreMs))]);
  }
  for (const f of r.facts ?? []) {
    const cls = f.good === undefined ? '' : f.good ? ' class="ok"' : ' class="bad"';
    rows.push([esc(f.label), `<span${cls}>${esc(f.value)}</span>`]);
  }
  if (r.error || r.cause) {
    rows.push(['error', `<span class="bad">${esc(r.error ?? '')}</span>`]);
    rows.push(['cause', `<div class="cause">${esc(r.cause ?? '')}</div>`]);
  }
  if (r.traffic) {
    rows.push(['traffic figures', esc(`${r.traffic.source}, ${r.traffic.bucketSeconds} s buckets`)]);
  }
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function states(r: ReleaseReport): string {
  if (r.states.length === 0) {
    return '<p>No state history.</p>';
  }
  const rows = r.states.map((s) => {
    const took = s.exitedAt ? duration(Date.parse(s.exitedAt) - Date.parse(s.enteredAt)) : 'running';
    const error = s.error
      ? `<span class="bad">${esc(s.error)}</span>${s.cause ? `<div class="cause">${esc(s.cause)}</div>` : ''}`
      : '';
    return `<tr class="state${s.error ? ' failed' : ''}"><td>${esc(s.name)}</td><td class="num">${esc(time(s.enteredAt))}</td><td class="num">${esc(s.exitedAt ? time(s.exitedAt) : '–')}</td><td class="num">${esc(took)}</td><td>${error}</td></tr>`;
  });
  return `<table class="states"><tr><th>state</th><th>entered</th><th>exited</th><th>duration</th><th>error</th></tr>${rows.join('')}</table>`;
}

function verdicts(r: ReleaseReport): string {
  if (r.verdicts.length === 0) {
    return '<p class="no-verdicts">No verdicts recorded.</p>';
  }
  const rows = r.verdicts.map(
    (v) =>
      `<tr class="verdict ${v.passed ? 'pass' : 'fail'}"><td class="num">${esc(time(v.at))}</td><td>${esc(v.kind)}</td><td>${esc(v.name)}${v.state ? `<div class="cause">${esc(v.state)}</div>` : ''}</td><td class="value">${esc(v.value)}</td><td class="threshold">${esc(v.threshold)}</td><td class="passed">${v.passed ? 'passed' : 'FAILED'}</td></tr>`,
  );
  return `<table class="verdicts"><tr><th>time</th><th>kind</th><th>name</th><th>value</th><th>threshold</th><th>result</th></tr>${rows.join('')}</table>`;
}

/** HH:MM:SS.mmm (UTC) of an ISO time; the text as given when it is not one. */
function time(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(11, 23) : iso;
}

/** 850 ms, 4.25 s, 3 min 5 s, 2 h 4 min. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) {
    return '–';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(2)} s`;
  }
  const s = Math.round(ms / 1000);
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
