/**
 * `bluegreen report [RELEASE] [--json] [--out FILE]`: what happened in one release (default: the latest), from
 * Step Functions (the execution and its whole history) and CloudWatch (each color's traffic over its window):
 * written as a self-contained HTML file (`<release>.html`), or printed as JSON (the ReportDocument of
 * report/model.ts).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { loadBalancerArnOf } from '../../lambda/adapters/cloudwatch-metrics';
import { reportFromHistory } from '../../report/from-history';
import { renderReportHtml } from '../../report/html';
import { readTraffic } from '../../report/metrics';
import type { ReleaseReport, ReportDocument } from '../../report/model';
import { duration, EXIT, paint, refused, usage, type CliIo, type ExitCode } from '../io';
import type { AwsSession } from '../target';

/** Events per GetExecutionHistory page (the most Step Functions gives). */
export const HISTORY_PAGE = 1000;

export async function report(
  session: AwsSession,
  io: CliIo,
  options: { release?: string; json?: boolean; out?: string },
): Promise<ExitCode> {
  const target = await session.target();
  const sfn = session.sfn;
  const executionArn = await executionOf(sfn, target.app, target.stateMachineArn, options.release);
  const description = await aws('states:DescribeExecution', executionArn, () =>
    sfn.send(new DescribeExecutionCommand({ executionArn })),
  ).catch((e: Error) => {
    if (e.name === 'ExecutionDoesNotExist') {
      throw refused(
        'NoSuchRelease',
        `No release "${options.release ?? executionArn}" of ${target.app}: bluegreen history lists the recent ones.`,
      );
    }
    throw e;
  });
  const events = await historyOf(sfn, executionArn);
  const fromHistory = reportFromHistory(target.app, description, events);
  const now = io.now();
  const traffic = await aws('cloudwatch:GetMetricData', '*', () =>
    readTraffic(session.cloudwatch, {
      loadBalancerArn: loadBalancerArnOf(target.productionListenerArn),
      targetGroupArns: target.targetGroups,
      start: new Date(fromHistory.startedAt),
      end: fromHistory.endedAt ? new Date(fromHistory.endedAt) : now,
      now,
    }),
  ).catch((e: Error) => {
    if (e.name !== 'NoPermission') {
      throw e;
    }
    io.err(`${e.message} The report is written without the traffic per color.`);
    return { traffic: undefined, gaps: [`Traffic per color not shown: ${e.message}`] };
  });
  const gaps = [...(fromHistory.gaps ?? []), ...traffic.gaps];
  const full: ReleaseReport = {
    ...fromHistory,
    ...(traffic.traffic ? { traffic: traffic.traffic } : {}),
    ...(gaps.length > 0 ? { gaps } : {}),
  };
  const doc: ReportDocument = {
    title: `${target.app}: release ${full.release}`,
    generatedAt: now.toISOString(),
    reports: [full],
  };
  let file: string | undefined;
  if (!options.json || options.out) {
    file = resolve(io.cwd, options.out ?? `${full.release}.html`);
    writeFileSync(file, renderReportHtml(doc));
  }
  if (options.json) {
    io.out(JSON.stringify(doc, null, 2));
    return EXIT.ok;
  }
  for (const line of summary(full, io)) {
    io.out(line);
  }
  io.out(`Wrote ${file}`);
  return EXIT.ok;
}

/** The execution to report on: RELEASE (a name, or an execution ARN), else the newest of the app's state machine. */
async function executionOf(
  sfn: SFNClient,
  app: string,
  stateMachineArn: string,
  release: string | undefined,
): Promise<string> {
  if (release) {
    if (release.startsWith('arn:')) {
      if (!/^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(release)) {
        throw usage(
          'ReleaseInvalid',
          `"${release}" is not a Step Functions execution ARN (nor a release name).`,
        );
      }
      return release;
    }
    if (!/^[A-Za-z0-9_.-]{1,80}$/.test(release)) {
      throw usage('ReleaseInvalid', `"${release}" is not a release name (bluegreen history lists them).`);
    }
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${release}`;
  }
  const listed = await aws('states:ListExecutions', stateMachineArn, () =>
    sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 })),
  );
  const latest = listed.executions?.[0]?.executionArn;
  if (!latest) {
    throw refused(
      'NoReleaseYet',
      `No release of ${app} yet: nothing to report (bluegreen release starts one).`,
    );
  }
  return latest;
}

/** Every history event, oldest first, following nextToken. */
async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws('states:GetExecutionHistory', executionArn, () =>
      sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: HISTORY_PAGE,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      ),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** An AWS call whose AccessDenied becomes a one-line NoPermission error naming the IAM action. */
async function aws<T>(action: string, resource: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const error = e as Error;
    if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(error.name)) {
      throw usage(
        'NoPermission',
        `AWS refused ${action} on ${resource}: your identity lacks that permission (the stack's OperatorPolicyArn ` +
          'output is the policy bluegreen report needs).',
      );
    }
    throw e;
  }
}

/** What the terminal shows: outcome, times, who, verdicts, time to detect and restore, gaps. */
function summary(r: ReleaseReport, io: CliIo): string[] {
  const start = Date.parse(r.startedAt);
  const end = r.endedAt ? Date.parse(r.endedAt) : undefined;
  const hhmm = (iso: string) => iso.slice(11, 19);
  const failed = r.verdicts.filter((v) => !v.passed);
  const outcome = r.outcome ?? r.status;
  const lines = [
    `${r.title}: ${paint(io, outcome === 'SUCCEEDED' ? 'green' : 'red', outcome)} (execution ${r.status}), ` +
      `${r.startedAt.slice(0, 10)} ${hhmm(r.startedAt)}` +
      (end ? ` → ${hhmm(r.endedAt!)} UTC (${duration(end - start)})` : ' UTC, still running'),
    `  ${r.colors.from} → ${r.colors.to}${r.strategy ? `, ${r.strategy}` : ''}; started by ${r.startedBy ?? 'unknown'}`,
    ...r.approvals.map((a) => `  ${hhmm(a.at)} ${a.by} ${a.what}`),
    `  ${r.states.length} states, ${r.verdicts.length} verdicts (${failed.length} failed)` +
      (failed[0] ? `; first failed: ${failed[0].name} at ${hhmm(failed[0].at)}` : ''),
  ];
  if (r.timeToDetectMs !== undefined) {
    lines.push(
      `  time to detect ${duration(r.timeToDetectMs)}` +
        (r.timeToRestoreMs !== undefined ? `, time to restore ${duration(r.timeToRestoreMs)}` : ''),
    );
  }
  if (r.traffic && r.traffic.buckets.length > 0) {
    const requests = (color: string) =>
      r.traffic!.buckets.filter((b) => b.color === color).reduce((n, b) => n + b.requests, 0);
    lines.push(
      `  traffic: ${requests('blue')} requests on blue, ${requests('green')} on green ` +
        `(${r.traffic.bucketSeconds / 60}-minute periods)`,
    );
  }
  for (const gap of r.gaps ?? []) {
    lines.push(`  ${paint(io, 'dim', `not shown: ${gap}`)}`);
  }
  return lines;
}
