import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { chatMessage, DETAIL_TYPE } from '../shared/chat-notification';
import type { Notifier, ReleaseOutcome } from '../shared/ports';

/**
 * What the releases topic's messages are: the outcome JSON (what every subscriber has always read), or, when the
 * stack configures `notifications.slack` (an AWS Chatbot channel on the topic, which posts nothing else), AWS
 * Chatbot custom notifications that carry the outcome JSON in metadata.additionalContext.outcome.
 */
export type TopicFormat = 'outcome' | 'chatbot';

/**
 * Publishes every outcome to the app's SNS topic (in the topic's format) and as an EventBridge event (source
 * "bluegreen", detail: the outcome).
 */
export class AwsNotifier implements Notifier {
  static create(config: SNSClientConfig, topicArn: string, format: TopicFormat = 'outcome'): AwsNotifier {
    return new AwsNotifier(new SNSClient(config), new EventBridgeClient(config as object), topicArn, format);
  }

  constructor(
    private readonly sns: SNSClient,
    private readonly events: EventBridgeClient,
    private readonly topicArn: string,
    private readonly format: TopicFormat = 'outcome',
  ) {}

  async publish(outcome: ReleaseOutcome): Promise<void> {
    const subject = `bluegreen ${outcome.app}: ${DETAIL_TYPE[outcome.status]}`.slice(0, 100);
    const [, sent] = await Promise.all([
      this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: subject,
          Message: this.format === 'chatbot' ? chatMessage(outcome) : JSON.stringify(outcome, null, 2),
          MessageAttributes: { status: { DataType: 'String', StringValue: outcome.status } },
        }),
      ),
      this.events.send(
        new PutEventsCommand({
          Entries: [
            { Source: 'bluegreen', DetailType: DETAIL_TYPE[outcome.status], Detail: JSON.stringify(outcome) },
          ],
        }),
      ),
    ]);
    if (sent.FailedEntryCount) {
      const entry = sent.Entries?.[0];
      throw new Error(
        `EventBridge refused the outcome event: ${entry?.ErrorCode ?? '?'} ${entry?.ErrorMessage ?? ''}`,
      );
    }
  }
}
