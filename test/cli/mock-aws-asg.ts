/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the asg platform. The two Auto Scaling groups and their
 * launch templates (EC2), their scaling policies and suspended processes, over the same per-color state as the ECS
 * services.
 */
import {
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  ResumeProcessesCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
} from '@aws-sdk/client-ec2';
import type { Color } from '../../lambda/shared/release-record';
import type { MockAws } from './mock-aws';
import { SERVICE } from './mock-aws-names';

/** Auto Scaling groups and launch templates, over the same per-color state as the ECS services. */
export function mockGroups(aws: MockAws): void {
  const colorOf = (name: string): Color => (name === SERVICE.blue ? 'blue' : 'green');
  aws.autoscaling
    .on(DescribeAutoScalingGroupsCommand)
    .callsFake((input: { AutoScalingGroupNames: string[] }) => {
      const color = colorOf(input.AutoScalingGroupNames[0]);
      const s = aws.services[color];
      const [templateId, version] = s.revision.split(':');
      const healthy = aws.healthy[color] ?? s.running;
      return {
        AutoScalingGroups: [
          {
            AutoScalingGroupName: SERVICE[color],
            DesiredCapacity: s.desired,
            MinSize: aws.bounds[color].min,
            MaxSize: aws.bounds[color].max,
            LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
            Instances: Array.from({ length: s.running }, (_, i) => ({
              InstanceId: `i-${color}-${i}`,
              LifecycleState: 'InService',
              HealthStatus: i < healthy ? 'Healthy' : 'Unhealthy',
              LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
            })),
          },
        ],
      };
    });
  aws.autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
  aws.autoscaling
    .on(CancelInstanceRefreshCommand)
    .rejects(Object.assign(new Error('none'), { name: 'ActiveInstanceRefreshNotFoundFault' }));
  aws.autoscaling
    .on(UpdateAutoScalingGroupCommand)
    .callsFake(
      (input: {
        AutoScalingGroupName: string;
        DesiredCapacity?: number;
        MinSize?: number;
        MaxSize?: number;
        LaunchTemplate?: { LaunchTemplateId: string; Version: string };
      }) => {
        const color = colorOf(input.AutoScalingGroupName);
        const s = aws.services[color];
        const revision = input.LaunchTemplate
          ? `${input.LaunchTemplate.LaunchTemplateId}:${input.LaunchTemplate.Version}`
          : s.revision;
        const desired = input.DesiredCapacity ?? s.desired;
        aws.services[color] = { desired, running: desired, revision };
        if (input.MinSize !== undefined || input.MaxSize !== undefined) {
          aws.setBounds(color, {
            ...aws.bounds[color],
            min: input.MinSize ?? aws.bounds[color].min,
            max: input.MaxSize ?? aws.bounds[color].max,
          });
        }
        return {};
      },
    );
  // One target-tracking policy per group when the stack configures scaling; its DisableScaleIn is the bounds'.
  aws.autoscaling.on(DescribePoliciesCommand).callsFake((input: { AutoScalingGroupName: string }) => ({
    ScalingPolicies: aws.scaling
      ? [
          {
            AutoScalingGroupName: input.AutoScalingGroupName,
            PolicyName: 'cpu',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: {
              PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
              TargetValue: 60,
              DisableScaleIn: aws.bounds[colorOf(input.AutoScalingGroupName)].scaleInSuspended,
            },
          },
        ]
      : [],
  }));
  aws.autoscaling
    .on(PutScalingPolicyCommand)
    .callsFake(
      (input: { AutoScalingGroupName: string; TargetTrackingConfiguration: { DisableScaleIn: boolean } }) => {
        const color = colorOf(input.AutoScalingGroupName);
        aws.bounds[color] = {
          ...aws.bounds[color],
          scaleInSuspended: input.TargetTrackingConfiguration.DisableScaleIn,
        };
        return {};
      },
    );
  aws.autoscaling.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  for (const [command, suspend] of [
    [SuspendProcessesCommand, true],
    [ResumeProcessesCommand, false],
  ] as const) {
    aws.autoscaling
      .on(command)
      .callsFake((input: { AutoScalingGroupName: string; ScalingProcesses: string[] }) => {
        aws.suspended[input.AutoScalingGroupName] = suspend ? input.ScalingProcesses : [];
        return {};
      });
  }
  // Each launch template version runs its own image (so instances on another version are stale).
  aws.ec2
    .on(DescribeLaunchTemplateVersionsCommand)
    .callsFake((input: { LaunchTemplateId: string; Versions: string[] }) => ({
      LaunchTemplateVersions: input.Versions.map((v) => ({
        LaunchTemplateId: input.LaunchTemplateId,
        VersionNumber: Number(v),
        CreateTime: new Date('2026-11-26T09:00:00Z'),
        LaunchTemplateData: {
          UserData: Buffer.from(`BLUEGREEN_IMAGE='${input.LaunchTemplateId}-image-${v}'\n`).toString(
            'base64',
          ),
        },
      })),
    }));
  aws.ec2
    .on(DeleteLaunchTemplateVersionsCommand)
    .callsFake((input: { LaunchTemplateId: string; Versions: string[] }) => {
      aws.retired.push(`${input.LaunchTemplateId}:${input.Versions[0]}`);
      return {};
    });
}
