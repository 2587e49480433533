/**
 * The rehearsal's report: each scenario as a `ReleaseReport` (report/model.ts), the same model `bluegreen report`
 * builds for a real release, rendered by the same module (report/html.ts). JSON for machines (the
 * `ReportDocument` plus the session check and the migrations), and the self-contained HTML page.
 */
import { writeFileSync } from 'node:fs';
import type { StepVerdict } from '../lambda/shared/release';
import type { Color } from '../lambda/shared/release-record';
import { renderReportHtml } from '../report/html';
import { checkVerdicts, hookVerdict, stepVerdicts } from '../report/verdicts';
import type {
  ReleaseReport,
  ReportDocument,
  ReportState,
  ReportVerdict,
  TrafficBucket,
} from '../report/model';
import { nearestRank, type Sample } from './load';
import type { RehearsalResult, ScenarioResult } from './rehearse';

/** Width of one traffic bucket. */
export const BUCKET_MS = 250;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Per color, per 250 ms from `start`: the requests whose answer came back in it, the failed ones (5xx and failed
 * connections) and their p99 latency. A failure no color answered (connection refused) counts for `fallback`, the
 * color that served production when it happened is unknown to the client.
 */
export function trafficBuckets(samples: readonly Sample[], start: number, fallback: Color): TrafficBucket[] {
  const buckets = new Map<string, Sample[]>();
  for (const s of samples) {
    const index = Math.floor((s.at - start) / BUCKET_MS);
    const color: Color = s.color === 'blue' || s.color === 'green' ? s.color : fallback;
    const key = `${index} ${color}`;
    buckets.set(key, [...(buckets.get(key) ?? []), s]);
  }
  return [...buckets.entries()]
    .map(([key, list]) => {
      const [index, color] = key.split(' ');
      return {
        at: iso(start + Number(index) * BUCKET_MS),
        color: color as Color,
        requests: list.length,
        errors: list.filter((s) => s.status === 0 || s.status >= 500).length,
        p99Ms: round(
          nearestRank(
            list.map((s) => s.latencyMs),
            0.99,
          ),
        ),
      };
    })
    .sort((a, b) => a.at.localeCompare(b.at) || a.color.localeCompare(b.color));
}

/** Each state entered, with its exit; a state that failed carries the error it failed with, when known. */
export function reportStates(r: ScenarioResult): ReportState[] {
  const states: { name: string; enteredAt: string; exitedAt?: string; error?: string; cause?: string }[] = [];
  const open = new Map<string, number>();
  const failure = r.execution.lastInput?.failure;
  const events = r.execution.events;
  const lastFailed = [...events].reverse().find((e) => e.type === 'failed');
  for (const e of events) {
    const index = open.get(e.state);
    if (e.type === 'entered') {
      open.set(e.state, states.length);
      states.push({ name: e.state, enteredAt: iso(e.at) });
    } else if (index !== undefined && (e.type === 'exited' || e.type === 'failed')) {
      states[index].exitedAt ??= iso(e.at);
      if (e.type === 'failed') {
        // The caught failure is the one the rollback or abort reports; the execution's own error ends the last.
        const known =
          e === lastFailed
            ? { error: r.execution.error, cause: r.execution.cause }
            : events.some((c) => c.type === 'caught' && c.state === e.state && c.at >= e.at)
              ? { error: failure?.Error, cause: failure?.Cause }
              : {};
        states[index].error = known.error ?? 'failed';
        if (known.cause) {
          states[index].cause = known.cause;
        }
      }
    }
  }
  return states;
}

/**
 * The idle color's checks (when it passed validation), the lifecycle hooks' answers and each shift step's
 * metrics, values beside thresholds.
 */
export function reportVerdicts(r: ScenarioResult): ReportVerdict[] {
  const release = r.execution.output?.release ?? r.execution.lastInput?.release;
  const checks = release?.validation ? checkVerdicts(release.validation, 'Validate idle color') : [];
  // A step is judged once its window's metrics are complete: by the first Analyse step to end after the window.
  const judged = (v: StepVerdict) =>
    r.execution.events.find(
      (e) => e.state === 'Analyse step' && e.type !== 'entered' && e.at >= Date.parse(v.window.end),
    )?.at;
  // Every lifecycle hook's answer (oldest first), when the release called any.
  const hooks = (release?.hooks ?? []).map((h) => hookVerdict(h));
  return [
    ...checks,
    ...hooks,
    ...r.verdicts.flatMap((v) => {
      const at = judged(v);
      return stepVerdicts(v, at === undefined ? v.window.end : iso(at), release?.idle);
    }),
  ];
}

export function scenarioReport(r: ScenarioResult): ReleaseReport {
  const release = r.execution.output?.release ?? r.execution.lastInput?.release;
  const approval = r.execution.output?.approval ?? r.execution.lastInput?.approval;
  const promoted = release?.shift?.promotedBy;
  const from: Color = release?.live ?? (r.liveAfter.startsWith('green') ? 'green' : 'blue');
  const to: Color = release?.idle ?? (from === 'blue' ? 'green' : 'blue');
  const events = r.execution.events;
  const started = events[0]?.at ?? r.loadStartedAt;
  const ended = events[events.length - 1]?.at;
  const rollbackAt = events.find((e) => e.type === 'entered' && e.state === 'Roll back')?.at;
  const l = r.load;
  const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(1)} ms`);
  return {
    app: 'rehearsal',
    release: `rehearsal-${r.scenario.id}-${r.scenario.version}`,
    title: `Scenario ${r.scenario.id}: ${r.scenario.title}`,
    image: release?.image ?? `bluegreen/sample-app:${r.scenario.version}`,
    version: r.scenario.version,
    status: r.execution.status,
    outcome: r.outcome,
    ...(r.execution.error ? { error: r.execution.error } : {}),
    ...(r.execution.cause ? { cause: r.execution.cause } : {}),
    startedAt: iso(started),
    ...(ended !== undefined ? { endedAt: iso(ended) } : {}),
    ...(release?.startedBy ? { startedBy: release.startedBy } : {}),
    approvals: [
      ...(approval
        ? [{ by: approval.approvedBy, at: approval.at, what: approval.comment ?? 'opened the manual gate' }]
        : []),
      ...(promoted
        ? [{ by: promoted.by, at: promoted.at, what: 'promoted to 100% (skipped the steps)' }]
        : []),
    ],
    strategy: r.scenario.strategy ?? 'all at once',
    colors: { from, to },
    states: reportStates(r),
    verdicts: reportVerdicts(r),
    // Before the first change the live color had all of production (each scenario starts from the last one's end).
    weights: [
      { at: iso(r.loadStartedAt), blue: from === 'blue' ? 100 : 0, green: from === 'green' ? 100 : 0 },
      ...r.weightChanges.map((c) => {
        const total = c.weights.blue + c.weights.green;
        return {
          at: iso(c.at),
          blue: total > 0 ? round((100 * c.weights.blue) / total) : 0,
          green: total > 0 ? round((100 * c.weights.green) / total) : 0,
        };
      }),
    ],
    traffic: {
      bucketSeconds: BUCKET_MS / 1000,
      source: "the load generator's requests (answered by the color in the app's x-bluegreen-color header)",
      buckets: trafficBuckets(r.samples, r.loadStartedAt, from),
    },
    ...(rollbackAt !== undefined && r.switchAt !== undefined
      ? { timeToDetectMs: rollbackAt - r.switchAt }
      : {}),
    ...(l.restoreMs !== undefined ? { timeToRestoreMs: l.restoreMs } : {}),
    facts: [
      { label: 'expected', value: r.scenario.expect },
      { label: 'as expected', value: r.passed ? `yes (${r.outcome})` : `NO: ${r.outcome}`, good: r.passed },
      { label: 'live after', value: r.liveAfter },
      {
        label: 'requests (failed)',
        value: `${l.requests} (${l.failed} failed)`,
        good: l.failed === 0 || r.scenario.expect !== 'Released',
      },
      { label: 'p50 / p99 before', value: `${ms(l.p50BeforeMs)} / ${ms(l.p99BeforeMs)}` },
      ...(l.p50SwitchMs !== undefined
        ? [{ label: 'p50 / p99 at switch (2 s)', value: `${ms(l.p50SwitchMs)} / ${ms(l.p99SwitchMs)}` }]
        : []),
      ...(r.switchMs !== undefined ? [{ label: 'Switch traffic took', value: ms(r.switchMs) }] : []),
      ...(r.scaledOut
        ? [
            {
              label: 'scaled out before the release',
              value: `${r.scaledOut.color} ${r.scaledOut.before} → ${r.scaledOut.desired}${r.scaledOut.note ? ` (${r.scaledOut.note})` : ''}`,
            },
          ]
        : []),
    ],
  };
}

/** The rehearsal's report file: the report document and the session's extra data. */
export interface RehearsalReportFile extends ReportDocument {
  readonly session?: RehearsalResult['session'];
  readonly migrations?: RehearsalResult['migrations'];
}

export function rehearsalDocument(result: RehearsalResult, generatedAt = new Date()): RehearsalReportFile {
  return {
    title: 'bluegreen local rehearsal',
    generatedAt: generatedAt.toISOString(),
    reports: result.scenarios.map(scenarioReport),
    ...(result.session ? { session: result.session } : {}),
    ...(result.migrations ? { migrations: result.migrations } : {}),
  };
}

export function writeReport(base: string, doc: RehearsalReportFile): { json: string; html: string } {
  const json = `${base}.json`;
  const html = `${base}.html`;
  writeFileSync(json, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(html, renderReportHtml(doc));
  return { json, html };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
