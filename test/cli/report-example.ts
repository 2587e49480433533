/**
 * Prints the README's `bluegreen report` examples: the real CLI (cli/main.ts) run against the recorded releases of
 * test/report/fixtures (Step Functions history and CloudWatch answers served by aws-sdk-client-mock), writing the
 * HTML into a temporary folder. Run: npx tsx test/cli/report-example.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { CliIo } from '../../cli/io';
import { run } from '../../cli/main';
import type { ReportDocument } from '../../report/model';
import { recordedRelease } from '../report/fixtures/load';
import { MockAws } from './mock-aws';
import { mockCloudWatch, serveRecorded } from './mock-report';

const dir = mkdtempSync(join(tmpdir(), 'bluegreen-report-example-'));

async function show(args: string, json = false): Promise<string> {
  const lines: string[] = [];
  const io: CliIo = {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    tty: false,
    color: false,
    status: () => undefined,
    confirm: () => Promise.resolve(true),
    now: () => new Date('2026-11-26T16:00:00Z'),
    sleep: () => Promise.resolve(),
    env: { BLUEGREEN_APP: 'shop', AWS_REGION: 'eu-west-1' },
    cwd: dir,
  };
  const code = await run(args.split(' '), io);
  const text = lines.join('\n');
  console.log(`$ npx bluegreen ${args}\n${json ? summary(text) : text}\n(exit ${code})\n`);
  return text;
}

/** The --json document with its long lists cut to their first items (the README shows its shape). */
function summary(text: string): string {
  const doc = JSON.parse(text) as ReportDocument;
  const r = doc.reports[0];
  const cut = <T>(list: readonly T[] | undefined, n: number) =>
    list && list.length > n ? [...list.slice(0, n), `… ${list.length - n} more`] : list;
  return JSON.stringify(
    {
      ...doc,
      reports: [
        {
          ...r,
          states: cut(r.states, 3),
          verdicts: cut(r.verdicts, 5),
          traffic: r.traffic && { ...r.traffic, buckets: cut(r.traffic.buckets, 2) },
        },
      ],
    },
    null,
    2,
  );
}

async function main(): Promise<void> {
  const aws = new MockAws();
  const cloudwatch = mockCloudWatch();
  serveRecorded(aws, [
    recordedRelease('canary-approved'),
    recordedRelease('rolled-back'),
    recordedRelease('canary-rolled-back'),
  ]);
  await show('report v2-20261126T100000Z');
  await show('report v2-20261126T100000Z --json', true);
  // The recorded CloudWatch answers are the canary's: the other releases' windows have none.
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  await show('report');
  await show('report v3-20261126T140000Z');
  aws.restore();
  cloudwatch.restore();
}

void main();
