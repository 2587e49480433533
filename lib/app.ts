import { Tags, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BluegreenStack } from './bluegreen-stack';
import { ConfigError, type BluegreenConfig } from './config';
import { ReleaseRecordStack } from './record-stack';

export interface BluegreenStacks {
  readonly record: ReleaseRecordStack;
  readonly service: BluegreenStack;
}

/** Stack names derive from the app name: `<app>-record` (deployed first) and `<app>`. */
export function stackNames(appName: string): { record: string; service: string } {
  return { record: `${appName}-record`, service: appName };
}

/**
 * Adds bluegreen's stacks for one configuration to a CDK app, with cdk-nag's AwsSolutions checks on every
 * stack. Used by bin/bluegreen.ts and by the tests, so both synthesize exactly the same thing.
 */
export function addBluegreenStacks(app: App, config: BluegreenConfig): BluegreenStacks {
  const env = stackEnvironment(config);
  const names = stackNames(config.appName);
  const record = new ReleaseRecordStack(app, names.record, {
    config,
    env,
    description: `bluegreen ${config.appName}: release record (live color, image per color)`,
  });
  const service = new BluegreenStack(app, names.service, {
    config,
    env,
    record: record.names,
    description: `bluegreen ${config.appName}: blue and green environments behind one load balancer`,
  });
  // The service stack reads the record's parameters when it deploys, so they must exist first.
  service.addStackDependency(record, 'reads the release record parameters at every deploy');
  Tags.of(app).add('bluegreen:app', config.appName);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { record, service };
}

/**
 * The account and region to deploy to: the configuration's, else the CLI's current ones (CDK_DEFAULT_*).
 * The region must be known at synth time (the load balancer's access-log policy depends on it); the account
 * may stay generic unless an existing VPC is looked up.
 */
export function stackEnvironment(config: BluegreenConfig): Environment {
  const region = config.aws.region ?? process.env.CDK_DEFAULT_REGION;
  if (!region) {
    throw new ConfigError('configuration', [
      'aws.region: is required: set it in the configuration file, or run cdk with a region (AWS_REGION or a profile)',
    ]);
  }
  return { account: config.aws.account ?? process.env.CDK_DEFAULT_ACCOUNT, region };
}
