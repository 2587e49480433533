/**
 * The IAM the stack grants to CLI users matches what the CLI really calls: every AWS call the CLI makes in these
 * runs (recorded by the mocked clients) is allowed by the operator policy, and the pipeline's calls (release
 * --wait, status, history) by the GitHub deploy role, which can do nothing more than that.
 */
import { resourcesOfType, synth } from '../support/synth';
import { MockAws, REPO, history, releaseOf } from './mock-aws';
import { bluegreen } from './support';

const PREFIX: Record<string, string> = {
  SFNClient: 'states',
  CloudFormationClient: 'cloudformation',
  DynamoDBClient: 'dynamodb',
  SSMClient: 'ssm',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  ECSClient: 'ecs',
  SNSClient: 'sns',
  EventBridgeClient: 'events',
};

/** The IAM actions behind every call the mocked clients received (STS GetCallerIdentity needs none). */
function actionsCalled(aws: MockAws): Set<string> {
  const mocks = {
    SFNClient: aws.sfn,
    CloudFormationClient: aws.cfn,
    DynamoDBClient: aws.ddb,
    SSMClient: aws.ssm,
    ElasticLoadBalancingV2Client: aws.elb,
    ECSClient: aws.ecs,
    SNSClient: aws.sns,
    EventBridgeClient: aws.events,
  };
  const actions = new Set<string>();
  for (const [client, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      actions.add(`${PREFIX[client]}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`);
    }
  }
  return actions;
}

function policyActions(document: unknown): Set<string> {
  const statements = (document as { Statement: { Action: string | string[] }[] }).Statement;
  return new Set(statements.flatMap((s) => [s.Action].flat()));
}

const V2 = `${REPO}:v2`;
const state = { execution: 'v2-x', release: releaseOf(V2) };

async function pipelineCalls(): Promise<Set<string>> {
  const aws = new MockAws();
  history.reset();
  let reads = 0;
  aws.onHistoryRead = (e) => {
    if (reads++ === 0) {
      e.events.push(
        history.started({}),
        history.entered('Released', 'Succeed', state),
        history.succeeded(state),
      );
    }
  };
  await bluegreen(`release --image ${V2} --wait`);
  await bluegreen('status');
  await bluegreen('history');
  aws.restore();
  return actionsCalled(aws);
}

async function operatorCalls(): Promise<Set<string>> {
  const aws = new MockAws();
  history.reset();
  aws.services.green = { desired: 2, running: 2, revision: 'x' };
  const released = () => {
    aws.record = { live: 'green', images: { blue: `${REPO}:v1`, green: V2 } };
    aws.weights = { blue: 0, green: 100 };
  };
  released();
  expect((await bluegreen('rollback --yes')).code).toBe(0); // after a release: lock, listener, rule, record, publish
  released();
  aws.lock = { owner: 'v2-x', image: V2, since: 'now', expiresAt: Date.now() / 1000 + 3600 };
  aws.executions.push({
    name: 'v2-x',
    status: 'RUNNING',
    input: '{}',
    start: new Date(),
    events: [history.entered('Bake: wait', 'Wait', state)],
  });
  expect((await bluegreen('rollback --yes')).code).toBe(0); // during the bake: stop, then the state machine's rollback
  aws.executions.push({
    name: 'v3-y',
    status: 'RUNNING',
    input: '{}',
    start: new Date(),
    events: [history.entered('Wait for approval', 'Task', state), history.scheduledCallback('t', state)],
  });
  aws.executions[0].status = 'ABORTED';
  expect((await bluegreen('approve')).code).toBe(0);
  expect((await bluegreen('reject')).code).toBe(0);
  aws.restore();
  return new Set([...actionsCalled(aws), ...(await pipelineCalls())]);
}

describe('CLI permissions', () => {
  const t = synth({ githubDeployRole: { repository: 'acme/shop' } });

  test('the operator policy allows every call the CLI makes', async () => {
    const [operator] = Object.values(resourcesOfType(t.serviceJson, 'AWS::IAM::ManagedPolicy')).filter(
      (p) => p.ManagedPolicyName === 'bluegreen-shop-operator',
    );
    const allowed = policyActions(operator.PolicyDocument);
    const called = await operatorCalls();
    expect(called.size).toBeGreaterThan(15);
    expect([...called].filter((a) => !allowed.has(a))).toEqual([]);
    // And nothing the CLI never calls.
    expect([...allowed].filter((a) => !called.has(a))).toEqual([]);
  });

  test('the GitHub deploy role allows what the pipeline calls, and no operator action', async () => {
    const role = Object.keys(resourcesOfType(t.serviceJson, 'AWS::IAM::Role')).find((id) =>
      id.startsWith('GitHubDeployRole'),
    )!;
    const allowed = new Set(
      Object.values(resourcesOfType(t.serviceJson, 'AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Roles).includes(role))
        .flatMap((p) => [...policyActions(p.PolicyDocument)]),
    );
    const called = await pipelineCalls();
    expect([...called].filter((a) => !allowed.has(a))).toEqual([]);
    for (const operatorOnly of [
      'states:StopExecution',
      'states:SendTaskSuccess',
      'elasticloadbalancing:ModifyListener',
      'ssm:PutParameter',
    ]) {
      expect(allowed.has(operatorOnly)).toBe(false);
    }
  });
});
