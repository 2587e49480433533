import { Token, Validations, type Stack } from 'aws-cdk-lib';
import { AwsCustomResource } from 'aws-cdk-lib/custom-resources';
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

/**
 * Acknowledges the managed-policy finding on the Lambda that CDK's AwsCustomResource shares per stack (it
 * carries AWSLambdaBasicExecutionRole for its own logs). `purpose` says what the calls do and how they are scoped.
 */
export function acknowledgeSdkCallProvider(stack: Stack, purpose: string): void {
  const provider = stack.node.tryFindChild(
    `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  if (provider) {
    acknowledge(
      provider,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      `The CDK AwsCustomResource function only needs AWSLambdaBasicExecutionRole to write its own logs. ${purpose}`,
    );
  }
}

/** How cdk-nag names a stack's ARN parts: pseudo parameters in <>, values known at synth as they are. */
export function nagArnParts(stack: Stack): { partition: string; region: string; account: string } {
  const [partition, region, account] = [
    [stack.partition, 'AWS::Partition'],
    [stack.region, 'AWS::Region'],
    [stack.account, 'AWS::AccountId'],
  ].map(([value, pseudo]) => (Token.isUnresolved(value) ? `<${pseudo}>` : value));
  return { partition, region, account };
}
