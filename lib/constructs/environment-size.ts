/**
 * Lambda refuses a function whose environment variables (names and values together) pass 4 KB, and it does so at
 * deploy time, for every function at once. Values made of CloudFormation references (ARNs, names, DNS names) have
 * no length at synth, so this module gives each reference the longest value its resource type can take once
 * deployed (a 12-digit account, the stack's region, the longest partition of that region, generated names at
 * their longest), and a function's environment the sum: what it could weigh in AWS, at most.
 */
import { Stack, Token, CfnResource, type IResolvable } from 'aws-cdk-lib';
import type { CfnAutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnCluster, CfnService } from 'aws-cdk-lib/aws-ecs';
import type { CfnLoadBalancer, CfnTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { CfnTopic } from 'aws-cdk-lib/aws-sns';

/** Lambda's limit on a function's environment: the names and values of all its variables, in bytes. */
export const LAMBDA_ENVIRONMENT_LIMIT = 4096;

const ACCOUNT = 12;
/** The longest region name (ap-southeast-5, ap-northeast-3, us-isob-east-1, ...), when the region is a token. */
const LONGEST_REGION = 14;
/** An ELB id in an ARN (16 hex digits); a load balancer's DNS id (up to 10 digits). */
const ELB_ID = 16;
const ELB_DNS_ID = 10;
/** CloudFormation's generated physical names: `<stack>-<logical id>-<13 random>`, at most `max` long. */
const generated = (stack: Stack, logicalId: string, max: number) =>
  Math.min(max, stack.stackName.length + logicalId.length + 2 + 13);

interface Context {
  readonly stack: Stack;
  readonly partition: number;
  readonly region: number;
  /** `arn:<partition>:<service>:<region>:<account>:` */
  readonly arn: (service: string) => number;
}

type Estimate = (resource: CfnResource, logicalId: string, c: Context) => number;

/** A name property: its length when the template sets it, else `fallback`. */
const nameOf = (name: unknown, fallback: number) =>
  typeof name === 'string' && !Token.isUnresolved(name) ? Buffer.byteLength(name) : fallback;

/** Ref (key "Ref") and Fn::GetAtt (key = the attribute) values, by resource type, at their longest. */
const ESTIMATES: Readonly<Record<string, Readonly<Record<string, Estimate>>>> = {
  'AWS::AutoScaling::AutoScalingGroup': {
    Ref: (r) => nameOf((r as CfnAutoScalingGroup).autoScalingGroupName, 255),
  },
  'AWS::EC2::LaunchTemplate': { Ref: () => 'lt-'.length + 17 },
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    Ref: (r, _, c) =>
      c.arn('elasticloadbalancing') +
      'targetgroup/'.length +
      nameOf((r as CfnTargetGroup).name, 32) +
      1 +
      ELB_ID,
  },
  // A listener's and a rule's ARNs carry the load balancer's name (at most 32): counted at its longest.
  'AWS::ElasticLoadBalancingV2::Listener': {
    Ref: (_, __, c) => c.arn('elasticloadbalancing') + 'listener/app/'.length + 32 + 2 * (1 + ELB_ID),
  },
  'AWS::ElasticLoadBalancingV2::ListenerRule': {
    Ref: (_, __, c) => c.arn('elasticloadbalancing') + 'listener-rule/app/'.length + 32 + 3 * (1 + ELB_ID),
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    Ref: (r, _, c) =>
      c.arn('elasticloadbalancing') +
      'loadbalancer/app/'.length +
      nameOf((r as CfnLoadBalancer).name, 32) +
      1 +
      ELB_ID,
    // <name>-<id>.<region>.elb.amazonaws.com(.cn)
    DNSName: (r, _, c) =>
      nameOf((r as CfnLoadBalancer).name, 32) +
      1 +
      ELB_DNS_ID +
      1 +
      c.region +
      '.elb.amazonaws.com.cn'.length,
  },
  'AWS::SecretsManager::Secret': {
    // The name, then "-" and six random characters.
    Ref: (r, id, c) =>
      c.arn('secretsmanager') +
      'secret:'.length +
      nameOf((r as CfnSecret).name, generated(c.stack, id, 512)) +
      7,
  },
  'AWS::CloudWatch::Alarm': {
    Ref: (r, id, c) => nameOf((r as CfnAlarm).alarmName, generated(c.stack, id, 255)),
  },
  'AWS::DynamoDB::Table': {
    Ref: (r, id, c) => nameOf((r as CfnTable).tableName, generated(c.stack, id, 255)),
  },
  'AWS::SNS::Topic': {
    Ref: (r, id, c) => c.arn('sns') + nameOf((r as CfnTopic).topicName, generated(c.stack, id, 256)),
    TopicArn: (r, id, c) => c.arn('sns') + nameOf((r as CfnTopic).topicName, generated(c.stack, id, 256)),
  },
  'AWS::ECS::Cluster': {
    Ref: (r, id, c) => nameOf((r as CfnCluster).clusterName, generated(c.stack, id, 255)),
  },
  'AWS::ECS::Service': {
    Name: (r, id, c) => nameOf((r as CfnService).serviceName, generated(c.stack, id, 255)),
  },
  'AWS::Lambda::Function': {
    Arn: (r, _, c) => c.arn('lambda') + 'function:'.length + nameOf((r as CfnFunction).functionName, 64),
  },
};

/** The longest partition a region belongs to (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ...). */
function partitionLength(region: string | undefined): number {
  if (region === undefined) {
    return 'aws-us-gov'.length;
  }
  if (region.startsWith('cn-')) {
    return 'aws-cn'.length;
  }
  if (region.includes('-gov-')) {
    return 'aws-us-gov'.length;
  }
  const iso = /^[a-z]{2}-iso([a-z]?)-/.exec(region);
  if (iso) {
    return `aws-iso${iso[1] ? `-${iso[1]}` : ''}`.length;
  }
  return 'aws'.length;
}

/**
 * The longest a resolved CloudFormation value can be once deployed, in bytes (UTF-8). Throws on a reference this
 * module does not know: add its resource type to ESTIMATES rather than guess.
 */
export function worstCaseLength(value: unknown, stack: Stack): number {
  const region = Token.isUnresolved(stack.region) ? undefined : stack.region;
  const partition = partitionLength(region);
  const regionLength = region?.length ?? LONGEST_REGION;
  const c: Context = {
    stack,
    partition,
    region: regionLength,
    arn: (service) => `arn::${service}:::`.length + partition + regionLength + ACCOUNT,
  };
  const resources = new Map<string, CfnResource>();
  for (const node of stack.node.findAll()) {
    if (CfnResource.isCfnResource(node) && Stack.of(node) === stack) {
      resources.set(stack.resolve(node.logicalId) as string, node);
    }
  }
  const reference = (logicalId: string, attribute: string): number => {
    const resource = resources.get(logicalId);
    const estimate = resource && ESTIMATES[resource.cfnResourceType]?.[attribute];
    if (!resource || !estimate) {
      throw new Error(
        `environment-size: no longest value known for ${attribute === 'Ref' ? 'Ref' : `Fn::GetAtt ${attribute}`} of ` +
          `${logicalId} (${resource?.cfnResourceType ?? 'not in this stack'}); add it to lib/constructs/environment-size.ts`,
      );
    }
    return estimate(resource, logicalId, c);
  };
  const length = (v: unknown): number => {
    if (typeof v === 'string') {
      return Buffer.byteLength(v);
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      return String(v).length;
    }
    const [fn, arg] = Object.entries((v ?? {}) as Record<string, unknown>)[0] ?? [];
    switch (fn) {
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (
          parts.reduce<number>((sum, p) => sum + length(p), 0) +
          separator.length * Math.max(0, parts.length - 1)
        );
      }
      case 'Fn::If': {
        const [, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return Math.max(length(whenTrue), length(whenFalse));
      }
      case 'Ref': {
        const name = arg as string;
        const pseudo: Record<string, number> = {
          'AWS::Region': regionLength,
          'AWS::AccountId': ACCOUNT,
          'AWS::Partition': partition,
          'AWS::URLSuffix': 'amazonaws.com.cn'.length,
          'AWS::StackName': stack.stackName.length,
        };
        return pseudo[name] ?? reference(name, 'Ref');
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = arg as [string, string];
        return reference(id, attribute);
      }
      default:
        throw new Error(`environment-size: cannot size ${JSON.stringify(v)}`);
    }
  };
  return length(stack.resolve(value));
}

/** A function's environment at its longest: each variable's name and value. */
export function environmentSizes(
  variables: Readonly<Record<string, string | IResolvable>>,
  stack: Stack,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      Buffer.byteLength(name) + worstCaseLength(value, stack),
    ]),
  );
}
