import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnResource, Validations, type App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { synth } from './support/synth';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(app: App): Acknowledgement[] {
  const walk = (c: IConstruct): Acknowledgement[] => [
    ...c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id, reason })),
    ...c.node.children.flatMap(walk),
  ];
  return walk(app);
}

/** One synth per configuration in this file: two tests read the same app. */
const apps = new Map<string, App>();
function appFor(overrides: Parameters<typeof synth>[0]): App {
  const key = JSON.stringify(overrides);
  if (!apps.has(key)) {
    apps.set(key, synth(overrides).app);
  }
  return apps.get(key)!;
}

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['the default configuration', {}],
    [
      'HTTPS, Redis with replicas, a warm idle color',
      {
        listeners: { certificateArn: CERT, domainName: 'shop.example.com' },
        redis: { enabled: true },
        keepIdleWarm: true,
      },
    ],
    ['single-node Redis', { redis: { enabled: true, replicas: 0 } }],
    [
      'a public image and bigger tasks',
      { image: { repository: 'public.ecr.aws/nginx/nginx' }, container: { cpu: 1024, memoryMiB: 2048 } },
    ],
    ['a shared database (ecs)', { database: {} }],
    [
      'auto scaling (ecs)',
      { scaling: { minCount: 2, maxCount: 20, targets: { requestsPerTarget: 1000, memoryPercent: 70 } } },
    ],
    [
      'auto scaling with a warm idle color and a deploy role (asg)',
      {
        platform: 'asg' as const,
        keepIdleWarm: true,
        githubDeployRole: { repository: 'acme/shop' },
        scaling: { minCount: 1, maxCount: 10, targets: { cpuPercent: 60 } },
      },
    ],
    [
      'Slack notifications (AWS Chatbot)',
      { notifications: { slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' } } },
    ],
    ['a shared database (asg)', { platform: 'asg' as const, database: {} }],
    [
      'lifecycle hooks (all three) and a validation hook',
      {
        release: {
          validationHookArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-tests',
          hooks: {
            beforeDeploy: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission' },
            afterShift: {
              functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-production-tests:live',
            },
            onRollback: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-page-on-call' },
          },
        },
      },
    ],
    [
      'a shared database without deletion protection, with Redis (asg)',
      { platform: 'asg' as const, redis: { enabled: true }, database: { deletionProtection: false } },
    ],
  ])('%s: no unacknowledged finding in any stack', (_what, overrides) => {
    // synth() runs the AwsSolutions checks as `cdk synth` does; a finding throws with the report.
    const app = appFor(overrides);
    const reportFile = join(app.outdir, 'validation-report.json');
    let report = '';
    try {
      report = readFileSync(reportFile, 'utf8');
    } catch {
      // No report file: nothing was found.
    }
    expect(report).not.toMatch(/"status":\s*"failure"/);
  });

  test('the checks really run: an unacknowledged finding fails the synth', () => {
    expect(() =>
      synth({}, (stacks) => {
        // An S3 bucket without SSL enforcement or access logs: AwsSolutions-S1 and S10.
        new s3.Bucket(stacks.service, 'Careless');
      }),
    ).toThrow(/AwsSolutions-S1/);
  });

  test("so does CDK's CloudFormation Validate (in the worker's engines): a property CloudFormation refuses fails it", () => {
    expect(() =>
      synth({}, (stacks) => {
        new CfnResource(stacks.service, 'Misspelt', {
          type: 'AWS::SNS::Topic',
          properties: { TopicNmae: 'x' },
        });
      }),
    ).toThrow(/TopicNmae: Additional properties are not allowed .*\(CloudFormation Validate\)/);
  });

  test('every acknowledgement names one rule on one resource and says why it is fine for this app', () => {
    const app = appFor({ redis: { enabled: true, replicas: 0 } }); // the single-node Redis app above
    // Ours: the AwsSolutions ones (CDK itself acknowledges a few CloudFormation-Validate warnings).
    const acks = acknowledgements(app).filter((a) => a.id.startsWith('AwsSolutions::'));
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      // On a resource, never on a whole stack or the app: no blanket suppression.
      expect(ack.path.split('/').length).toBeGreaterThan(1);
      expect(ack.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      // A reason a reviewer can check: specific, more than a slogan.
      expect(ack.reason.length).toBeGreaterThan(80);
    }
    expect(acks.map((a) => `${a.id} @ ${a.path}`).sort()).toMatchSnapshot();
  });
});
