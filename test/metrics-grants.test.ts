/**
 * grantReadTrafficMetrics (lib/constructs/metrics-grants.ts): the analysis step's one CloudWatch read, and its
 * wildcard acknowledged to cdk-nag. A small stack with the AwsSolutions checks on, as `cdk synth` runs them.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { grantReadTrafficMetrics } from '../lib/constructs/metrics-grants';
import { acknowledge } from '../lib/nag';
import { tempDir } from './support/temp';

/** A function whose only nag findings, apart from what `grant` adds, are acknowledged here. */
function stackWith(grant: (fn: lambda.Function) => void): { app: App; stack: Stack } {
  const app = new App({ outdir: tempDir('bluegreen-metrics-grants-') });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Grants', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = new lambda.Function(stack, 'Analyse', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  acknowledge(
    fn.role!,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Test fixture: the basic execution role is not under test.',
  );
  acknowledge(fn, 'AwsSolutions-L1', 'Test fixture: the runtime is not under test.');
  grant(fn);
  return { app, stack };
}

describe('grantReadTrafficMetrics', () => {
  test("allows cloudwatch:GetMetricData on '*' to the function's role, nothing else", () => {
    const { app, stack } = stackWith(grantReadTrafficMetrics);
    app.synth();
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' }],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^AnalyseServiceRole') }],
    });
  });

  test('its wildcard is acknowledged to cdk-nag with the reason (the same statement without it fails the synth)', () => {
    expect(() => stackWith(grantReadTrafficMetrics).app.synth()).not.toThrow();
    expect(() =>
      stackWith((fn) =>
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
        ),
      ).app.synth(),
    ).toThrow(/AwsSolutions-IAM5/);

    const { stack } = stackWith(grantReadTrafficMetrics);
    const role = stack.node.findAll().find((c) => c.node.id === 'ServiceRole')!;
    const reasons = role.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(reasons).toContainEqual([
      'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      expect.stringContaining('cloudwatch:GetMetricData supports no resource-level permissions'),
    ]);
  });
});
