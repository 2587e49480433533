/**
 * What is live right now: the release record and the production listener read side by side, with any drift
 * between them. Used by the dashboard's live-color widget (and by the CLI's status command later).
 */
import type { ReleaseRecord, ReleaseRecordStore, TrafficRouter } from './ports';
import { COLORS } from './release-record';
import { describeTraffic, findDrift, routedTraffic, type Drift, type TrafficWeights } from './traffic';

export interface LiveStatus {
  readonly record: ReleaseRecord;
  readonly weights: TrafficWeights;
  readonly drift?: Drift;
}

export async function readLiveStatus(
  deps: { record: Pick<ReleaseRecordStore, 'read'>; router: Pick<TrafficRouter, 'productionWeights'> },
  recordParameter: string,
): Promise<LiveStatus> {
  const [record, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
  // A gradual shift's split, as the record holds it, is no drift: the dashboard shows the split.
  return { record, weights, drift: findDrift(record.liveColor, weights, recordParameter, record.weights) };
}

const SWATCH = { blue: '#1f77b4', green: '#2ca02c' } as const;

/** The widget's HTML: the live color in large type, each color's image and traffic share, drift in red. */
export function renderLiveStatus(appName: string, status: LiveStatus): string {
  const { record, weights, drift } = status;
  const total = weights.blue + weights.green;
  const rows = COLORS.map((c) => {
    const share = total === 0 ? 0 : Math.round((weights[c] * 100) / total);
    const role = c === record.liveColor ? 'live (per record)' : 'idle';
    return (
      `<tr><td><b style="color:${SWATCH[c]}">${c}</b></td><td>${role}</td>` +
      `<td>${share}%</td><td><code>${escapeHtml(record.images[c])}</code></td></tr>`
    );
  }).join('');
  const headline = drift
    ? `<h2 style="color:#d62728">DRIFT: record says ${record.liveColor}, listener sends ${escapeHtml(describeTraffic(drift.routed))}</h2>` +
      `<p>${escapeHtml(drift.message)}</p>`
    : `<h2><span style="color:${SWATCH[record.liveColor]}">${record.liveColor.toUpperCase()}</span> is live</h2>`;
  return (
    `${headline}<table><tr><th>color</th><th>role</th><th>production traffic</th><th>image</th></tr>${rows}</table>` +
    `<p><small>${escapeHtml(appName)}: ${escapeHtml(describeTraffic(routedTraffic(weights)))}; read at ${new Date().toISOString()}</small></p>`
  );
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
