import { BUCKET_MS, renderHtml, timeline, type ScenarioReport } from '../../rehearsal/report';

describe('rehearsal report', () => {
  test('timeline: requests per color, failures and p99 per bucket', () => {
    const start = 1_000_000;
    const buckets = timeline(
      [
        { startedAt: start + 10, at: start + 10, status: 200, latencyMs: 5, color: 'blue' },
        { startedAt: start + 20, at: start + 20, status: 200, latencyMs: 7, color: 'blue' },
        {
          startedAt: start + BUCKET_MS + 5,
          at: start + BUCKET_MS + 5,
          status: 200,
          latencyMs: 9,
          color: 'green',
        },
        {
          startedAt: start + BUCKET_MS + 6,
          at: start + BUCKET_MS + 6,
          status: 500,
          latencyMs: 30,
          color: 'green',
        },
      ],
      start,
    );
    expect(buckets).toEqual([
      { t: 0, blue: 2, green: 0, failed: 0, p99Ms: 7 },
      { t: BUCKET_MS / 1000, blue: 0, green: 1, failed: 1, p99Ms: 30 },
    ]);
  });

  test('the HTML page is self-contained: tables, an SVG timeline per scenario, escaped causes', () => {
    const scenario: ScenarioReport = {
      id: 2,
      title: 'Release v3',
      expected: 'RolledBack',
      outcome: 'RolledBack',
      passed: true,
      error: 'RolledBack',
      cause: 'alarm <b>5xx</b>',
      liveAfter: 'green v2',
      load: {
        requests: 10,
        failed: 2,
        p50BeforeMs: 3,
        p99BeforeMs: 9,
        restoreMs: 1040,
        byColor: { green: 10 },
      },
      timeline: [{ t: 0, blue: 0, green: 8, failed: 2, p99Ms: 12 }],
      transitions: [{ t: 0.1, state: 'Switch traffic' }],
    };
    const html = renderHtml([scenario]);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src=/); // nothing external
    expect(html).toContain('<svg');
    expect(html).toContain('Switch traffic');
    expect(html).toContain('alarm &#60;b&#62;5xx&#60;/b&#62;');
    expect(html).toContain('1.04 s');
  });
});
