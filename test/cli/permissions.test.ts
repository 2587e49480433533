/**
 * The IAM the stack grants to CLI users matches what the CLI really calls: every AWS call the CLI makes in these
 * runs (recorded by the mocked clients) is allowed by the operator policy, and the pipeline's calls (release
 * --wait, status, history) by the GitHub deploy role, which can do nothing more than that.
 */
import { resourcesOfType, synth } from '../support/synth';
import { MockAws, REPO, history, releaseOf } from './mock-aws';
import { ColdAws } from './mock-cold';
import { mockCloudWatch } from './mock-report';
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
  AutoScalingClient: 'autoscaling',
  EC2Client: 'ec2',
  LambdaClient: 'lambda',
  CloudWatchClient: 'cloudwatch',
};

/** The IAM action of a call whose command is named otherwise. */
const ACTION_OF: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

/** What AWS checks the caller may do behind a call it makes (moving a group onto a launch template). */
const IMPLIED: Record<string, string[]> = {
  'autoscaling:UpdateAutoScalingGroup': ['ec2:RunInstances', 'iam:PassRole', 'ec2:CreateTags'],
  'autoscaling:StartInstanceRefresh': ['ec2:RunInstances', 'iam:PassRole', 'ec2:CreateTags'],
  // A revision with task roles and tags (a color's old revision registered again).
  'ecs:RegisterTaskDefinition': ['iam:PassRole', 'ecs:TagResource'],
};

/** The IAM actions behind every call the mocked clients received (STS GetCallerIdentity needs none). */
function actionsCalled(
  aws: MockAws,
  others: Record<string, { calls(): { args: unknown[] }[] }> = {},
): Set<string> {
  const mocks = {
    ...(aws instanceof ColdAws ? { LambdaClient: aws.lambda } : {}),
    ...others,
    SFNClient: aws.sfn,
    CloudFormationClient: aws.cfn,
    DynamoDBClient: aws.ddb,
    SSMClient: aws.ssm,
    ElasticLoadBalancingV2Client: aws.elb,
    ECSClient: aws.ecs,
    SNSClient: aws.sns,
    EventBridgeClient: aws.events,
    AutoScalingClient: aws.autoscaling,
    EC2Client: aws.ec2,
  };
  const actions = new Set<string>();
  for (const [client, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      const named = `${PREFIX[client]}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`;
      const action = ACTION_OF[named] ?? named;
      actions.add(action);
      for (const implied of IMPLIED[action] ?? []) {
        actions.add(implied);
      }
    }
  }
  return actions;
}

function policyActions(document: unknown): Set<string> {
  const statements = (document as { Statement: { Action: string | string[] }[] }).Statement;
  return new Set(statements.flatMap((s) => [s.Action].flat()));
}

const V2 = `${REPO}:v2`;
const LINEAR = { type: 'linear', stepPercent: 25, bakeSeconds: 120 } as const;
type Platform = 'ecs' | 'asg';
const stateOn = (platform: Platform) => ({
  execution: 'v2-x',
  release:
    platform === 'asg'
      ? // keepIdleWarm: green goes back to 2 instances of its old version, which takes an instance refresh
        {
          ...releaseOf(V2),
          revision: 'lt-green:4',
          idleBefore: { count: 2, image: `${REPO}:v1`, revision: 'lt-green:3' },
        }
      : releaseOf(V2),
});

async function pipelineCalls(platform: Platform): Promise<Set<string>> {
  const state = stateOn(platform);
  const aws = new MockAws(platform);
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

async function operatorCalls(platform: Platform): Promise<Set<string>> {
  const state = stateOn(platform);
  const aws = new MockAws(platform);
  history.reset();
  aws.services.green = { desired: 2, running: 2, revision: platform === 'asg' ? 'lt-green:4' : 'x' };
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
  // A cdk deploy changed the task definition meanwhile: green's old revision is deregistered, so the rollback
  // registers it again to put green back.
  aws.deregistered.push(state.release.idleBefore.revision!);
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
  // A gradual shift: promote (a request on the lock item), then a rollback from the split listener.
  aws.executions[1].status = 'SUCCEEDED';
  const shifting = {
    ...state,
    execution: 'v4-z',
    release: {
      ...state.release,
      shift: {
        strategy: LINEAR,
        steps: [25, 50, 75],
        step: 0,
        weights: { blue: 750, green: 250 },
        extensions: 0,
        waitSeconds: 120,
        verdicts: [],
        dryRun: false,
      },
    },
  };
  aws.record = { live: 'blue', images: { blue: `${REPO}:v1`, green: `${REPO}:v1` } };
  aws.weights = { blue: 750, green: 250 };
  aws.lock = { owner: 'v4-z', image: V2, since: 'now', expiresAt: Date.now() / 1000 + 3600 };
  aws.executions.push({
    name: 'v4-z',
    status: 'RUNNING',
    input: '{}',
    start: new Date(),
    events: [history.entered('Bake step', 'Wait', shifting)],
  });
  expect((await bluegreen('promote --yes')).code).toBe(0);
  expect((await bluegreen('rollback --yes')).code).toBe(0);
  // The report of the latest release: its execution, its history, and each color's metrics.
  const cloudwatch = mockCloudWatch();
  expect((await bluegreen('report --json')).code).toBe(0);
  aws.restore();
  cloudwatch.restore();
  return new Set([
    ...actionsCalled(aws, { CloudWatchClient: cloudwatch }),
    ...(await coldCalls(platform)),
    ...(await pipelineCalls(platform)),
  ]);
}

/** A rollback after the old color went cold: scale it up, have the Validate Lambda validate it, switch. */
async function coldCalls(platform: Platform): Promise<Set<string>> {
  const aws = await new ColdAws(platform).start();
  history.reset();
  expect((await bluegreen('rollback --yes')).code).toBe(0);
  const called = actionsCalled(aws);
  aws.restore();
  return called;
}

describe.each(['ecs', 'asg'] as const)('CLI permissions on %s', (platform) => {
  const t = synth({ platform, githubDeployRole: { repository: 'acme/shop' } });

  test('the operator policy allows every call the CLI makes', async () => {
    const [operator] = Object.values(resourcesOfType(t.serviceJson, 'AWS::IAM::ManagedPolicy')).filter(
      (p) => p.ManagedPolicyName === 'bluegreen-shop-operator',
    );
    const allowed = policyActions(operator.PolicyDocument);
    const called = await operatorCalls(platform);
    expect(called.size).toBeGreaterThan(15);
    expect([...called].filter((a) => !allowed.has(a))).toEqual([]);
    // And nothing the CLI never calls.
    expect([...allowed].filter((a) => !called.has(a))).toEqual([]);
  });

  test('the operator may invoke the Validate Lambda, and no other function; it reads no secret', () => {
    const [operator] = Object.values(resourcesOfType(t.serviceJson, 'AWS::IAM::ManagedPolicy')).filter(
      (p) => p.ManagedPolicyName === 'bluegreen-shop-operator',
    );
    const statements = (operator.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
      .Statement;
    const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0].Action).toBe('lambda:InvokeFunction');
    const validateId = Object.keys(resourcesOfType(t.serviceJson, 'AWS::Lambda::Function')).find((id) =>
      id.includes('StepsValidateFunction'),
    );
    expect(invoke[0].Resource).toEqual({ 'Fn::GetAtt': [validateId, 'Arn'] });
    expect(JSON.stringify(statements)).not.toContain('secretsmanager:');
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
    const called = await pipelineCalls(platform);
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
