/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the stack's outputs (CloudFormation), who the caller is (STS),
 * and the SSM release record, which PutParameter changes.
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Color } from '../../lambda/shared/release-record';
import type { MockAws } from './mock-aws';
import { ACCOUNT, MACHINE, ME, LISTENER, RULE, TG, SERVICE, REGION } from './mock-aws-names';

/** DescribeStacks, GetCallerIdentity, and the record's GetParameters / GetParameter / PutParameter. */
export function mockStack(aws: MockAws): void {
  aws.cfn.on(DescribeStacksCommand).callsFake(() => {
    if (!aws.stackExists) {
      const e = new Error('Stack with id shop does not exist');
      e.name = 'ValidationError';
      throw e;
    }
    const outputs: Record<string, string> = {
      StateMachineArn: MACHINE,
      LockTableName: 'shop-Lock',
      ReleaseTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:bluegreen-shop-releases`,
      ProductionUrl: 'http://shop-123.eu-west-1.elb.amazonaws.com',
      ProductionListenerArn: LISTENER,
      TestListenerRuleArn: RULE,
      ...(aws.platform === 'asg'
        ? {
            Platform: 'asg',
            BlueGroupName: SERVICE.blue,
            GreenGroupName: SERVICE.green,
            BlueLaunchTemplateId: 'lt-blue',
            GreenLaunchTemplateId: 'lt-green',
          }
        : {
            Platform: 'ecs',
            ClusterName: 'shop',
            BlueServiceName: SERVICE.blue,
            GreenServiceName: SERVICE.green,
            BlueTaskFamily: 'shop-blue',
            GreenTaskFamily: 'shop-green',
          }),
      BlueTargetGroupArn: TG.blue,
      GreenTargetGroupArn: TG.green,
      ...(aws.migrationRecord !== undefined
        ? { MigrationRecordParameter: '/bluegreen/shop/migrations' }
        : {}),
      ...(aws.scaling ? { ScalingBounds: `${aws.scaling.minCount},${aws.scaling.maxCount}` } : {}),
      ...aws.extraOutputs,
    };
    return {
      Stacks: [
        {
          StackName: 'shop',
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    };
  });
  aws.sts.on(GetCallerIdentityCommand).resolves({ Arn: ME, Account: ACCOUNT });
  aws.ssm.on(GetParametersCommand).callsFake(() => ({
    Parameters: [
      { Name: '/bluegreen/shop/live-color', Value: aws.record.live },
      { Name: '/bluegreen/shop/blue/image', Value: aws.record.images.blue },
      { Name: '/bluegreen/shop/green/image', Value: aws.record.images.green },
      // Absent until a write: a record from before gradual shifts.
      ...(aws.record.weights
        ? [{ Name: '/bluegreen/shop/production-weights', Value: aws.record.weights }]
        : []),
      ...Object.entries(aws.record.capacity ?? {}).map(([color, value]) => ({
        Name: `/bluegreen/shop/${color}/capacity`,
        Value: value,
      })),
    ],
  }));
  aws.ssm.on(GetParameterCommand, { Name: '/bluegreen/shop/migrations' }).callsFake(() => ({
    Parameter: { Name: '/bluegreen/shop/migrations', Value: aws.migrationRecord },
  }));
  aws.ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => {
    if (input.Name.endsWith('live-color')) {
      aws.record.live = input.Value as Color;
    } else if (input.Name.endsWith('production-weights')) {
      aws.record.weights = input.Value;
    } else if (input.Name.endsWith('/capacity')) {
      const color: Color = input.Name.includes('/blue/') ? 'blue' : 'green';
      aws.record.capacity = { ...aws.record.capacity, [color]: input.Value };
    } else {
      aws.record.images[input.Name.includes('/blue/') ? 'blue' : 'green'] = input.Value;
    }
    return {};
  });
}
