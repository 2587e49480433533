import { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { parseEcrRepository } from '../config';

/**
 * The configured image repository as an ECR repository construct and its literal name (child `Repository` of `scope`), so pulls can be
 * granted on exactly it; undefined for a repository outside ECR (a public registry needs no grant).
 */
export function ecrRepositoryOf(
  scope: Construct,
  repository: string,
): { readonly repository: ecr.IRepository; readonly name: string } | undefined {
  const parsed = parseEcrRepository(repository);
  if (!parsed) {
    return undefined;
  }
  const imported = ecr.Repository.fromRepositoryArn(
    scope,
    'Repository',
    Stack.of(scope).formatArn({
      service: 'ecr',
      account: parsed.account,
      region: parsed.region,
      resource: 'repository',
      resourceName: parsed.name,
    }),
  );
  // The name as a literal (the imported repository's name is a token): acknowledgements quote it.
  return { repository: imported, name: parsed.name };
}
