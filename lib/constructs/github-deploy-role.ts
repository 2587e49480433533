import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { parseEcrRepository, type BluegreenConfig } from '../config';
import { acknowledge, nagArnParts } from '../nag';
import { acknowledgeCliWildcards, cliStatements, type CliAccessProps } from './cli-access';

const GITHUB_OIDC = 'token.actions.githubusercontent.com';

export interface GitHubDeployRoleProps extends Omit<CliAccessProps, 'appName'> {
  readonly config: BluegreenConfig;
  readonly settings: NonNullable<BluegreenConfig['githubDeployRole']>;
}

/**
 * The role the GitHub Actions pipeline (pipeline/github-actions-release.yml) assumes with OIDC, no static keys:
 * only the configured repository and branch can assume it, and it can do exactly what the pipeline does for this
 * app: push the image to the app's ECR repository, run `cdk deploy` (through the CDK bootstrap roles), and start
 * and follow releases with `bluegreen release --wait`. It cannot approve, reject or roll back: operators do.
 */
export class GitHubDeployRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployRoleProps) {
    super(scope, id);
    const { config, settings } = props;
    const stack = Stack.of(this);
    const providerArn =
      settings.oidcProviderArn ??
      new iam.OidcProviderNative(this, 'GitHubOidc', {
        url: `https://${GITHUB_OIDC}`,
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;
    // Long enough to follow a whole release (`bluegreen release --wait`), capped at IAM's 12 hours.
    const sessionMinutes = Math.min(12 * 60, Math.max(60, config.release.maxReleaseMinutes + 60));
    this.role = new iam.Role(this, 'Role', {
      roleName: `bluegreen-${config.appName}-github-deploy`,
      description: `bluegreen ${config.appName}: GitHub Actions of ${settings.repository} (${settings.branch}) push, deploy and release`,
      maxSessionDuration: Duration.minutes(sessionMinutes),
      assumedBy: new iam.WebIdentityPrincipal(providerArn, {
        StringEquals: {
          [`${GITHUB_OIDC}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC}:sub`]: `repo:${settings.repository}:ref:refs/heads/${settings.branch}`,
        },
      }),
    });
    const allow = (sid: string, actions: string[], resources: string[]) =>
      this.role.addToPolicy(new iam.PolicyStatement({ sid, actions, resources }));

    // cdk deploy: through the bootstrap roles of this account and region (the CDK CLI assumes them).
    const qualifier =
      (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ?? 'hnb659fds';
    allow(
      'CdkDeploy',
      ['sts:AssumeRole'],
      [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: `cdk-${qualifier}-*-${stack.account}-${stack.region}`,
        }),
      ],
    );

    // The image: pushed to the app's repository when it is a private ECR repository.
    const ecr = parseEcrRepository(config.image.repository);
    if (ecr) {
      allow('EcrLogin', ['ecr:GetAuthorizationToken'], ['*']);
      allow(
        'EcrPush',
        [
          'ecr:BatchCheckLayerAvailability',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
          'ecr:PutImage',
          'ecr:BatchGetImage',
          'ecr:DescribeImages',
        ],
        [`arn:${stack.partition}:ecr:${ecr.region}:${ecr.account}:repository/${ecr.name}`],
      );
    }

    // bluegreen release --wait: find the app, start the release, follow it; read what status reads.
    for (const statement of cliStatements(this, { ...props, appName: config.appName }, 'release')) {
      this.role.addToPolicy(statement);
    }
    acknowledgeCliWildcards(
      this.role,
      { ...props, appName: config.appName },
      'release',
      ecr
        ? ' Neither has ecr:GetAuthorizationToken (a registry login); the pushes are scoped to the repository.'
        : '',
    );
    const { partition, region, account } = nagArnParts(stack);
    acknowledge(
      this.role,
      `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${account}:role/cdk-${qualifier}-*-${account}-${region}]`,
      'cdk deploy assumes the CDK bootstrap roles (deploy, file and image publishing, lookup) of this account and ' +
        'region; the wildcard spans those roles and nothing else.',
    );
  }
}
