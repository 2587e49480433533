import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet, HELD_PROCESSES } from '../../../lambda/adapters/asg-fleet';

const autoscaling = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const fleet = new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
  groups: { blue: 'shop-blue', green: 'shop-green' },
  launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
});
const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const USER_DATA = [
  '#!/bin/bash',
  'set -euo pipefail',
  `BLUEGREEN_IMAGE='${REPO}:v1'`,
  "BLUEGREEN_VERSION=''",
  'docker run -d --name app "$BLUEGREEN_IMAGE"',
].join('\n');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const instance = (version: string, state = 'InService', health = 'Healthy'): Instance => ({
  InstanceId: `i-${version}-${Math.random().toString(16).slice(2, 8)}`,
  LifecycleState: state as Instance['LifecycleState'],
  HealthStatus: health,
  AvailabilityZone: 'eu-west-1a',
  ProtectedFromScaleIn: false,
  LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: version },
});

function group(version: string, desired: number, instances: Instance[]) {
  autoscaling.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['shop-green'] }).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'shop-green',
        DesiredCapacity: desired,
        MinSize: 0,
        MaxSize: 10,
        DefaultCooldown: 120,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'ELB',
        CreatedTime: new Date(),
        LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: version },
        Instances: instances,
      },
    ],
  });
}

beforeEach(() => {
  autoscaling.reset();
  ec2.reset();
  autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
  const none = Object.assign(new Error('No in progress or pending Instance Refresh found'), {
    name: 'ActiveInstanceRefreshNotFoundFault',
  });
  autoscaling.on(CancelInstanceRefreshCommand).rejects(none);
  ec2
    .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-green', Versions: ['$Latest'] })
    .resolves({
      LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { UserData: b64(USER_DATA) } }],
    });
  ec2.on(CreateLaunchTemplateVersionCommand).resolves({ LaunchTemplateVersion: { VersionNumber: 4 } });
});

describe('AsgFleet', () => {
  test('deploy to a group at zero: a new launch template version running the image, then scale out on it', async () => {
    group('3', 0, []);
    await expect(fleet.deploy('green', `${REPO}:v2`, '2.0.0', 2)).resolves.toBe('lt-green:4');

    const created = ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0].args[0].input;
    expect(created).toMatchObject({
      LaunchTemplateId: 'lt-green',
      SourceVersion: '3',
      VersionDescription: 'bluegreen release 2.0.0',
    });
    const script = Buffer.from(created.LaunchTemplateData!.UserData!, 'base64').toString('utf8');
    expect(script).toBe(
      USER_DATA.replace(`'${REPO}:v1'`, `'${REPO}:v2'`).replace(
        "BLUEGREEN_VERSION=''",
        "BLUEGREEN_VERSION='2.0.0'",
      ),
    );
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '4' },
      DesiredCapacity: 2,
    });
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('deploy to a warm group: an instance refresh replaces its instances, keeping 100% healthy', async () => {
    group('3', 2, [instance('3'), instance('3')]);
    await fleet.deploy('green', `${REPO}:v2`, 'v2', 2);
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '4' } },
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
    });
  });

  test('a user data without the lines a release sets is refused before anything changes', async () => {
    ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        { VersionNumber: 3, LaunchTemplateData: { UserData: b64('#!/bin/bash\necho hi') } },
      ],
    });
    await expect(fleet.deploy('green', `${REPO}:v2`, 'v2', 2)).rejects.toMatchObject({
      name: 'FleetMissing',
    });
    expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  test('describe: a rollout is complete when every desired instance runs the revision, in service and healthy', async () => {
    ec2
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-green', Versions: ['4'] })
      .resolves({
        LaunchTemplateVersions: [{ VersionNumber: 4, CreateTime: new Date('2026-11-26T10:00:00Z') }],
      });
    autoscaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    group('4', 2, [instance('4'), instance('4', 'Pending', 'Healthy'), instance('3')]);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      revision: 'lt-green:4',
      desired: 2,
      running: 1,
      rollout: 'IN_PROGRESS',
      failedTasks: 0,
    });
    group('4', 2, [instance('4'), instance('4')]);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      running: 2,
      rollout: 'COMPLETED',
    });
  });

  test('describe: failed launches and ELB health replacements since the revision count as failed tasks', async () => {
    ec2
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-green', Versions: ['4'] })
      .resolves({
        LaunchTemplateVersions: [{ VersionNumber: 4, CreateTime: new Date('2026-11-26T10:00:00Z') }],
      });
    autoscaling.on(DescribeScalingActivitiesCommand).resolves({
      Activities: [
        {
          ActivityId: '3',
          AutoScalingGroupName: 'shop-green',
          Cause: 'an instance was taken out of service in response to an ELB system health check failure.',
          StartTime: new Date('2026-11-26T10:03:00Z'),
          StatusCode: 'Successful',
        },
        {
          ActivityId: '2',
          AutoScalingGroupName: 'shop-green',
          Cause: 'launching',
          StatusMessage: 'We currently do not have sufficient t4g.small capacity',
          StartTime: new Date('2026-11-26T10:01:00Z'),
          StatusCode: 'Failed',
        },
        {
          ActivityId: '1',
          AutoScalingGroupName: 'shop-green',
          Cause: 'old failure',
          StartTime: new Date('2026-11-26T09:00:00Z'),
          StatusCode: 'Failed',
        },
      ],
    });
    group('4', 2, []);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      failedTasks: 2,
      reason: 'an instance was taken out of service in response to an ELB system health check failure.',
    });
  });

  test('describe: a failed instance refresh, or a group moved to another version, is a FAILED rollout', async () => {
    ec2
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-green', Versions: ['4'] })
      .resolves({
        LaunchTemplateVersions: [{ VersionNumber: 4, CreateTime: new Date() }],
      });
    autoscaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    autoscaling.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [{ Status: 'Failed', StatusReason: 'instances failed to become healthy' }],
    });
    group('4', 2, [instance('4')]);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      rollout: 'FAILED',
      reason: 'instances failed to become healthy',
    });
    autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
    group('5', 2, [instance('5'), instance('5')]);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      rollout: 'FAILED',
      reason: 'the group shop-green runs launch template version 5, not 4 (changed by someone else?)',
    });
  });

  test('restore puts the group back on a revision (cancelling a refresh in flight) or just sets the count', async () => {
    group('4', 2, [instance('4'), instance('4')]);
    autoscaling.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    await fleet.restore('green', 0, 'lt-green:3');
    expect(autoscaling.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '3' },
      DesiredCapacity: 0,
    });
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0); // nothing to replace at 0

    autoscaling.resetHistory();
    await fleet.restore('blue', 0);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-blue',
      DesiredCapacity: 0,
    });
  });

  test('retire deletes the launch template version; holdCapacity suspends and resumes scaling on both groups', async () => {
    ec2.on(DeleteLaunchTemplateVersionsCommand).resolves({});
    await fleet.retire('lt-green:4');
    expect(ec2.commandCalls(DeleteLaunchTemplateVersionsCommand)[0].args[0].input).toEqual({
      LaunchTemplateId: 'lt-green',
      Versions: ['4'],
    });
    await fleet.holdCapacity(true);
    await fleet.holdCapacity(false);
    const suspended = autoscaling.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input);
    const resumed = autoscaling.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input);
    expect(suspended).toEqual([
      { AutoScalingGroupName: 'shop-blue', ScalingProcesses: HELD_PROCESSES },
      { AutoScalingGroupName: 'shop-green', ScalingProcesses: HELD_PROCESSES },
    ]);
    expect(resumed).toEqual(suspended);
    expect(HELD_PROCESSES).toEqual(['AlarmNotification', 'ScheduledActions', 'AZRebalance']);
  });
});
