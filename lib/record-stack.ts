import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  COLORS,
  formatRecordWeights,
  imageReference,
  recordParameterNames,
  type Color,
  type RecordParameterNames,
} from '../lambda/shared/release-record';
import { AUTO_CAPACITY } from '../lambda/shared/scaling';
import { weightsFor } from '../lambda/shared/strategy';
import type { BluegreenConfig } from './config';
import { customResourceLogs } from './constructs/custom-resource-logs';
import { acknowledgeSdkCallProvider } from './nag';

export interface ReleaseRecordStackProps extends StackProps {
  readonly config: BluegreenConfig;
}

/**
 * The release record: SSM parameters for the live color, the image each color runs, the production listener's
 * weights and, with config `scaling`, each color's scaling bounds.
 *
 * They are created ONCE, by a custom resource that only acts on create (PutParameter without overwrite). Their
 * first values are in that create call and nowhere else: no update of any stack re-applies them, and deleting
 * the stack leaves them in place. After the first deploy only the release workflow writes them. The service stack reads them at every deploy (SSM
 * parameter types), which is why this stack is separate and deployed first.
 */
export class ReleaseRecordStack extends Stack {
  readonly names: RecordParameterNames;

  constructor(scope: Construct, id: string, props: ReleaseRecordStackProps) {
    super(scope, id, props);
    const { appName, image, scaling } = props.config;
    this.names = recordParameterNames(appName);
    const initialImage = imageReference(image.repository, image.initialTag);
    const initialLive: Color = 'blue';

    const initial: { id: string; name: string; value: string; description: string }[] = [
      {
        id: 'LiveColor',
        name: this.names.liveColor,
        value: initialLive,
        description: `bluegreen ${appName}: the color the production listener forwards to (blue|green)`,
      },
      ...COLORS.map((color) => ({
        id: `${color === 'blue' ? 'Blue' : 'Green'}Image`,
        name: this.names.image[color],
        value: initialImage,
        description: `bluegreen ${appName}: the image the ${color} color runs`,
      })),
      {
        // All on the initial live color. A record kept from an earlier install keeps its own value, and one from
        // before gradual shifts gets this one: if green is live there, the service stack's RecordIsValid rule
        // refuses the deploy and says which value to set (README "The release record").
        id: 'ProductionWeights',
        name: this.names.weights,
        value: formatRecordWeights(weightsFor(100, initialLive)),
        description:
          `bluegreen ${appName}: the production listener's weights, <blue>,<green> (0-999 each), as the ` +
          'release workflow last set them; every deploy renders the listener from them',
      },
      // With scaling: each color's bounds, "auto" (the configured bounds when live, 0 when idle). Created like the
      // others, once: an install that adds scaling gets them at its next deploy, its other parameters untouched.
      ...(scaling
        ? COLORS.map((color) => ({
            id: `${color === 'blue' ? 'Blue' : 'Green'}Capacity`,
            name: this.names.capacity[color],
            value: AUTO_CAPACITY,
            description:
              `bluegreen ${appName}: the ${color} color's scaling bounds, auto or <min>,<max> (held by a ` +
              'release), as the release workflow last set them; every deploy renders its bounds from them',
          }))
        : []),
    ];

    const parameterArns = recordParameterArns(this, this.names, { capacity: scaling !== undefined });
    const policy = cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:AddTagsToResource'],
        resources: parameterArns,
      }),
    ]);

    for (const p of initial) {
      new cr.AwsCustomResource(this, `Init${p.id}`, {
        resourceType: 'Custom::BluegreenRecordParameter',
        installLatestAwsSdk: false,
        logGroup: customResourceLogs(this, props.config.logRetentionDays),
        policy,
        // Create only: an existing parameter (a record kept from an earlier install) is left as it is.
        onCreate: {
          service: 'SSM',
          action: 'putParameter',
          parameters: {
            Name: p.name,
            Value: p.value,
            Type: 'String',
            Description: p.description,
            // No Overwrite: PutParameter then refuses to replace an existing value.
            Tags: [{ Key: 'bluegreen:app', Value: appName }],
          },
          physicalResourceId: cr.PhysicalResourceId.of(p.name),
          ignoreErrorCodesMatching: 'ParameterAlreadyExists',
        },
        // No onUpdate and no onDelete, on purpose: a later deploy never writes the record, and deleting or
        // renaming this resource (or the stack) never deletes it. Removing an app for good: README "Deploying".
      });
      new CfnOutput(this, `${p.id}Parameter`, { value: p.name, description: p.description });
    }

    acknowledgeSdkCallProvider(
      this,
      `It writes the record parameters once, at stack creation; its SSM rights are scoped to the ${scaling ? 'six' : 'four'} record ARNs.`,
    );
  }
}

/**
 * The ARNs of the record's parameters, for IAM policies scoped to exactly them; with `capacity` (config
 * `scaling`: the record has them then) each color's capacity parameter too. The record store reads them all in
 * one GetParameters call, which IAM denies as a whole if one name is not allowed.
 */
export function recordParameterArns(
  stack: Stack,
  names: RecordParameterNames,
  options: { readonly capacity?: boolean } = {},
): string[] {
  return [
    ...[names.liveColor, names.image.blue, names.image.green, names.weights].map((name) =>
      parameterArn(stack, name),
    ),
    ...(options.capacity ? capacityParameterArns(stack, names) : []),
  ];
}

/** The ARNs of the colors' capacity parameters (only with scaling configured: the record has them then). */
export function capacityParameterArns(stack: Stack, names: RecordParameterNames): string[] {
  return COLORS.map((color) => parameterArn(stack, names.capacity[color]));
}

function parameterArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
}
