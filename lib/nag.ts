import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on one construct, with the reason it is acceptable for this
 * app. Kept next to the resource it is about, so the reason is read where the resource is built.
 *
 * `rule` is the rule id as cdk-nag prints it, with the finding when the rule has several
 * (`AwsSolutions-IAM5[Resource::*]`).
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
}
