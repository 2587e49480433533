/**
 * The report page over hand-made reports: self-contained, every verdict's value beside its threshold, text
 * escaped, and every chart of a release on one time axis (the same moment at the same x in each).
 */
import { renderReportHtml } from '../../report/html';
import type { ReleaseReport } from '../../report/model';
import { document, released, rolledBack } from './html-fixture';

const CHARTS = ['states', 'weights', 'requests', 'errors', 'latency'];

function section(html: string, release: string): string {
  const start = html.indexOf(
    `<section class="release" id="release-`,
    html.indexOf(`data-release="${release}"`) - 60,
  );
  const body = html.slice(start, html.indexOf('</section>', start));
  expect(body).toContain(`data-release="${release}"`);
  return body;
}

function chart(body: string, name: string): string {
  const start = body.indexOf(`data-chart="${name}"`);
  expect(start).toBeGreaterThan(0);
  return body.slice(start, body.indexOf('</svg>', start));
}

const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];

/** Each marker's x in a chart, by state. */
function markerXs(svg: string): Record<string, number> {
  return Object.fromEntries(
    [...svg.matchAll(/<line class="marker"[^>]*>/g)].map(([tag]) => [
      attr(tag, 'data-state'),
      Number(attr(tag, 'x1')),
    ]),
  );
}

function tickXs(svg: string): [string, number][] {
  return [...svg.matchAll(/<line class="x-tick"[^>]*>/g)].map(([tag]) => [
    attr(tag, 'data-at')!,
    Number(attr(tag, 'x1')),
  ]);
}

const html = renderReportHtml(document);

test('a self-contained page: nothing fetched, no script', () => {
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).not.toMatch(/<script|<link|<img|src=|url\(|@import|href="http/i);
  expect(html.match(/<section class="release"/g)).toHaveLength(2);
});

test('every release has its summary, states, verdicts and the five charts', () => {
  for (const r of document.reports) {
    const body = section(html, r.release);
    for (const name of CHARTS) {
      expect(body.match(new RegExp(`data-chart="${name}"`, 'g'))).toHaveLength(1);
    }
    expect(body).toContain('<table class="summary">');
    expect(body).toContain('<table class="states">');
    expect(body.match(/<tr class="state[ "]/g)).toHaveLength(r.states.length);
    expect(body.match(/<tr class="verdict /g)).toHaveLength(r.verdicts.length);
  }
  const summary = section(html, released.release);
  expect(summary).toContain('arn:aws:sts::123456789012:assumed-role/deployer/alice');
  expect(summary).toContain('opened the manual gate before the switch by bob at 2026-03-04T14:04:00.000Z');
  expect(summary).toContain('canary 10% for 5 minutes');
  expect(summary).toContain('12 min 0 s'); // duration
  expect(summary).toContain('<th>bake</th><td><span>10 minutes</span>');
  const back = section(html, rolledBack.release);
  expect(back).toMatch(/<th>time to detect<\/th><td>7\.85 s<\/td>/);
  expect(back).toMatch(/<th>time to restore<\/th><td>8\.10 s<\/td>/);
  expect(back).toContain('<span class="status bad">FAILED</span>');
  expect(back).toContain('p99 latency of green: no datapoints from CloudWatch');
});

test("every verdict's value and its threshold are in the verdict's row, with its result", () => {
  for (const r of document.reports) {
    const rows = [...section(html, r.release).matchAll(/<tr class="verdict (pass|fail)">(.*?)<\/tr>/g)];
    r.verdicts.forEach((v, i) => {
      const [, result, row] = rows[i];
      expect(result).toBe(v.passed ? 'pass' : 'fail');
      expect(row).toContain(`<td class="value">${escaped(v.value)}</td>`);
      expect(row).toContain(`<td class="threshold">${escaped(v.threshold)}</td>`);
      expect(row).toContain(v.passed ? 'passed' : 'FAILED');
    });
  }
});

const escaped = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

test('text is escaped everywhere', () => {
  expect(html).toContain('shop 1.4.3 &#60;rolled back&#62;');
  expect(html).toContain('alarm &#60;b&#62;shop-green-5xx&#60;/b&#62; in ALARM &#38; 1016 5xx in 3s');
  expect(html).toContain('shop-blue-5xx &#60;alarm&#62;');
  expect(html).not.toMatch(/<b>|<rolled back>|<alarm>/);
  const evil: ReleaseReport = {
    ...rolledBack,
    release: '"><script>alert(1)</script>',
    states: [
      { name: '</text><script>x</script>', enteredAt: rolledBack.startedAt, exitedAt: rolledBack.endedAt },
    ],
    facts: [{ label: '<i>label</i>', value: "it's <b>" }],
  };
  const page = renderReportHtml({ ...document, title: '<title>', reports: [evil] });
  expect(page).not.toMatch(/<script|<\/text><script|<i>label|<b>/);
  expect(page).toContain('&#60;/text&#62;&#60;script&#62;x&#60;/script&#62;');
});

describe('one time axis per release', () => {
  test.each([released, rolledBack])('$release: the same moment is at the same x in every chart', (r) => {
    const body = section(html, r.release);
    const svgs = CHARTS.map((name) => chart(body, name));
    // The same ticks at the same x everywhere, and several of them.
    const ticks = svgs.map(tickXs);
    expect(ticks[0].length).toBeGreaterThanOrEqual(5);
    for (const t of ticks) {
      expect(t).toEqual(ticks[0]);
    }
    // Each transition's marker at the same x in every chart, where its state's bar starts.
    const markers = svgs.map(markerXs);
    expect(Object.keys(markers[0]).length).toBeGreaterThanOrEqual(4);
    for (const m of markers) {
      expect(m).toEqual(markers[0]);
    }
    for (const [state, x] of Object.entries(markers[0])) {
      const bar = svgs[0].match(new RegExp(`<rect class="state-bar" data-state="${state}"[^>]*>`))![0];
      expect(Number(attr(bar, 'x'))).toBe(x);
    }
    // Every plot spans the same x range (its time axis line).
    const axisLines = svgs.map((svg) =>
      svg.match(/<line x1="([\d.]+)" x2="([\d.]+)" y1="[\d.]+" y2="[\d.]+" stroke="#888"\/>/)!.slice(1),
    );
    for (const line of axisLines) {
      expect(line).toEqual(axisLines[0]);
    }
  });

  test('traffic and weights are drawn at the times they happened', () => {
    const body = section(html, released.release);
    // Traffic moved (10% to green) when Shift traffic was entered: the weights step and green's first requests
    // are at that marker's x.
    const x = markerXs(chart(body, 'weights'))['Shift traffic'];
    const green = (svg: string) => attr(svg.match(/<path class="series" data-color="green"[^>]*>/)![0], 'd')!;
    expect(green(chart(body, 'weights'))).toContain(`H${x}V`);
    // Green's requests: 0 until then, 100 a minute from then on (a higher line is a smaller y).
    const requests = green(chart(body, 'requests'));
    const zero = Number(requests.match(/^M[\d.]+,([\d.]+)/)![1]);
    const after = Number(requests.match(new RegExp(`H${x}V([\\d.]+)`))![1]);
    expect(after).toBeLessThan(zero);
    expect(requests.slice(0, requests.indexOf(`H${x}V`))).not.toMatch(new RegExp(`V(?!${zero}(H|$))`));
    // Clock time for a 12-minute release, seconds for a 9-second one.
    expect(chart(body, 'requests')).toContain('>14:04</text>');
    expect(chart(section(html, rolledBack.release), 'requests')).toContain('>4 s</text>');
  });

  test('value axes show 0, intermediate values and a nice maximum, with units', () => {
    const requests = chart(section(html, released.release), 'requests');
    const labels = [...requests.matchAll(/<text class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '250', '500', '750', '1000']);
    expect(requests).toContain('>requests</text>');
    expect(requests).toContain('Requests per color per minute');
    const weights = chart(section(html, released.release), 'weights');
    expect([...weights.matchAll(/<text class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([
      '0',
      '25',
      '50',
      '75',
      '100',
    ]);
  });
});

test('a release still running, without traffic figures or weights: bars run to the axis end, the charts say so', () => {
  const running: ReleaseReport = {
    ...released,
    status: 'RUNNING',
    outcome: undefined,
    endedAt: undefined,
    states: [
      { name: 'Prepare', enteredAt: released.startedAt, exitedAt: released.states[0].exitedAt },
      { name: 'Wait for approval', enteredAt: released.states[0].exitedAt! },
    ],
    weights: [],
    traffic: undefined,
    verdicts: [],
  };
  const page = renderReportHtml({ ...document, reports: [running] });
  const body = section(page, running.release);
  expect(body).toContain('<span class="status neutral">RUNNING</span>');
  expect(body).toContain('not yet (running)');
  expect(body).toContain('No verdicts recorded.');
  for (const name of ['requests', 'errors', 'latency']) {
    expect(chart(body, name)).toContain('no traffic figures for this release');
  }
  expect(chart(body, 'weights')).not.toContain('class="series"');
  const bar = chart(body, 'states').match(/<rect class="state-bar" data-state="Wait for approval"[^>]*>/)![0];
  // The axis runs to when the report was made (2 hours on), where the running state's bar ends.
  expect(Number(attr(bar, 'x')) + Number(attr(bar, 'width'))).toBeCloseTo(1000 - 24, 0);
  expect(Number(attr(bar, 'width'))).toBeGreaterThan(700);
  expect(chart(body, 'states')).toContain('>16:00</text>');
});
