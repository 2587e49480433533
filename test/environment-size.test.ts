/**
 * Lambda refuses a function whose environment passes 4 KB, at deploy time. Every step's environment is sized
 * with the longest values its references can take once deployed (lib/constructs/environment-size.ts), for the
 * largest configuration the schema accepts; an environment over the limit is refused at synth.
 */
import type { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  environmentSizes,
  LAMBDA_ENVIRONMENT_LIMIT,
  worstCaseLength,
} from '../lib/constructs/environment-size';
import { decodeSmokeChecks } from '../lambda/adapters/step-environment';
import { stepSettings } from '../lambda/adapters/aws-deps';
import { synth, type Synthesized } from './support/synth';

/** The longest region name there is, the longest partition's ARNs for the hook, every string at its maximum. */
const REGION = 'ap-southeast-5';
const largest = (platform: 'ecs' | 'asg') => ({
  appName: 'a'.repeat(20),
  platform,
  aws: { region: REGION },
  image: {
    repository: `123456789012.dkr.ecr.${REGION}.amazonaws.com/${'r'.repeat(256 - 50)}`,
    initialTag: 't'.repeat(128),
  },
  healthCheck: { path: `/${'h'.repeat(63)}` },
  listeners: {
    certificateArn: `arn:aws:acm:${REGION}:123456789012:certificate/12345678-1234-1234-1234-123456789012`,
    domainName: `${['a', 'b', 'c'].map((c) => c.repeat(63)).join('.')}.${'d'.repeat(57)}.com`,
    testPort: 65535,
  },
  keepIdleWarm: true,
  // Scaling's settings at their longest: the widest bounds each platform accepts.
  container: { desiredCount: 100 },
  instances: { maxCount: 100 },
  scaling: {
    minCount: 100,
    maxCount: platform === 'ecs' ? 1000 : 100,
    targets: {
      requestsPerTarget: 1_000_000,
      cpuPercent: 100,
      ...(platform === 'ecs' ? { memoryPercent: 100 } : {}),
    },
  },
  release: {
    maxReleaseMinutes: 1440,
    validationHookArn: `arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:${'f'.repeat(64)}:${'q'.repeat(128)}`,
    // Every lifecycle hook, its function at the longest ARN, its timings at their widest.
    hooks: Object.fromEntries(
      ['beforeDeploy', 'afterShift', 'onRollback'].map((h) => [
        h,
        {
          functionArn: `arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:${h[0].repeat(64)}:${'q'.repeat(128)}`,
          timeoutSeconds: 3600,
          pollSeconds: 300,
        },
      ]),
    ),
    smokeChecks: Array.from({ length: 20 }, (_, i) => ({
      path: `/${String(i).padEnd(63, 'p')}`,
      expectStatus: 599,
      expectVersion: true,
      latencyBudgetMs: 60_000,
    })),
  },
  approval: { at: 'before-switch' as const, timeoutMinutes: 600, onTimeout: 'approve' as const },
  migrations: { command: ['node', 'migrate.js'], timeoutMinutes: 60 },
  database: {},
  // Slack adds `chatNotifications: true` to the settings of every step that publishes.
  notifications: { slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' } },
});

function stepEnvironments(s: Synthesized): Record<string, Record<string, string>> {
  const stack = s.stacks.service;
  return Object.fromEntries(
    Object.entries(s.stacks.service.workflow.functions).map(([step, fn]) => [
      step,
      (
        stack.resolve((fn.node.defaultChild as CfnFunction).environment) as {
          variables: Record<string, string>;
        }
      ).variables,
    ]),
  );
}

describe.each(['ecs', 'asg'] as const)('the largest configuration the schema accepts (%s)', (platform) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth(largest(platform)); // synth runs the limit check: it would throw here
  });

  test("every step's environment fits in Lambda's 4 KB with real-length ARNs", () => {
    const stack = s.stacks.service;
    const envs = stepEnvironments(s);
    expect(Object.keys(envs).length).toBeGreaterThanOrEqual(15);
    for (const [step, variables] of Object.entries(envs)) {
      const total = Object.values(environmentSizes(variables, stack)).reduce((a, b) => a + b, 0);
      expect({ step, fits: total <= LAMBDA_ENVIRONMENT_LIMIT, total }).toEqual({ step, fits: true, total });
    }
  });

  test('the Validate step gets every smoke check; the other steps none, and reading them there is a named error', () => {
    const envs = stepEnvironments(s);
    const stack = s.stacks.service;
    const resolved = (step: string) =>
      Object.fromEntries(
        Object.entries(envs[step]).map(([k, v]) => [
          k,
          // The references as placeholders, enough to parse the JSON.
          JSON.stringify(stack.resolve(v)).includes('Fn::') ? placeholders(stack.resolve(v)) : v,
        ]),
      );
    const validate = stepSettings(resolved('validate'));
    expect(validate.workflow.smokeChecks).toHaveLength(20);
    expect(validate.workflow.smokeChecks[3]).toEqual({
      path: `/3${'p'.repeat(62)}`,
      expectStatus: 599,
      expectVersion: true,
      latencyBudgetMs: 60_000,
    });
    expect(validate.aws.validationHookArn).toBe(largest(platform).release.validationHookArn);
    const watch = stepSettings(resolved('watch'));
    expect(watch.workflow.healthPath).toBe(largest(platform).healthCheck.path);
    expect(watch.aws.chatNotifications).toBe(true);
    expect(() => watch.workflow.smokeChecks).toThrow(
      expect.objectContaining({ name: 'ConfigurationMissing' }),
    );
  });
});

test('an environment over the limit is refused at synth, saying by how much and what to shorten', () => {
  expect(() =>
    synth({}, (stacks) => {
      (stacks.service.workflow.functions.validate as lambda.Function).addEnvironment(
        'EXTRA',
        'x'.repeat(3500),
      );
    }),
  ).toThrow(
    /Validate the idle color.*environment variables could reach \d+ bytes once deployed \(.*BLUEGREEN_SMOKE_CHECKS \d+.*EXTRA 3505\), over Lambda's limit of 4096 bytes.*shorten release\.smokeChecks/s,
  );
});

test('references are sized at the longest their resource can be once deployed', () => {
  const s = synth({});
  const stack: Stack = s.stacks.service;
  const tg = s.stacks.service.colors.blue.targetGroup.targetGroupArn;
  // A named target group: arn:aws:elasticloadbalancing:eu-west-1:<12>:targetgroup/shop-blue/<16 hex>
  expect(worstCaseLength(tg, stack)).toBe(
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/0123456789abcdef'.length,
  );
  // The lock table's generated name: <stack>-<logical id>-<13 random>.
  const table = s.stacks.service.workflow.lockTable;
  const logicalId = stack.resolve(
    (table.node.defaultChild as unknown as { logicalId: string }).logicalId,
  ) as string;
  expect(worstCaseLength(table.tableName, stack)).toBe(`shop-${logicalId}-ABCDEFGHIJKLM`.length);
  expect(() =>
    worstCaseLength(s.stacks.service.loadBalancer.loadBalancer.loadBalancerFullName, stack),
  ).toThrow(/no longest value known for Fn::GetAtt LoadBalancerFullName/);
});

/** A resolved CloudFormation string with its references as placeholders. */
function placeholders(v: unknown): string {
  if (typeof v === 'string') {
    return v;
  }
  const [fn, arg] = Object.entries(v as Record<string, unknown>)[0];
  if (fn === 'Fn::Join') {
    const [sep, parts] = arg as [string, unknown[]];
    return parts.map(placeholders).join(sep);
  }
  return `<${fn}>`;
}

test('smoke checks survive their compact encoding', () => {
  expect(decodeSmokeChecks('[["/a",200,0,1000],["/b?x=1",404,1,5]]')).toEqual([
    { path: '/a', expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
    { path: '/b?x=1', expectStatus: 404, expectVersion: true, latencyBudgetMs: 5 },
  ]);
});
