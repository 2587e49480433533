import { Aspects, CfnResource, RemovalPolicy, Stack, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

const ID = 'CustomResourceLogs';

/**
 * The one log group of a stack's CDK custom-resource functions (the AwsCustomResource singleton, and the
 * providers CDK adds itself, such as the VPC's default-security-group one), with the configured retention and
 * deleted with the stack. Without it, CDK creates a log group kept for two years and left behind by
 * `cdk destroy` (AwsCustomResource), or Lambda creates one that never expires (the providers).
 *
 * Pass the result as `logGroup` to every AwsCustomResource of the stack; functions created without a log group
 * (CDK's own providers take no such option) are pointed at it when the stack synthesizes.
 */
export function customResourceLogs(scope: IConstruct, retentionDays: number): logs.ILogGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(ID) as logs.LogGroup | undefined;
  if (existing) {
    return existing;
  }
  const group = new logs.LogGroup(stack, ID, {
    retention: retentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Aspects.of(stack).add(new RouteUnloggedFunctions(group));
  return group;
}

/** Points every Lambda function of the stack that has no log group of its own at `group`. */
class RouteUnloggedFunctions implements IAspect {
  constructor(private readonly group: logs.ILogGroup) {}

  visit(node: IConstruct): void {
    if (node instanceof lambda.CfnFunction) {
      if (node.loggingConfig === undefined) {
        node.loggingConfig = { logGroup: this.group.logGroupName };
      }
    } else if (CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::Lambda::Function') {
      // A provider's handler is a plain CfnResource (CustomResourceProvider): overridden property by property.
      node.addPropertyOverride('LoggingConfig.LogGroup', this.group.logGroupName);
    }
  }
}
