/**
 * `bluegreen report [RELEASE] [--json] [--out FILE]` against recorded AWS answers (test/report/fixtures): the
 * calls it makes (every history page followed, CloudWatch's pages too), the JSON document, the HTML file, and the
 * one-line errors (no such release, no release yet, no permission).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import type { ReportDocument } from '../../report/model';
import { recordedRelease } from '../report/fixtures/load';
import { MockAws } from './mock-aws';
import { mockCloudWatch, serveRecorded } from './mock-report';
import { bluegreen, terminal } from './support';

const canary = recordedRelease('canary-approved');
const rolledBack = recordedRelease('rolled-back');

let aws: MockAws;
let cloudwatch: ReturnType<typeof mockCloudWatch>;
let dir: string;

beforeEach(() => {
  aws = new MockAws();
  cloudwatch = mockCloudWatch();
  serveRecorded(aws, [canary, rolledBack]);
  dir = mkdtempSync(join(tmpdir(), 'bluegreen-report-'));
});

afterEach(() => {
  aws.restore();
  cloudwatch.restore();
  rmSync(dir, { recursive: true, force: true });
});

/** A terminal on the afternoon of the fixtures' day (both releases are over), writing into the test's folder. */
function later() {
  const t = terminal();
  return { ...t, io: { ...t.io, now: () => new Date('2026-11-26T16:00:00Z'), cwd: dir } };
}

test('report RELEASE --json: the execution, every history page, both CloudWatch pages; the document', async () => {
  const { code, out, err } = await bluegreen(`report ${canary.describe.name} --json`, later());

  expect(err).toBe('');
  expect(code).toBe(0);
  expect(aws.sfn.commandCalls(ListExecutionsCommand)).toHaveLength(0);
  expect(aws.sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([
    { executionArn: canary.describe.executionArn },
  ]);
  // Every page, in order, each asked with the token the page before gave.
  expect(aws.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
    { executionArn: canary.describe.executionArn, maxResults: 1000, includeExecutionData: true },
    ...canary.pages.slice(0, 2).map((p) => ({
      executionArn: canary.describe.executionArn,
      maxResults: 1000,
      includeExecutionData: true,
      nextToken: p.nextToken,
    })),
  ]);
  const metrics = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
  expect(metrics).toHaveLength(2);
  expect(metrics[1].NextToken).toBeDefined();
  expect(metrics[0].MetricDataQueries![0].MetricStat!.Metric!.Dimensions).toEqual([
    { Name: 'LoadBalancer', Value: 'app/shop/1' },
    { Name: 'TargetGroup', Value: 'targetgroup/shop-blue/1' },
  ]);

  const doc = JSON.parse(out) as ReportDocument;
  expect(doc.title).toBe(`shop: release ${canary.describe.name}`);
  expect(doc.generatedAt).toBe('2026-11-26T16:00:00.000Z');
  expect(doc.reports).toHaveLength(1);
  const [r] = doc.reports;
  const events = canary.events;
  expect(r.states.map((s) => s.name)).toEqual(
    events.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name),
  );
  expect(r).toMatchObject({ release: canary.describe.name, status: 'SUCCEEDED', outcome: 'SUCCEEDED' });
  expect(r.approvals.map((a) => a.by)).toEqual([
    'arn:aws:sts::123456789012:assumed-role/release-manager/bob',
  ]);
  expect(r.verdicts.filter((v) => v.kind === 'analysis').map((v) => v.name)).toEqual([
    'step 1 (10% to green) errors',
    'step 1 (10% to green) latency',
  ]);
  expect(r.weights.map((w) => w.green)).toEqual([0, 10, 100]);
  expect(r.traffic!.bucketSeconds).toBe(60);
  expect(r.traffic!.buckets.filter((b) => b.color === 'green')[0]).toMatchObject({
    requests: 120,
    p99Ms: 84,
  });
  expect(r.gaps).toBeUndefined();
  // --json alone writes no file.
  expect(existsSync(join(dir, `${canary.describe.name}.html`))).toBe(false);
});

test('report (no RELEASE): the latest release, written as <release>.html, summed up in a few lines', async () => {
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] }); // nothing recorded for its window
  const { code, out } = await bluegreen('report', later());

  expect(code).toBe(0);
  expect(aws.sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
    { stateMachineArn: canary.describe.stateMachineArn, maxResults: 1 },
  ]);
  const file = join(dir, `${rolledBack.describe.name}.html`);
  const html = readFileSync(file, 'utf8');
  expect(html).toMatch(/^<!doctype html>/i);
  expect(html).toContain(rolledBack.describe.name);
  expect(out.split('\n')).toEqual([
    `shop v3 (${rolledBack.describe.name}): ROLLED_BACK (execution FAILED), 2026-11-26 14:00:00 → 14:01:45 UTC (1m45s)`,
    '  blue → green, all at once; started by arn:aws:sts::123456789012:assumed-role/operator/alice (bluegreen CLI)',
    '  22 states, 6 verdicts (3 failed); first failed: bake check 1 at 14:01:15',
    '  time to detect 45.0s, time to restore 0.0s',
    '  not shown: CloudWatch has no datapoint for either color from 2026-11-26T13:55:00.000Z to 2026-11-26T14:07:00.000Z: no request reached them, or their metrics were not published (yet).',
    `Wrote ${file}`,
  ]);
});

test('a release in flight: reported as far as it went, its traffic up to now', async () => {
  const running = {
    describe: { ...canary.describe, status: 'RUNNING' as const, stopDate: undefined, output: undefined },
    pages: [{ events: canary.pages[0].events }],
    events: canary.pages[0].events!,
  };
  serveRecorded(aws, [running]);
  const t = later();
  const now = { ...t, io: { ...t.io, now: () => new Date('2026-11-26T10:03:30Z') } };
  const { code, out } = await bluegreen('report --json', now);

  expect(code).toBe(0);
  expect(aws.sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  const [r] = (JSON.parse(out) as ReportDocument).reports;
  expect(r.status).toBe('RUNNING');
  expect(r.endedAt).toBeUndefined();
  expect(r.outcome).toBeUndefined();
  expect(r.gaps).toContain('The release is still running: this report shows it as far as it went.');
  const last = r.states[r.states.length - 1];
  expect(last.name).toBe(
    running.events.filter((e) => e.stateEnteredEventDetails).pop()!.stateEnteredEventDetails!.name,
  );
  // From five minutes before its start to now, on whole minutes.
  const [call] = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
  expect([call.StartTime, call.EndTime]).toEqual([
    new Date('2026-11-26T09:55:00Z'),
    new Date('2026-11-26T10:04:00Z'),
  ]);
});

test('--out FILE: the HTML goes there', async () => {
  const file = join(dir, 'out', '..', 'canary.html');
  const { code } = await bluegreen(`report ${canary.describe.executionArn} --out ${file}`, later());
  expect(code).toBe(0);
  expect(readFileSync(join(dir, 'canary.html'), 'utf8')).toContain(canary.describe.name);
});

test('no such release, no release yet: one line each, exit 1', async () => {
  const missing = await bluegreen('report v9-20261126T000000Z', later());
  expect(missing.code).toBe(1);
  expect(missing.err).toBe(
    'NoSuchRelease: No release "v9-20261126T000000Z" of shop: bluegreen history lists the recent ones.',
  );
  serveRecorded(aws, []);
  const none = await bluegreen('report', later());
  expect(none.code).toBe(1);
  expect(none.err).toBe(
    'NoReleaseYet: No release of shop yet: nothing to report (bluegreen release starts one).',
  );
  const bad = await bluegreen('report ../etc/passwd', later());
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/^ReleaseInvalid: /);
});

test('no permission to read the history: one line naming the IAM action, exit 2', async () => {
  const denied = new Error('User is not authorized to perform: states:GetExecutionHistory');
  denied.name = 'AccessDeniedException';
  aws.sfn.on(GetExecutionHistoryCommand).rejects(denied);
  const { code, err } = await bluegreen(`report ${canary.describe.name}`, later());
  expect(code).toBe(2);
  expect(err.split('\n')).toEqual([
    `NoPermission: AWS refused states:GetExecutionHistory on ${canary.describe.executionArn}: your identity lacks ` +
      "that permission (the stack's OperatorPolicyArn output is the policy bluegreen report needs).",
  ]);
});

test('no permission to read metrics: the report is written without traffic, and says why', async () => {
  const denied = new Error('not authorized to perform: cloudwatch:GetMetricData');
  denied.name = 'AccessDenied';
  cloudwatch.on(GetMetricDataCommand).rejects(denied);
  const { code, out, err } = await bluegreen(`report ${canary.describe.name} --json`, later());
  expect(code).toBe(0);
  expect(err).toMatch(
    /^AWS refused cloudwatch:GetMetricData on \*: .* The report is written without the traffic/,
  );
  const [r] = (JSON.parse(out) as ReportDocument).reports;
  expect(r.traffic).toBeUndefined();
  expect(r.gaps).toEqual([
    expect.stringMatching(/^Traffic per color not shown: AWS refused cloudwatch:GetMetricData/),
  ]);
});
