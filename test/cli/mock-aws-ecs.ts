/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the ecs platform. The two ECS services, which UpdateService
 * changes, their task definition revisions, and each color's scalable target (Application Auto Scaling).
 */
import {
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Color } from '../../lambda/shared/release-record';
import type { MockAws } from './mock-aws';
import { REPO, TD_PREFIX, SERVICE } from './mock-aws-names';

/** ECS services and task definitions, and the colors' scalable targets, over the per-color state. */
export function mockServices(aws: MockAws): void {
  aws.ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    const color: Color = input.services[0] === SERVICE.blue ? 'blue' : 'green';
    const s = aws.services[color];
    return {
      services: [
        {
          serviceName: SERVICE[color],
          desiredCount: s.desired,
          runningCount: s.running,
          taskDefinition: s.revision,
          deployments: [
            {
              status: 'PRIMARY',
              taskDefinition: s.revision,
              runningCount: s.running,
              rolloutState: 'COMPLETED',
            },
          ],
        },
      ],
    };
  });
  aws.ecs
    .on(UpdateServiceCommand)
    .callsFake((input: { service: string; desiredCount: number; taskDefinition?: string }) => {
      const color: Color = input.service === SERVICE.blue ? 'blue' : 'green';
      aws.services[color] = {
        desired: input.desiredCount,
        running: input.desiredCount,
        revision: input.taskDefinition ?? aws.services[color].revision,
      };
      return {};
    });
  aws.appScaling.on(DescribeScalableTargetsCommand).callsFake((input: { ResourceIds: string[] }) => ({
    ScalableTargets: input.ResourceIds.map((id) => {
      const b = aws.bounds[id.endsWith(SERVICE.blue) ? 'blue' : 'green'];
      return {
        ServiceNamespace: 'ecs',
        ResourceId: id,
        ScalableDimension: 'ecs:service:DesiredCount',
        MinCapacity: b.min,
        MaxCapacity: b.max,
        SuspendedState: { DynamicScalingInSuspended: b.scaleInSuspended },
      };
    }),
  }));
  aws.appScaling
    .on(RegisterScalableTargetCommand)
    .callsFake(
      (input: {
        ResourceId: string;
        MinCapacity: number;
        MaxCapacity: number;
        SuspendedState: { DynamicScalingInSuspended: boolean };
      }) => {
        const color: Color = input.ResourceId.endsWith(SERVICE.blue) ? 'blue' : 'green';
        aws.setBounds(color, {
          min: input.MinCapacity,
          max: input.MaxCapacity,
          scaleInSuspended: input.SuspendedState.DynamicScalingInSuspended,
        });
        return {};
      },
    );
  aws.ecs.on(DeregisterTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    aws.retired.push(input.taskDefinition);
    return {};
  });
  // Revisions are ACTIVE until retired (or deregistered by a cdk deploy); the family's latest is CDK's.
  aws.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const family = !input.taskDefinition.includes(':');
    const arn = family ? `${TD_PREFIX}${input.taskDefinition}:9` : input.taskDefinition;
    const inactive = aws.retired.includes(arn) || aws.deregistered.includes(arn);
    return {
      taskDefinition: {
        taskDefinitionArn: arn,
        family: arn.slice(TD_PREFIX.length).split(':')[0],
        status: inactive ? 'INACTIVE' : 'ACTIVE',
        containerDefinitions: [{ name: 'app', image: family ? `${REPO}:v1` : `${REPO}:v0` }],
      },
      tags: [{ key: 'bluegreen:app', value: 'shop' }],
    };
  });
  aws.ecs.on(RegisterTaskDefinitionCommand).callsFake((input: { family: string }) => ({
    taskDefinition: { taskDefinitionArn: `${TD_PREFIX}${input.family}:10` },
  }));
}
