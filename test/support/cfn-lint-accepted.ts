/**
 * The one place that lists the cfn-lint findings bluegreen's templates may have, each with its reason. An entry
 * names one rule on the resource types it is expected on, and what the finding must say: the same rule on another
 * resource type, or with another message, is a new finding and fails test/cfn-lint.test.ts. An entry (or one of
 * its resource types) that no longer matches anything fails that test too (remove it: cfn-lint learned better, or
 * the template changed).
 */

/** One cfn-lint finding, as `cfn-lint --format json` prints it. */
export interface CfnLintFinding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
  readonly Rule: { readonly Id: string; readonly ShortDescription: string };
}

export interface AcceptedFinding {
  readonly rule: string;
  /** The CloudFormation resource types the finding may be on (the resource at Location.Path[1]). */
  readonly resourceTypes: readonly string[];
  /** What the finding says: its message and where in the resource (Location.Path from the resource on). */
  readonly matches: (message: string, pathInResource: readonly (string | number)[]) => boolean;
  readonly reason: string;
}

export const ACCEPTED_FINDINGS: readonly AcceptedFinding[] = [
  {
    rule: 'E3002',
    // (Linted for us-east-1, AWS::CloudWatch::Dashboard gets this finding too: cfn-lint's schema for that region
    // lags; the templates are linted for the region they are synthesized for, eu-west-1.)
    resourceTypes: [
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      // With config scaling: the colors' scalable targets (ECS).
      'AWS::ApplicationAutoScaling::ScalableTarget',
    ],
    matches: (message, path) =>
      message === "Additional properties are not allowed ('Tags' was unexpected)" &&
      path.join('/') === 'Properties/Tags',
    reason:
      'CloudFormation accepts Tags on listeners, listener rules and Application Auto Scaling scalable targets ' +
      '(aws-cdk-lib generates them from ' +
      "the CloudFormation registry schema, and tags every taggable resource with the app's tags); the " +
      'resource schemas bundled with cfn-lint predate that support.',
  },
  {
    rule: 'W3005',
    resourceTypes: ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine'],
    matches: (message, path) =>
      path[0] === 'DependsOn' &&
      /dependency already enforced by a 'GetAtt' at 'Resources\/[^/]+\/Properties\/(Role|RoleArn)'$/.test(
        message,
      ),
    reason:
      'aws-cdk-lib makes a function and a state machine depend on their role, which they already reference ' +
      '(GetAtt Role.Arn), and on its default policy: the redundant half is harmless and not ours to remove.',
  },
  {
    rule: 'W3005',
    resourceTypes: ['Custom::BluegreenInitialCapacity', 'AWS::IAM::Policy'],
    matches: (message, path) =>
      path[0] === 'DependsOn' &&
      /^'(Blue|Green)(Service|GroupASG)[0-9A-F]{8}' dependency already enforced by a '(Ref|GetAtt)' at 'Resources\/(Blue|Green)InitialCapacity/.test(
        message,
      ),
    reason:
      'lib/bluegreen-stack.ts makes each InitialCapacity custom resource (and so its policy) depend on its ' +
      "color's service or group: redundant where they already reference it, and harmless; it states the order " +
      'the custom resource needs even if its call stops referencing the service.',
  },
];

/** The accepted entry that covers a finding on a resource of `resourceType`, if any. */
export function acceptedFor(
  finding: CfnLintFinding,
  resourceType: string | undefined,
): AcceptedFinding | undefined {
  const [section, , ...inResource] = finding.Location.Path;
  if (section !== 'Resources' || resourceType === undefined) {
    return undefined;
  }
  return ACCEPTED_FINDINGS.find(
    (a) =>
      a.rule === finding.Rule.Id &&
      a.resourceTypes.includes(resourceType) &&
      a.matches(finding.Message, inResource),
  );
}
