/**
 * Chat notifications (config notifications.slack): an AWS Chatbot Slack channel configuration on the releases
 * topic, whose role can do nothing and whose guardrail denies every command; without the option, nothing of it.
 */
import { resourcesOfType, synth } from './support/synth';

const SLACK = { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' };

describe('chat notifications (AWS Chatbot, Slack)', () => {
  const withSlack = synth({ notifications: { slack: SLACK } });
  const without = synth();

  test('off by default: no channel configuration, no role for it', () => {
    without.service.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    expect(JSON.stringify(without.serviceJson)).not.toContain('chatbot');
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

  test('the option adds the channel configuration and its role, and changes nothing else in the template', () => {
    const before = without.serviceJson.Resources;
    const after = withSlack.serviceJson.Resources;
    const added = Object.keys(after).filter((id) => !(id in before));
    expect(added.map((id) => after[id].Type).sort()).toEqual([
      'AWS::Chatbot::SlackChannelConfiguration',
      'AWS::IAM::Role',
    ]);
    expect(Object.keys(before).filter((id) => !(id in after))).toEqual([]);
    for (const id of Object.keys(before)) {
      expect([id, after[id]]).toEqual([id, before[id]]);
    }
    expect(withSlack.serviceJson.Outputs).toEqual(without.serviceJson.Outputs);
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
