/**
 * The CLI publishes outcomes itself (`bluegreen rollback`, warm and cold) with the notifier the steps use. The
 * releases topic's message is the outcome JSON, as it always was, unless the stack configures `notifications.slack`:
 * then the stack has the output ReleaseTopicFormat "chatbot" and the message is an AWS Chatbot custom notification
 * carrying the outcome, as the steps' are.
 */
import { TOPIC_FORMAT_OUTPUT } from '../../cli/target';
import { ME, MockAws, history } from './mock-aws';
import { releasedKeptWarm } from './operate-support';
import { ColdAws } from './mock-cold';
import { bluegreen } from './support';

let aws: MockAws;
afterEach(() => aws.restore());

interface Notification {
  source: string;
  content: { title: string };
  metadata: { threadId: string; additionalContext: { outcome: string } };
}

describe('bluegreen rollback (old color warm): what reaches the releases topic', () => {
  beforeEach(() => {
    aws = new MockAws();
    history.reset();
    releasedKeptWarm(aws);
  });

  test('a stack without Slack: the outcome JSON, exactly as before chat notifications', async () => {
    const { code } = await bluegreen('rollback --yes --reason checkout-errors');
    expect(code).toBe(0);
    expect(aws.published).toHaveLength(1);
    const [{ subject, message, raw }] = aws.published;
    expect(subject).toBe('bluegreen shop: Release Rolled Back');
    expect(message).toMatchObject({ app: 'shop', status: 'ROLLED_BACK', liveColor: 'blue' });
    expect(message.cause).toContain(`Rolled back by ${ME} with bluegreen rollback: checkout-errors.`);
    expect(raw).toBe(JSON.stringify(message, null, 2));
  });

  test(`a stack with Slack (${TOPIC_FORMAT_OUTPUT} "chatbot"): a Chatbot custom notification carrying the outcome`, async () => {
    aws.extraOutputs[TOPIC_FORMAT_OUTPUT] = 'chatbot';
    const { code } = await bluegreen('rollback --yes --reason checkout-errors');
    expect(code).toBe(0);
    expect(aws.published).toHaveLength(1);
    const n = JSON.parse(aws.published[0].raw) as Notification;
    expect(n.source).toBe('custom');
    expect(n.content.title).toMatch(/^:leftwards_arrow_with_hook: shop v2: rolled back/);
    expect(JSON.parse(n.metadata.additionalContext.outcome)).toMatchObject({
      app: 'shop',
      status: 'ROLLED_BACK',
      liveColor: 'blue',
    });
  });

  test('an output value this version does not know is a clear error, before anything is done', async () => {
    aws.extraOutputs[TOPIC_FORMAT_OUTPUT] = 'teams';
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).not.toBe(0);
    expect(err).toBe(
      `StackOutputsInvalid: Stack "shop" has the output ${TOPIC_FORMAT_OUTPUT} "teams", not "chatbot": deploy it ` +
        'again with this version (npx cdk deploy --all).',
    );
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
    expect(aws.published).toEqual([]);
  });
});

describe('bluegreen rollback (old color cold): what reaches the releases topic', () => {
  beforeEach(async () => {
    aws = await new ColdAws('ecs').start();
    history.reset();
  });

  test('a stack without Slack: the outcome JSON', async () => {
    const { code, err } = await bluegreen('rollback --yes --reason v2-corrupts-carts');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(aws.published).toHaveLength(1);
    const [{ message, raw }] = aws.published;
    expect(message).toMatchObject({ status: 'ROLLED_BACK', liveColor: 'blue' });
    expect(raw).toBe(JSON.stringify(message, null, 2));
  });

  test('a stack with Slack: a Chatbot custom notification carrying the outcome', async () => {
    aws.extraOutputs[TOPIC_FORMAT_OUTPUT] = 'chatbot';
    const { code, err } = await bluegreen('rollback --yes --reason v2-corrupts-carts');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(aws.published).toHaveLength(1);
    const n = JSON.parse(aws.published[0].raw) as Notification;
    expect(n.source).toBe('custom');
    expect(n.content.title).toMatch(/^:leftwards_arrow_with_hook: shop v2: rolled back — Cold rollback by /);
    expect(JSON.parse(n.metadata.additionalContext.outcome)).toMatchObject({
      status: 'ROLLED_BACK',
      liveColor: 'blue',
    });
  });
});
