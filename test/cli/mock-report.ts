/**
 * What `bluegreen report` reads, for the CLI tests: recorded releases (test/report/fixtures) served by the mocked
 * Step Functions client of a MockAws as Step Functions serves them (ListExecutions newest first, DescribeExecution,
 * GetExecutionHistory page by page with the recorded nextTokens), and CloudWatch's GetMetricData answers (the
 * recorded pages, followed by their NextToken). Kept apart from mock-aws.ts, which it builds on.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataOutput,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type GetExecutionHistoryCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { readFixture, type RecordedRelease } from '../report/fixtures/load';
import type { MockAws } from './mock-aws';

/** Serves `releases` (oldest first) instead of the MockAws's own executions. */
export function serveRecorded(aws: MockAws, releases: readonly RecordedRelease[]): void {
  const byArn = (arn: string | undefined) => {
    const found = releases.find((r) => r.describe.executionArn === arn);
    if (!found) {
      const error = new Error(`Execution Does Not Exist: '${arn}'`);
      error.name = 'ExecutionDoesNotExist';
      throw error;
    }
    return found;
  };
  aws.sfn.on(ListExecutionsCommand).callsFake((input: { maxResults?: number }) => ({
    executions: [...releases]
      .reverse()
      .slice(0, input.maxResults ?? 100)
      .map((r) => ({
        executionArn: r.describe.executionArn,
        stateMachineArn: r.describe.stateMachineArn,
        name: r.describe.name,
        status: r.describe.status,
        startDate: r.describe.startDate,
        stopDate: r.describe.stopDate,
      })),
  }));
  aws.sfn
    .on(DescribeExecutionCommand)
    .callsFake((input: { executionArn: string }) => byArn(input.executionArn).describe);
  aws.sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const { pages } = byArn(input.executionArn);
    if (input.reverseOrder) {
      throw new Error('the recorded pages are oldest first');
    }
    const at = input.nextToken ? pages.findIndex((p) => p.nextToken === input.nextToken) + 1 : 0;
    if (at === 0 && input.nextToken) {
      const error = new Error('Invalid Token');
      error.name = 'InvalidToken';
      throw error;
    }
    return pages[at];
  });
}

/** CloudWatch answering with the canary release's recorded GetMetricData pages (or `pages`). */
export function mockCloudWatch(
  pages: readonly GetMetricDataOutput[] = readFixture<GetMetricDataOutput[]>('canary-approved.metrics.json'),
) {
  const cloudwatch = mockClient(CloudWatchClient);
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    const at = input.NextToken ? pages.findIndex((p) => p.NextToken === input.NextToken) + 1 : 0;
    return pages[at];
  });
  return cloudwatch;
}
