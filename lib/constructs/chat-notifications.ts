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
 * - Chatbot's own service-linked role (AWSServiceRoleForAWSChatbot) subscribes it to the topic and writes its logs;
 *   the channel role is only for commands typed in the channel. It has no permissions: custom notifications need
 *   none (the console's "Notification permissions" template, cloudwatch Describe/Get/List, is for rendering
 *   CloudWatch alarms and charts, which this topic never carries).
 * - The guardrail is AWSDenyAll (without one, Chatbot applies AdministratorAccess), and user roles are required:
 *   no command can run from the channel, whatever role a member picks.
 * - The topic is encrypted with the AWS managed key aws/sns: SNS decrypts each message before it delivers it, so
 *   Chatbot needs no KMS permission; the publishers are this stack's Lambda roles. Its policy is unchanged.
 * - Errors are logged by Chatbot in CloudWatch Logs, us-east-1, /aws/chatbot/<configuration name>.
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
      userRoleRequired: true,
      loggingLevel: chatbot.LoggingLevel.ERROR,
    });
  }
}
