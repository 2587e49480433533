import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { Notifier, ReleaseOutcome } from '../shared/ports';

const DETAIL_TYPE: Record<ReleaseOutcome['status'], string> = {
  SUCCEEDED: 'Release Succeeded',
  ROLLED_BACK: 'Release Rolled Back',
  ABORTED: 'Release Aborted',
  REFUSED: 'Release Refused',
  ROLLBACK_FAILED: 'Rollback Failed',
  STOPPED: 'Release Stopped',
  CONTRACT_FAILED: 'Contract Migrations Failed',
  APPROVAL_REQUIRED: 'Release Awaiting Approval',
  SHIFT_STEP: 'Release Shift Step Judged',
};

/** Publishes every outcome to the app's SNS topic and as an EventBridge event (source "bluegreen"). */
export class AwsNotifier implements Notifier {
  static create(config: SNSClientConfig, topicArn: string): AwsNotifier {
    return new AwsNotifier(new SNSClient(config), new EventBridgeClient(config as object), topicArn);
  }

  constructor(
    private readonly sns: SNSClient,
    private readonly events: EventBridgeClient,
    private readonly topicArn: string,
  ) {}

  async publish(outcome: ReleaseOutcome): Promise<void> {
    const subject = `bluegreen ${outcome.app}: ${DETAIL_TYPE[outcome.status]}`.slice(0, 100);
    const [, sent] = await Promise.all([
      this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: subject,
          Message: JSON.stringify(outcome, null, 2),
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
