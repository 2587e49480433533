/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the release state machine's executions and their history
 * (Step Functions), which StartExecution, StopExecution and SendTask* change, and what is published (SNS,
 * EventBridge).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { MockAws } from './mock-aws';
import { MACHINE, arnOf } from './mock-aws-names';

/** The state machine, its executions, their history in pages, task answers, and SNS / EventBridge. */
export function mockExecutions(aws: MockAws): void {
  aws.sns.on(PublishCommand).callsFake((input: { Subject: string; Message: string }) => {
    // The outcome JSON; on a stack with Slack (its ReleaseTopicFormat output), a Chatbot custom notification
    // that carries it as a JSON string (test/cli/topic-format.test.ts).
    const chat = aws.extraOutputs.ReleaseTopicFormat === 'chatbot';
    const parsed = JSON.parse(input.Message) as { metadata: { additionalContext: { outcome: string } } };
    aws.published.push({
      subject: input.Subject,
      message: (chat ? JSON.parse(parsed.metadata.additionalContext.outcome) : parsed) as Record<
        string,
        unknown
      >,
      raw: input.Message,
    });
    return { MessageId: '1' };
  });
  aws.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  aws.sfn.on(DescribeStateMachineCommand).resolves({ definition: JSON.stringify({ TimeoutSeconds: 7200 }) });
  aws.sfn.on(ListExecutionsCommand).callsFake((input: { statusFilter?: string; maxResults?: number }) => ({
    executions: [...aws.executions]
      .reverse()
      .filter((e) => !input.statusFilter || e.status === input.statusFilter)
      .slice(0, input.maxResults ?? 100)
      .map((e) => ({
        executionArn: arnOf(e.name),
        name: e.name,
        status: e.status,
        startDate: e.start,
        stopDate: e.stop,
        stateMachineArn: MACHINE,
      })),
  }));
  aws.sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const e = aws.execution(input.executionArn);
    return {
      executionArn: input.executionArn,
      name: e.name,
      status: e.status,
      input: e.input,
      startDate: e.start,
      stopDate: e.stop,
      error: e.error,
      cause: e.cause,
    };
  });
  aws.sfn
    .on(GetExecutionHistoryCommand)
    .callsFake(
      (input: { executionArn: string; reverseOrder?: boolean; maxResults?: number; nextToken?: string }) => {
        const e = aws.execution(input.executionArn);
        if (e.status === 'RUNNING' && !input.nextToken) {
          aws.onHistoryRead?.(e);
        }
        // Pages as Step Functions does: maxResults events a page, nextToken for the rest, ids from 1.
        const all = e.events.map((ev, i) => ({ ...ev, id: i + 1 }));
        const ordered = input.reverseOrder ? all.reverse() : all;
        const from = Number(input.nextToken ?? 0);
        const size = input.maxResults ?? 1000;
        const page = ordered.slice(from, from + size);
        return { events: page, nextToken: from + size < ordered.length ? String(from + size) : undefined };
      },
    );
  aws.sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
    aws.executions.push({
      name: input.name,
      status: 'RUNNING',
      input: input.input,
      start: new Date(),
      events: [],
    });
    return { executionArn: arnOf(input.name), startDate: new Date() };
  });
  aws.sfn
    .on(StopExecutionCommand)
    .callsFake((input: { executionArn: string; error?: string; cause?: string }) => {
      const e = aws.execution(input.executionArn);
      aws.beforeStop?.(e);
      if (e.status === 'RUNNING') {
        e.status = 'ABORTED';
        e.error = input.error;
        e.cause = input.cause;
      }
      aws.stopped.push({ arn: input.executionArn, error: input.error, cause: input.cause });
      return { stopDate: new Date() };
    });
  aws.sfn.on(SendTaskSuccessCommand).callsFake((input: { taskToken: string; output: string }) => {
    aws.answers.push({ token: input.taskToken, output: input.output });
    return {};
  });
  aws.sfn
    .on(SendTaskFailureCommand)
    .callsFake((input: { taskToken: string; error: string; cause: string }) => {
      aws.answers.push({ token: input.taskToken, error: input.error, cause: input.cause });
      return {};
    });
}
