/**
 * The notifier publishes each outcome twice: to the releases topic and to EventBridge with the outcome itself as
 * the detail. The topic's message is the outcome JSON, unless the stack configures Slack: then it is an AWS
 * Chatbot custom notification (what the Slack channel shows; the outcome JSON in metadata.additionalContext.outcome
 * for machines).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsNotifier, type TopicFormat } from '../../../lambda/adapters/notifier';
import {
  DESCRIPTION_MAX,
  SNS_MESSAGE_MAX_BYTES,
  chatMessage,
  utf8Bytes,
} from '../../../lambda/shared/chat-notification';
import type { ReleaseOutcome } from '../../../lambda/shared/ports';
import { REPO } from '../../support/fake-world';

const snsMock = mockClient(SNSClient);
const eventsMock = mockClient(EventBridgeClient);
beforeEach(() => {
  snsMock.reset();
  eventsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

const notifier = (format: TopicFormat = 'chatbot') =>
  new AwsNotifier(new SNSClient({}), new EventBridgeClient({}), 'arn:topic', format);

const ROLLED_BACK: ReleaseOutcome = {
  app: 'shop',
  release: 'release-1',
  status: 'ROLLED_BACK',
  image: `${REPO}:1.4.2`,
  liveColor: 'blue',
  error: 'RolledBack',
  cause:
    `AnalysisFailed: Step 1/3 (10% to green, window 10:01:00-10:03:00Z): FAIL: errors: pass, new 2 of 1200 failed ` +
    `(0.17%) against old 22 of 10800 failed (0.20%): p = 0.71 (not below 0.005); latency: fail, new 152 ms against ` +
    `old 80 ms: ratio 1.90 (limit 1.5). Roll back to blue. Rolled back: all traffic is on blue again and the record ` +
    `says so; green is back to 0 task(s) of ${REPO}:1.4.1.`,
};

/** The keys AWS documents for a custom notification (anything else may make Chatbot drop the message). */
const TOP = ['version', 'source', 'id', 'content', 'metadata'];
const CONTENT = ['textType', 'title', 'description', 'nextSteps', 'keywords'];
const METADATA = ['threadId', 'summary', 'eventType', 'relatedResources', 'additionalContext'];

/** Checks a message against the documented schema; returns it parsed. */
function expectCustomNotification(message: string): {
  content: { title: string; description: string; nextSteps?: string[]; keywords: string[] };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    additionalContext: Record<string, string>;
  };
} {
  const n = JSON.parse(message) as Record<string, Record<string, unknown>>;
  expect(Object.keys(n).filter((k) => !TOP.includes(k))).toEqual([]);
  expect(n.version).toBe('1.0');
  expect(n.source).toBe('custom');
  expect(typeof n.id).toBe('string');
  expect(Object.keys(n.content).filter((k) => !CONTENT.includes(k))).toEqual([]);
  expect(Object.keys(n.metadata).filter((k) => !METADATA.includes(k))).toEqual([]);
  expect(n.content.textType).toBe('client-markdown');
  for (const key of ['title', 'description']) {
    expect(typeof n.content[key]).toBe('string');
  }
  for (const key of ['nextSteps', 'keywords']) {
    const list = n.content[key];
    expect(list === undefined || (Array.isArray(list) && list.every((s) => typeof s === 'string'))).toBe(
      true,
    );
  }
  for (const key of ['threadId', 'summary', 'eventType']) {
    expect(typeof n.metadata[key]).toBe('string');
  }
  // The schema's additionalContext is a map of strings.
  for (const value of Object.values(n.metadata.additionalContext as object)) {
    expect(typeof value).toBe('string');
  }
  expect((n.content.title as string).includes('\n')).toBe(false);
  expect((n.content.description as string).length).toBeLessThanOrEqual(DESCRIPTION_MAX);
  expect(utf8Bytes(message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
  return n as never;
}

function sent(): { Subject?: string; Message?: string; MessageAttributes?: unknown; TopicArn?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

describe('AwsNotifier, on a stack without Slack (the default)', () => {
  test('publishes the outcome JSON to the topic, exactly as before chat notifications', async () => {
    await new AwsNotifier(new SNSClient({}), new EventBridgeClient({}), 'arn:topic').publish(ROLLED_BACK);
    expect(sent()).toEqual({
      TopicArn: 'arn:topic',
      Subject: 'bluegreen shop: Release Rolled Back',
      Message: JSON.stringify(ROLLED_BACK, null, 2),
      MessageAttributes: { status: { DataType: 'String', StringValue: 'ROLLED_BACK' } },
    });
    expect(eventsMock.commandCalls(PutEventsCommand)[0].args[0].input).toEqual({
      Entries: [
        { Source: 'bluegreen', DetailType: 'Release Rolled Back', Detail: JSON.stringify(ROLLED_BACK) },
      ],
    });
  });

  test('create() makes the same notifier, in the format asked', async () => {
    await AwsNotifier.create({ region: 'eu-west-1' }, 'arn:topic').publish(ROLLED_BACK);
    await AwsNotifier.create({ region: 'eu-west-1' }, 'arn:topic', 'outcome').publish(ROLLED_BACK);
    await AwsNotifier.create({ region: 'eu-west-1' }, 'arn:topic', 'chatbot').publish(ROLLED_BACK);
    const messages = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Message!);
    expect(messages.slice(0, 2)).toEqual([
      JSON.stringify(ROLLED_BACK, null, 2),
      JSON.stringify(ROLLED_BACK, null, 2),
    ]);
    expect(JSON.parse(messages[2])).toMatchObject({ source: 'custom' });
  });
});

describe('AwsNotifier, on a stack with Slack', () => {
  test('publishes a custom notification to the topic: the one line as title, the cause below, the outcome for machines', async () => {
    await notifier().publish(ROLLED_BACK);
    const input = sent();
    expect(input).toMatchObject({
      TopicArn: 'arn:topic',
      Subject: 'bluegreen shop: Release Rolled Back',
      MessageAttributes: { status: { DataType: 'String', StringValue: 'ROLLED_BACK' } },
    });
    const n = expectCustomNotification(input.Message!);
    expect(n.content.title).toBe(
      ":leftwards_arrow_with_hook: shop 1.4.2: rolled back — latency 1.90x blue's (152 ms against 80 ms, limit 1.5x)",
    );
    expect(n.metadata.summary).toBe(
      "shop 1.4.2: rolled back — latency 1.90x blue's (152 ms against 80 ms, limit 1.5x)",
    );
    expect(n.content.description).toBe(
      `*Release* \`release-1\`  ·  *Image* \`${REPO}:1.4.2\`  ·  *Live* blue  ·  *Error* \`RolledBack\`\n` +
        '```\n' +
        ROLLED_BACK.cause +
        '\n```',
    );
    expect(n.metadata).toMatchObject({
      threadId: 'bluegreen-shop-release-1',
      eventType: 'Release Rolled Back',
    });
    // Machine subscribers read the whole outcome back, as EventBridge carries it.
    expect(JSON.parse(n.metadata.additionalContext.outcome)).toEqual(ROLLED_BACK);
  });

  test('and as the EventBridge event, unchanged: source "bluegreen", the outcome as the detail', async () => {
    await notifier().publish(ROLLED_BACK);
    expect(eventsMock.commandCalls(PutEventsCommand)[0].args[0].input).toEqual({
      Entries: [
        { Source: 'bluegreen', DetailType: 'Release Rolled Back', Detail: JSON.stringify(ROLLED_BACK) },
      ],
    });
  });

  test.each<ReleaseOutcome>([
    {
      app: 'shop',
      release: 'r-1',
      status: 'SUCCEEDED',
      image: `${REPO}:v2`,
      liveColor: 'green',
      cause: 'live.',
    },
    {
      app: 'shop',
      release: 'r-1',
      status: 'ABORTED',
      image: `${REPO}:v2`,
      error: 'DeployFailed',
      cause: 'x.',
    },
    { app: 'shop', release: 'r-1', status: 'REFUSED', error: 'Drift', cause: 'The record says blue.' },
    {
      app: 'shop',
      release: 'r-1',
      status: 'ROLLBACK_FAILED',
      error: 'RollbackFailed',
      cause: 'Rollback failed.',
    },
    {
      app: 'shop',
      release: 'r-1',
      status: 'STOPPED',
      error: 'TIMED_OUT',
      cause: 'Release r-1 ended TIMED_OUT.',
    },
    { app: 'shop', release: 'r-1', status: 'CONTRACT_FAILED', liveColor: 'green', error: 'ContractFailed' },
    { app: 'shop', release: 'r-1', status: 'APPROVAL_REQUIRED', image: `${REPO}:v2`, liveColor: 'blue' },
    { app: 'shop', release: 'r-1', status: 'SHIFT_STEP', image: `${REPO}:v2`, cause: 'Step 1/2 judged.' },
  ])('$status: a valid custom notification, in the release thread', async (outcome) => {
    await notifier().publish(outcome);
    const n = expectCustomNotification(sent().Message!);
    expect(n.metadata.threadId).toBe('bluegreen-shop-r-1');
    expect(n.content.title).toMatch(/^:[a-z_]+: shop (v2|r-1): /);
    expect(JSON.parse(n.metadata.additionalContext.outcome)).toEqual(outcome);
  });

  test('the manual gate says how to answer it, for this release only', async () => {
    await notifier().publish({
      app: 'shop',
      release: 'release-3',
      status: 'APPROVAL_REQUIRED',
      image: `${REPO}:v2`,
      liveColor: 'blue',
    });
    expect(expectCustomNotification(sent().Message!).content.nextSteps).toEqual([
      'Approve: `npx bluegreen --app shop approve --release release-3`',
      'Reject: `npx bluegreen --app shop reject --release release-3 --reason "why"`',
    ]);
  });

  test('a cause too long for chat is cut in the description; the outcome keeps all of it', async () => {
    const cause = `Validation failed: ${'GET /x: status 500, expected 200; '.repeat(400)}`;
    await notifier().publish({ ...ROLLED_BACK, cause });
    const n = expectCustomNotification(sent().Message!);
    expect(n.content.description.length).toBeLessThanOrEqual(DESCRIPTION_MAX);
    expect(n.content.description).toMatch(/…\n```$/);
    expect(JSON.parse(n.metadata.additionalContext.outcome).cause).toBe(cause);
  });

  test("an outcome beyond SNS's 256 KiB is cut to fit, and says so", () => {
    const cause = `Rollback failed: ${'é'.repeat(200_000)}`; // 400,000 bytes in UTF-8
    const message = chatMessage({ ...ROLLED_BACK, cause });
    const n = expectCustomNotification(message);
    const outcome = JSON.parse(n.metadata.additionalContext.outcome) as ReleaseOutcome;
    expect(outcome.cause).toMatch(/^Rollback failed: é+ \[cut to fit SNS's 256 KiB message limit\]$/);
    expect(utf8Bytes(message)).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES - 4096); // cut by what was over, not more
  });

  test('an event EventBridge refuses is an error, not silence', async () => {
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }],
    });
    await expect(notifier().publish({ app: 'shop', release: 'r', status: 'SUCCEEDED' })).rejects.toThrow(
      'EventBridge refused the outcome event: InternalFailure try later',
    );
  });
});
