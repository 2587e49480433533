/**
 * The optional GitHub Actions deploy role (config githubDeployRole): assumable only by the configured repository
 * and branch through GitHub's OIDC provider, and able to do exactly what the pipeline does for this app.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { resourcesOfType, synth } from './support/synth';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };

function roleStatements(t: ReturnType<typeof synth>): Statement[] {
  const policies = resourcesOfType(t.serviceJson, 'AWS::IAM::Policy');
  const role = Object.keys(resourcesOfType(t.serviceJson, 'AWS::IAM::Role')).find((id) =>
    id.startsWith('GitHubDeployRole'),
  )!;
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Roles).includes(role))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('GitHub deploy role', () => {
  test('off by default: no OIDC provider, no role', () => {
    const t = synth();
    t.service.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(t.serviceJson.Outputs?.GitHubDeployRoleArn).toBeUndefined();
  });

  test('trusts only the repository and branch, through the OIDC provider it creates (cdk-nag clean)', () => {
    const t = synth({ githubDeployRole: { repository: 'acme/shop', branch: 'release' } });
    t.service.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    t.service.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'bluegreen-shop-github-deploy',
      MaxSessionDuration: 3 * 3600, // a whole release (maxReleaseMinutes 120) plus an hour
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': 'repo:acme/shop:ref:refs/heads/release',
              },
            },
          }),
        ],
      },
    });
    expect(t.serviceJson.Outputs?.GitHubDeployRoleArn).toBeDefined();
  });

  test('an existing provider is used, not created', () => {
    const arn = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
    const t = synth({ githubDeployRole: { repository: 'acme/shop', oidcProviderArn: arn } });
    t.service.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    t.service.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: arn } })] },
    });
  });

  test('can push the image, deploy through the CDK roles, start and follow releases; nothing else', () => {
    const statements = roleStatements(synth({ githubDeployRole: { repository: 'acme/shop' } }));
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(
      [
        'sts:AssumeRole',
        'ecr:GetAuthorizationToken',
        'ecr:BatchCheckLayerAvailability',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
        'ecr:BatchGetImage',
        'ecr:DescribeImages',
        'cloudformation:DescribeStacks',
        'states:StartExecution',
        'states:ListExecutions',
        'states:DescribeStateMachine',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'dynamodb:GetItem',
        'ssm:GetParameters',
        'ecs:DescribeServices',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeTargetHealth',
      ].sort(),
    );
    // No way to answer the gate or roll back: those are operators' calls.
    expect(
      actions.some((a) => /SendTask|StopExecution|ModifyListener|PutParameter|UpdateService/.test(a)),
    ).toBe(false);
    const byId = Object.fromEntries(statements.map((s) => [s.Sid, JSON.stringify(s.Resource)]));
    expect(byId.CdkDeploy).toContain(':role/cdk-hnb659fds-*-');
    expect(byId.EcrPush).toContain('repository/shop');
    // Wildcard resources only where the API has no resource-level permissions.
    for (const [sid, resource] of Object.entries(byId)) {
      if (resource === '"*"') {
        expect(['EcrLogin', 'ReadTraffic']).toContain(sid);
      }
    }
  });
});
