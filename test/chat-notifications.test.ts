/**
 * Chat notifications (config notifications.slack): an AWS Chatbot Slack channel configuration on the releases
 * topic, whose role can do nothing and whose guardrail denies every command; without the option, nothing of it.
 */
import { TOPIC_FORMAT_OUTPUT } from '../cli/target';
import { resourcesOfType, synth } from './support/synth';

const SLACK = { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' };

describe('chat notifications (AWS Chatbot, Slack)', () => {
  const withSlack = synth({ notifications: { slack: SLACK } });
  const without = synth();

  test('off by default: no channel configuration, no role for it', () => {
    without.service.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    expect(JSON.stringify(without.serviceJson)).not.toContain('chatbot');
    // Nor the settings that switch the steps' messages to custom notifications: they publish the outcome JSON.
    expect(JSON.stringify(without.serviceJson)).not.toContain('chatNotifications');
  });

  test('the channel configuration is the configured workspace and channel, subscribed to the releases topic', () => {
    const topics = Object.keys(resourcesOfType(withSlack.serviceJson, 'AWS::SNS::Topic'));
    const releases = topics.filter(
      (id) => withSlack.serviceJson.Resources[id].Properties?.TopicName === 'bluegreen-shop-releases',
    );
    expect(releases).toHaveLength(1);
    withSlack.service.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    withSlack.service.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      ConfigurationName: 'bluegreen-shop-releases',
      SlackWorkspaceId: 'T07EXAMPLE',
      SlackChannelId: 'C07EXAMPLE',
      SnsTopicArns: [{ Ref: releases[0] }],
      LoggingLevel: 'ERROR',
      UserRoleRequired: true,
    });
  });

  test('least privilege: a role only Chatbot can assume, with no policy at all; a guardrail that denies everything; user roles required', () => {
    const [config] = Object.values(
      resourcesOfType(withSlack.serviceJson, 'AWS::Chatbot::SlackChannelConfiguration'),
    );
    // The guardrail bounds what channel members could run: AWSDenyAll, never the default AdministratorAccess.
    expect(config.GuardrailPolicies).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSDenyAll']] },
    ]);
    const roleId = (config.IamRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = withSlack.serviceJson.Resources[roleId];
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'chatbot.amazonaws.com' } },
        ],
      },
    });
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties?.Policies).toBeUndefined();
    const attached = Object.values(resourcesOfType(withSlack.serviceJson, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Roles).includes(roleId),
    );
    expect(attached).toEqual([]);
    const managed = Object.values(resourcesOfType(withSlack.serviceJson, 'AWS::IAM::ManagedPolicy')).filter(
      (p) => JSON.stringify(p.Roles ?? []).includes(roleId),
    );
    expect(managed).toEqual([]);
  });

  test('the option adds the channel configuration and its role, tells the publishers (steps and CLI), and changes nothing else in the template', () => {
    const before = without.serviceJson.Resources;
    const after = withSlack.serviceJson.Resources;
    const added = Object.keys(after).filter((id) => !(id in before));
    expect(added.map((id) => after[id].Type).sort()).toEqual([
      'AWS::Chatbot::SlackChannelConfiguration',
      'AWS::IAM::Role',
    ]);
    expect(Object.keys(before).filter((id) => !(id in after))).toEqual([]);
    // Every step that publishes gets `chatNotifications: true` in its settings (BLUEGREEN_SETTINGS, JSON in a
    // Fn::Join); nothing else differs.
    const flag = ',\\"chatNotifications\\":true';
    const told: string[] = [];
    for (const id of Object.keys(before)) {
      const json = JSON.stringify(after[id]);
      if (json.includes(flag)) {
        told.push(id);
      }
      expect([id, JSON.parse(json.split(flag).join('')) as unknown]).toEqual([id, before[id]]);
    }
    const publishers = Object.entries(resourcesOfType(without.serviceJson, 'AWS::Lambda::Function'))
      .filter(([, fn]) => JSON.stringify(fn.Environment ?? {}).includes('topicArn'))
      .map(([id]) => id);
    expect(publishers.length).toBeGreaterThan(5);
    expect(told.sort()).toEqual(publishers.sort());
    // The CLI publishes outcomes too (bluegreen rollback): it reads the format from this output.
    const { [TOPIC_FORMAT_OUTPUT]: format, ...others } = withSlack.serviceJson.Outputs!;
    expect(format).toEqual({
      Description: 'Release topic messages: AWS Chatbot custom notifications',
      Value: 'chatbot',
    });
    expect(others).toEqual(without.serviceJson.Outputs);
  });

  test('the releases topic keeps its policy, HTTPS only, with no statement for Chatbot (its service-linked role subscribes)', () => {
    const releases = Object.entries(resourcesOfType(withSlack.serviceJson, 'AWS::SNS::Topic')).find(
      ([, t]) => t.TopicName === 'bluegreen-shop-releases',
    )![0];
    const policies = Object.values(resourcesOfType(withSlack.serviceJson, 'AWS::SNS::TopicPolicy')).filter(
      (p) => JSON.stringify(p.Topics) === JSON.stringify([{ Ref: releases }]),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0].PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(JSON.stringify(statements)).not.toContain('chatbot');
  });
});
