/** The notifications part of the configuration: Slack workspace and channel ids as AWS Chatbot takes them. */
import { ConfigError, parseConfig } from '../lib/config';
import { BASE_CONFIG, merge } from './support/synth';

function problemsOf(overrides: unknown): readonly string[] {
  try {
    parseConfig(merge(BASE_CONFIG, overrides));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

const WORKSPACE_RULE =
  'the Slack workspace id the AWS Chatbot console shows once the workspace is authorized, such as "T07EXAMPLE" (capital letters and digits)';
const CHANNEL_RULE =
  'a Slack channel id such as "C07EXAMPLE" (letters and digits, the end of the channel\'s link; not its name)';

describe('notifications.slack', () => {
  test('optional: without it there are no notifications', () => {
    expect(parseConfig(BASE_CONFIG).notifications).toBeUndefined();
  });

  test('takes a workspace id and a channel id as the Chatbot console and Slack show them', () => {
    const slack = { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' };
    expect(parseConfig({ ...BASE_CONFIG, notifications: { slack } }).notifications).toEqual({ slack });
    // Private channels and older ids are letters and digits too.
    expect(
      parseConfig({
        ...BASE_CONFIG,
        notifications: { slack: { workspaceId: 'E0123ABCD', channelId: 'G01ABCDEF9' } },
      }).notifications?.slack,
    ).toEqual({ workspaceId: 'E0123ABCD', channelId: 'G01ABCDEF9' });
  });

  test('a channel name, a link or a lower-case workspace id is one line each, saying what is expected', () => {
    expect(
      problemsOf({ notifications: { slack: { workspaceId: 't07example', channelId: '#releases' } } }),
    ).toEqual([
      `notifications.slack.workspaceId: must be ${WORKSPACE_RULE} (got "t07example")`,
      `notifications.slack.channelId: must be ${CHANNEL_RULE} (got "#releases")`,
    ]);
    expect(
      problemsOf({
        notifications: {
          slack: { workspaceId: 'T07EXAMPLE', channelId: 'https://acme.slack.com/archives/C07EXAMPLE' },
        },
      }),
    ).toEqual([
      `notifications.slack.channelId: must be ${CHANNEL_RULE} (got "https://acme.slack.com/archives/C07EXAMPLE")`,
    ]);
  });

  test('both ids are required, and nothing else is taken', () => {
    expect(problemsOf({ notifications: { slack: {} } })).toEqual([
      `notifications.slack.workspaceId: is required: ${WORKSPACE_RULE}`,
      `notifications.slack.channelId: is required: ${CHANNEL_RULE}`,
    ]);
    expect(
      problemsOf({
        notifications: { slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE', channel: 'releases' } },
      }),
    ).toEqual([
      'notifications.slack.channel: unknown field (did you mean "channelId"?); allowed: workspaceId, channelId',
    ]);
    expect(problemsOf({ notifications: { teams: {} } })).toEqual([
      'notifications.teams: unknown field; allowed: slack',
    ]);
  });
});
