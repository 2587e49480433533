/**
 * The rehearsal's report: each scenario's result as a ReleaseReport (the model `bluegreen report` fills for a
 * real release), rendered by the one renderer (report/html.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseState, StepVerdict } from '../../lambda/shared/release';
import type { Sample } from '../../rehearsal/load';
import type { RehearsalResult, ScenarioResult } from '../../rehearsal/rehearse';
import {
  BUCKET_MS,
  rehearsalDocument,
  reportStates,
  scenarioReport,
  trafficBuckets,
  writeReport,
} from '../../rehearsal/report';
import type { StateEvent } from '../../rehearsal/workflow-runner';
import { tempDir } from '../support/temp';

const START = Date.parse('2026-03-04T15:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const sample = (at: number, status: number, latencyMs: number, color?: string): Sample => ({
  startedAt: START + at - latencyMs,
  at: START + at,
  status,
  latencyMs,
  ...(color ? { color } : {}),
});

test('traffic: per color per 250 ms, the requests, the failed ones (5xx and no answer) and their p99', () => {
  const buckets = trafficBuckets(
    [
      sample(10, 200, 5, 'blue'),
      sample(20, 200, 7, 'blue'),
      sample(BUCKET_MS + 5, 200, 9, 'green'),
      sample(BUCKET_MS + 6, 503, 30, 'green'),
      // Refused before any color answered: counted for the color given for unknown ones.
      sample(BUCKET_MS + 7, 0, 1),
    ],
    START,
    'blue',
  );
  expect(buckets).toEqual([
    { at: iso(START), color: 'blue', requests: 2, errors: 0, p99Ms: 7 },
    { at: iso(START + BUCKET_MS), color: 'blue', requests: 1, errors: 1, p99Ms: 1 },
    { at: iso(START + BUCKET_MS), color: 'green', requests: 2, errors: 1, p99Ms: 30 },
  ]);
});

const events = (list: [StateEvent['type'], string, number][]): StateEvent[] =>
  list.map(([type, state, at]) => ({ type, state, at: START + at }));

const stepVerdict: StepVerdict = {
  step: 1,
  percent: 25,
  window: { start: iso(START + 2000), end: iso(START + 5000) },
  result: 'fail',
  metrics: [
    {
      metric: 'errors',
      critical: true,
      result: 'pass',
      old: '0 of 900 failed (0%)',
      new: '0 of 300 failed (0%)',
      test: "Fisher's exact test, one-sided (new fails more often)",
      value: 1,
      threshold: 0.005,
      explanation: 'errors: pass',
    },
    {
      metric: 'latency',
      critical: true,
      result: 'fail',
      old: '7.5 ms',
      new: '112.5 ms',
      test: 'ratio new/old, at most 1.25 (differences under 20 ms never fail)',
      value: 15,
      threshold: 1.25,
      explanation: 'latency: fail',
    },
  ],
  alarms: [],
  action: 'rollback',
  summary: 'FAIL: latency',
};

const lastInput = {
  execution: 'rehearsal-5-v6',
  release: {
    image: 'bluegreen/sample-app:v6',
    version: 'v6',
    live: 'green',
    idle: 'blue',
    startedAt: iso(START + 500),
    startedBy: 'npm start (local rehearsal)',
    validation: {
      at: iso(START + 1500),
      checks: [
        {
          name: 'GET /health',
          value: 'status 200, 9 ms',
          threshold: 'status 200, at most 1000 ms',
          passed: true,
        },
        { name: 'target health', value: '2 healthy, 0 not', threshold: 'at least 2 healthy', passed: true },
      ],
    },
    hooks: [
      {
        hook: 'beforeDeploy',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:admit',
        status: 'IN_PROGRESS',
        summary: 'scanning the image',
        attempt: 1,
        at: iso(START + 600),
      },
      {
        hook: 'beforeDeploy',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:admit',
        status: 'FAILED',
        summary: 'CVE-2026-1 in <openssl>',
        attempt: 2,
        at: iso(START + 900),
      },
    ],
  },
  failure: { Error: 'AnalysisFailed', Cause: 'latency: ratio 15 (limit 1.25)' },
  approval: { approvedBy: 'npm start --approve-after', at: iso(START + 1800) },
} as unknown as ReleaseState;

const result: ScenarioResult = {
  scenario: {
    id: 5,
    title: 'Release v6, 100 ms slower',
    version: 'v6',
    strategy: 'canary:25:5s',
    expect: 'RolledBack',
  },
  execution: {
    status: 'FAILED',
    error: 'RolledBack',
    cause: 'AnalysisFailed: step 1 <failed>. Rolled back.',
    states: [],
    events: events([
      ['entered', 'Prepare', 500],
      ['exited', 'Prepare', 510],
      ['entered', 'Validate idle color', 1000],
      ['exited', 'Validate idle color', 1500],
      ['entered', 'Shift traffic', 2000],
      ['exited', 'Shift traffic', 2010],
      ['entered', 'Analyse step', 5000],
      ['failed', 'Analyse step', 5020],
      ['caught', 'Analyse step', 5020],
      ['entered', 'Roll back', 5020],
      ['exited', 'Roll back', 5060],
      ['entered', 'Rolled back', 5060],
      ['failed', 'Rolled back', 5060],
    ]),
    lastInput,
  },
  outcome: 'RolledBack',
  passed: true,
  load: { requests: 1200, failed: 0, p50BeforeMs: 5, p99BeforeMs: 20, byColor: { green: 1000, blue: 200 } },
  liveAfter: 'green v5',
  switchAt: START + 2000,
  weightChanges: [
    { at: START + 2000, weights: { blue: 100, green: 300 }, index: 4 },
    { at: START + 5050, weights: { blue: 0, green: 100 }, index: 5 },
  ],
  routed: [],
  verdicts: [stepVerdict],
  loadStartedAt: START,
  samples: [sample(100, 200, 5, 'green'), sample(2100, 200, 110, 'blue')],
  fleetEvents: [],
};

describe('a scenario as a ReleaseReport', () => {
  const report = scenarioReport(result);

  test('states in order with their exits; the failed ones carry their error', () => {
    expect(reportStates(result).map((s) => [s.name, s.exitedAt !== undefined, s.error])).toEqual([
      ['Prepare', true, undefined],
      ['Validate idle color', true, undefined],
      ['Shift traffic', true, undefined],
      ['Analyse step', true, 'AnalysisFailed'],
      ['Roll back', true, undefined],
      ['Rolled back', true, 'RolledBack'],
    ]);
    expect(report.states[3]).toMatchObject({
      enteredAt: iso(START + 5000),
      exitedAt: iso(START + 5020),
      cause: 'latency: ratio 15 (limit 1.25)',
    });
  });

  test("verdicts: the idle color's checks and each step's metrics, values beside thresholds", () => {
    // Judged when the Analyse step after the step's window ended (not at the window's end).
    expect(report.verdicts.map((v) => v.at)).toEqual([
      iso(START + 1500),
      iso(START + 1500),
      iso(START + 600),
      iso(START + 900),
      iso(START + 5020),
      iso(START + 5020),
      iso(START + 5020),
    ]);
    expect(report.verdicts.map((v) => [v.kind, v.name, v.value, v.threshold, v.passed])).toEqual([
      ['smoke', 'GET /health', 'status 200, 9 ms', 'status 200, at most 1000 ms', true],
      ['health', 'target health', '2 healthy, 0 not', 'at least 2 healthy', true],
      [
        'hook',
        'beforeDeploy hook (call 1)',
        'IN_PROGRESS: scanning the image',
        'SUCCEEDED (IN_PROGRESS: called again)',
        true,
      ],
      [
        'hook',
        'beforeDeploy hook (call 2)',
        'FAILED: CVE-2026-1 in <openssl>',
        'SUCCEEDED (IN_PROGRESS: called again)',
        false,
      ],
      [
        'analysis',
        'step 1 (25% to blue) errors',
        'new 0 of 300 failed (0%), old 0 of 900 failed (0%): p = 1.0',
        "p not below 0.005: Fisher's exact test, one-sided (new fails more often)",
        true,
      ],
      [
        'analysis',
        'step 1 (25% to blue) latency',
        'new 112.5 ms, old 7.5 ms: ratio 15.00',
        'ratio new/old at most 1.25 (differences under 20 ms never fail)',
        false,
      ],
      ['alarm', 'step 1 (25% to blue) alarms', 'none in ALARM', 'none in ALARM', true],
    ]);
    // The step's action beside the state that judged it.
    expect(
      report.verdicts
        .filter((v) => v.kind !== 'smoke' && v.kind !== 'health' && v.kind !== 'hook')
        .map((v) => v.state),
    ).toEqual(Array(3).fill('Analyse step → rolled back'));
  });

  test('weights as shares from the load start (the live color had all of it), the window and who', () => {
    expect(report.weights).toEqual([
      { at: iso(START), blue: 0, green: 100 },
      { at: iso(START + 2000), blue: 25, green: 75 },
      { at: iso(START + 5050), blue: 0, green: 100 },
    ]);
    expect(report).toMatchObject({
      release: 'rehearsal-5-v6',
      status: 'FAILED',
      outcome: 'RolledBack',
      error: 'RolledBack',
      startedAt: iso(START + 500),
      endedAt: iso(START + 5060),
      startedBy: 'npm start (local rehearsal)',
      strategy: 'canary:25:5s',
      colors: { from: 'green', to: 'blue' },
      approvals: [{ by: 'npm start --approve-after', at: iso(START + 1800), what: 'opened the manual gate' }],
      // From the first traffic moved to the rollback's start.
      timeToDetectMs: 3020,
    });
    expect(report.timeToRestoreMs).toBeUndefined();
    expect(report.traffic?.bucketSeconds).toBe(0.25);
    expect(report.traffic?.buckets).toHaveLength(2);
    expect(report.facts).toContainEqual({ label: 'as expected', value: 'yes (RolledBack)', good: true });
    expect(report.facts).toContainEqual({ label: 'expected', value: 'RolledBack' });
  });
});

test('the report files: the JSON is the document with the session, the HTML renders it', () => {
  const rehearsal: RehearsalResult = {
    scenarios: [result],
    session: { checked: true, survived: true, note: 'session created before scenario 1' },
  };
  const files = writeReport(join(tempDir(), 'rehearsal-report'), rehearsalDocument(rehearsal));
  const json = JSON.parse(readFileSync(files.json, 'utf8'));
  expect(json).toMatchObject({
    title: 'bluegreen local rehearsal',
    reports: [{ release: 'rehearsal-5-v6', verdicts: expect.any(Array), states: expect.any(Array) }],
    session: { checked: true, survived: true },
  });
  const html = readFileSync(files.html, 'utf8');
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).toContain('data-release="rehearsal-5-v6"');
  expect(html).toContain('AnalysisFailed: step 1 &#60;failed&#62;. Rolled back.');
  expect(html).toContain('ratio new/old at most 1.25 (differences under 20 ms never fail)');
  expect(html).toContain('FAILED: CVE-2026-1 in &#60;openssl&#62;');
  for (const chart of ['states', 'weights', 'requests', 'errors', 'latency']) {
    expect(html).toContain(`data-chart="${chart}"`);
  }
});
