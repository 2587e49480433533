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
import { rollOut } from '../../../lambda/workflow/deploy';

const autoscaling = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const fleet = new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
  groups: { blue: 'shop-blue', green: 'shop-green' },
  launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
});
const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const script = (image: string, version = '') =>
  [
    '#!/bin/bash',
    'set -euo pipefail',
    `BLUEGREEN_IMAGE='${image}'`,
    `BLUEGREEN_VERSION='${version}'`,
    'docker run "$BLUEGREEN_IMAGE"',
  ].join('\n');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Launch template versions: 3 runs v1 (CloudFormation's), 4 runs v2 (a release's), 5 runs v1 (a later cdk deploy's). */
let versions: Record<string, { image: string; version?: string; created: string }>;
let latest: string;

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
  versions = {
    '3': { image: `${REPO}:v1`, created: '2026-11-20T00:00:00Z' },
    '4': { image: `${REPO}:v2`, version: '2.0.0', created: '2026-11-26T10:00:00Z' },
    '5': { image: `${REPO}:v1`, created: '2026-11-26T11:00:00Z' },
  };
  latest = '3';
  autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
  autoscaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
  autoscaling.on(CancelInstanceRefreshCommand).rejects(
    Object.assign(new Error('No in progress or pending Instance Refresh found'), {
      name: 'ActiveInstanceRefreshNotFoundFault',
    }),
  );
  ec2.on(DescribeLaunchTemplateVersionsCommand).callsFake((input: { Versions: string[] }) => ({
    LaunchTemplateVersions: input.Versions.map((asked) => {
      const v = asked === '$Latest' ? latest : asked;
      return {
        VersionNumber: Number(v),
        CreateTime: new Date(versions[v].created),
        LaunchTemplateData: { UserData: b64(script(versions[v].image, versions[v].version)) },
      };
    }),
  }));
  ec2
    .on(CreateLaunchTemplateVersionCommand)
    .callsFake((input: { LaunchTemplateData: { UserData: string } }) => {
      const text = Buffer.from(input.LaunchTemplateData.UserData, 'base64').toString('utf8');
      const image = /^BLUEGREEN_IMAGE='(.*)'$/m.exec(text)![1];
      const version = /^BLUEGREEN_VERSION='(.*)'$/m.exec(text)![1];
      latest = String(Math.max(...Object.keys(versions).map(Number)) + 1);
      versions[latest] = { image, version, created: '2026-11-26T12:00:00Z' };
      return { LaunchTemplateVersion: { VersionNumber: Number(latest) } };
    });
});

describe('AsgFleet', () => {
  test('deploy to a group at zero: a new launch template version running the image, then scale out on it', async () => {
    group('3', 0, []);
    await expect(rollOut(fleet, 'green', { image: `${REPO}:v3`, version: '3.0.0' }, 2)).resolves.toBe(
      'lt-green:6',
    );

    const created = ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0].args[0].input;
    expect(created).toMatchObject({
      LaunchTemplateId: 'lt-green',
      SourceVersion: '3',
      VersionDescription: 'bluegreen release 3.0.0',
    });
    expect(Buffer.from(created.LaunchTemplateData!.UserData!, 'base64').toString('utf8')).toBe(
      script(`${REPO}:v3`, '3.0.0'),
    );
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '6' },
      DesiredCapacity: 2,
    });
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('deploy to a warm group: an instance refresh replaces its instances, keeping 100% healthy', async () => {
    group('3', 2, [instance('3'), instance('3')]);
    await rollOut(fleet, 'green', { image: `${REPO}:v3`, version: 'v3' }, 2);
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '6' } },
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
    });
  });

  test('a retried deploy finds the version it made and makes no second one', async () => {
    group('3', 0, []);
    latest = '4'; // runs v2 as 2.0.0 already
    await expect(rollOut(fleet, 'green', { image: `${REPO}:v2`, version: '2.0.0' }, 2)).resolves.toBe(
      'lt-green:4',
    );
    expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
  });

  test('a user data without the lines a release sets is refused before anything changes', async () => {
    ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        { VersionNumber: 3, LaunchTemplateData: { UserData: b64('#!/bin/bash\necho hi') } },
      ],
    });
    await expect(rollOut(fleet, 'green', { image: `${REPO}:v2`, version: 'v2' }, 2)).rejects.toMatchObject({
      name: 'FleetMissing',
    });
    expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  test('describe: complete when every desired instance runs the image, in service and healthy', async () => {
    group('4', 2, [instance('4'), instance('4', 'Pending'), instance('3')]);
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

  test('describe compares images, not version numbers: a cdk deploy that made a new version changes nothing', async () => {
    // The group was moved to 5 (same image as 3) by CloudFormation; its instances still run 3.
    group('5', 2, [instance('3'), instance('3')]);
    await expect(fleet.describe('green')).resolves.toMatchObject({
      revision: 'lt-green:5',
      running: 2,
      rollout: 'COMPLETED',
    });
    await expect(fleet.describe('green', 'lt-green:3')).resolves.toMatchObject({ rollout: 'COMPLETED' });
    // But a group moved to another image during a release fails it, and says why.
    group('5', 2, [instance('4'), instance('4')]);
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      rollout: 'FAILED',
      reason: `the group shop-green was moved to launch template version 5, which runs ${REPO}:v1, not ${REPO}:v2 (a cdk deploy or an operator changed it during the release?)`,
    });
  });

  test('describe: failed launches and ELB health replacements since the revision count as failed tasks', async () => {
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
          Cause: 'old',
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

  test("describe: only this revision's instance refresh decides FAILED; an older one does not", async () => {
    group('4', 2, [instance('4')]);
    autoscaling.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [
        {
          Status: 'Failed',
          StatusReason: 'an older refresh failed',
          StartTime: new Date('2026-11-25T00:00:00Z'),
          DesiredConfiguration: { LaunchTemplate: { Version: '3' } },
        },
      ],
    });
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({ rollout: 'IN_PROGRESS' });
    autoscaling.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [
        {
          Status: 'Failed',
          StatusReason: 'instances failed to become healthy',
          StartTime: new Date('2026-11-26T10:05:00Z'),
          DesiredConfiguration: { LaunchTemplate: { Version: '4' } },
        },
      ],
    });
    await expect(fleet.describe('green', 'lt-green:4')).resolves.toMatchObject({
      rollout: 'FAILED',
      reason: 'instances failed to become healthy',
    });
  });

  test('restore cancels a running refresh without waiting for its in-flight instances, then puts the group back', async () => {
    group('4', 2, [instance('4'), instance('4')]);
    autoscaling.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    autoscaling
      .on(DescribeInstanceRefreshesCommand)
      .resolves({ InstanceRefreshes: [{ Status: 'Cancelled' }] });
    await expect(fleet.restore('green', 2, 'lt-green:3')).resolves.toEqual({
      revision: 'lt-green:3',
      count: 2,
    });
    expect(autoscaling.commandCalls(CancelInstanceRefreshCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      WaitForTransitioningInstances: false,
    });
    expect(autoscaling.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '3' },
      DesiredCapacity: 2,
    });
    // Its instances run v2: a refresh brings them back to v1.
    expect(
      autoscaling.commandCalls(StartInstanceRefreshCommand)[0].args[0].input.DesiredConfiguration,
    ).toEqual({
      LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '3' },
    });

    autoscaling.resetHistory();
    await expect(fleet.restore('blue', 0)).resolves.toEqual({ count: 0 });
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-blue',
      DesiredCapacity: 0,
    });
  });

  test('a refresh still stopping is not waited for in the step: RefreshStillActive at once, for the state machine to retry', async () => {
    group('4', 2, [instance('4')]);
    autoscaling.on(CancelInstanceRefreshCommand).resolves({});
    autoscaling
      .on(DescribeInstanceRefreshesCommand)
      .resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: 'Cancelling' }] });
    await expect(fleet.restore('green', 0, 'lt-green:3')).rejects.toMatchObject({
      name: 'RefreshStillActive',
      message:
        'The instance refresh r-1 of shop-green was cancelled and is still Cancelling; the step runs again once it has stopped.',
    });
    expect(autoscaling.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  test('restore onto a launch template version that no longer exists scales the group to 0 and says so', async () => {
    group('4', 2, [instance('4'), instance('4')]);
    autoscaling
      .on(CancelInstanceRefreshCommand)
      .rejects(Object.assign(new Error('no refresh'), { name: 'ActiveInstanceRefreshNotFoundFault' }));
    ec2.on(DescribeLaunchTemplateVersionsCommand).rejects(
      Object.assign(new Error('version 3 does not exist'), {
        name: 'InvalidLaunchTemplateId.VersionNotFound',
      }),
    );
    await expect(fleet.restore('green', 2, 'lt-green:3')).resolves.toEqual({
      count: 0,
      note: 'launch template version lt-green:3 of green no longer exists (deleted, or the template replaced?): green was scaled to 0 instead',
    });
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-green', DesiredCapacity: 0 },
    ]);
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('retire deletes the version and says so when EC2 did not; holdCapacity suspends and resumes both groups', async () => {
    ec2
      .on(DeleteLaunchTemplateVersionsCommand)
      .resolvesOnce({})
      .resolves({
        UnsuccessfullyDeletedLaunchTemplateVersions: [
          {
            VersionNumber: 4,
            ResponseError: { Code: 'unexpectedError', Message: 'Cannot delete the default version' },
          },
        ],
      });
    await fleet.retire('lt-green:4');
    expect(ec2.commandCalls(DeleteLaunchTemplateVersionsCommand)[0].args[0].input).toEqual({
      LaunchTemplateId: 'lt-green',
      Versions: ['4'],
    });
    await expect(fleet.retire('lt-green:4')).rejects.toMatchObject({ name: 'RetireFailed' });

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
