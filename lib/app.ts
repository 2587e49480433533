import { Tags, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BluegreenStack } from './bluegreen-stack';
import type { BluegreenConfig } from './config';
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
  const env: Environment = { account: config.aws.account, region: config.aws.region };
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
