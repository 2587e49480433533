import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { BluegreenConfig } from '../config';

export interface ChatNotificationsProps {
  readonly appName: string;
  readonly slack: NonNullable<NonNullable<BluegreenConfig['notifications']>['slack']>;
  /** The releases topic: every outcome, the manual gate and each judged shift step, as custom notifications. */
  readonly topic: sns.ITopic;
}

/**
 * An AWS Chatbot (Amazon Q Developer in chat applications) Slack channel configuration subscribed to the releases
 * topic: it posts what the release workflow publishes, and lets nobody in the channel do anything in AWS.
 *
 * - The channel role has no permissions at all: Chatbot needs none to post custom notifications (the "Notification
 *   permissions" template's CloudWatch reads are for rendering CloudWatch alarms, which this topic never carries).
 *   Chatbot subscribes to the topic and writes its logs with its own service-linked role (AWSServiceRoleForAWSChatbot).
 * - The guardrail is AWSDenyAll, so even a channel member who picks a user role can run no command from the
 *   channel (without a guardrail, Chatbot applies AdministratorAccess).
 * - The topic is encrypted with the AWS managed key aws/sns: SNS decrypts each message before it delivers it to
 *   Chatbot's endpoint, so Chatbot needs no KMS permission, and the publishers are this stack's Lambda roles.
 * - Errors are logged (CloudWatch Logs, us-east-1, /aws/chatbot/<configuration name>).
 *
 * The Slack workspace must have been authorized once in the AWS Chatbot console: CloudFormation cannot do that.
 */
export class ChatNotifications extends Construct {
  readonly channel: chatbot.SlackChannelConfiguration;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ChatNotificationsProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'ChannelRole', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: `bluegreen ${props.appName}: AWS Chatbot channel role for release notifications (no permissions)`,
    });
    this.channel = new chatbot.SlackChannelConfiguration(this, 'Slack', {
      slackChannelConfigurationName: `bluegreen-${props.appName}-releases`,
      slackWorkspaceId: props.slack.workspaceId,
      slackChannelId: props.slack.channelId,
      role: this.role,
      notificationTopics: [props.topic],
      guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDenyAll')],
      userRoleRequired: false,
      loggingLevel: chatbot.LoggingLevel.ERROR,
    });
  }
}
