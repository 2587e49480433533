/**
 * The fleets' auto scaling (config `scaling`) on AWS, against mocked SDK clients: the exact requests each fleet
 * sends for capacity, setCapacity and holdCapacity, and what they do when the stack configures no scaling.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet, HELD_PROCESSES } from '../../../lambda/adapters/asg-fleet';
import { EcsFleet, type EcsFleetProps } from '../../../lambda/adapters/ecs-fleet';

const appScaling = mockClient(ApplicationAutoScalingClient);
const ecs = mockClient(ECSClient);
const autoscaling = mockClient(AutoScalingClient);

beforeEach(() => {
  appScaling.reset();
  ecs.reset();
  autoscaling.reset();
});

const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-cluster';
const ecsProps: EcsFleetProps = {
  cluster: 'shop-cluster',
  services: { blue: 'shop-blue', green: 'shop-green' },
  families: { blue: 'shop-blue', green: 'shop-green' },
  containerName: 'app',
  scaling: true,
};
const ecsFleet = (props: Partial<EcsFleetProps> = {}) =>
  new EcsFleet(new ECSClient({}), { ...ecsProps, ...props });

describe('EcsFleet with auto scaling', () => {
  test("setCapacity registers the color's scalable target: bounds, scale-in suspended, scale-out and schedules never", async () => {
    appScaling.on(RegisterScalableTargetCommand).resolves({});
    await ecsFleet().setCapacity('green', { min: 4, max: 20, scaleInSuspended: true });
    await ecsFleet().setCapacity('blue', { min: 2, max: 20, scaleInSuspended: false });
    expect(appScaling.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input)).toEqual([
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: 'service/shop-cluster/shop-green',
        MinCapacity: 4,
        MaxCapacity: 20,
        SuspendedState: {
          DynamicScalingInSuspended: true,
          DynamicScalingOutSuspended: false,
          ScheduledScalingSuspended: false,
        },
      },
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: 'service/shop-cluster/shop-blue',
        MinCapacity: 2,
        MaxCapacity: 20,
        SuspendedState: {
          DynamicScalingInSuspended: false,
          DynamicScalingOutSuspended: false,
          ScheduledScalingSuspended: false,
        },
      },
    ]);
    expect(ecs.calls()).toHaveLength(0);
  });

  test('the resource id names the cluster and the service, given by name or by ARN', async () => {
    appScaling.on(RegisterScalableTargetCommand).resolves({});
    await ecsFleet({
      cluster: CLUSTER_ARN,
      services: {
        blue: 'arn:aws:ecs:eu-west-1:123456789012:service/shop-cluster/shop-blue',
        green: 'arn:aws:ecs:eu-west-1:123456789012:service/shop-green', // the old ARN format
      },
    }).setCapacity('green', { min: 0, max: 0, scaleInSuspended: false });
    await ecsFleet({ cluster: CLUSTER_ARN }).setCapacity('blue', { min: 1, max: 1, scaleInSuspended: true });
    expect(
      appScaling.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input.ResourceId),
    ).toEqual(['service/shop-cluster/shop-green', 'service/shop-cluster/shop-blue']);
  });

  test("capacity reads the scalable target and the service's desired count together", async () => {
    appScaling.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        {
          ServiceNamespace: 'ecs',
          ResourceId: 'service/shop-cluster/shop-green',
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: 4,
          MaxCapacity: 20,
          RoleARN:
            'arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/x',
          CreationTime: new Date(),
          SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false },
        },
      ],
    });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ desiredCount: 6, taskDefinition: 'td:3' }] });
    await expect(ecsFleet({ cluster: CLUSTER_ARN }).capacity('green')).resolves.toEqual({
      desired: 6,
      min: 4,
      max: 20,
      scaleInSuspended: true,
    });
    expect(appScaling.commandCalls(DescribeScalableTargetsCommand)[0].args[0].input).toEqual({
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceIds: ['service/shop-cluster/shop-green'],
    });
    expect(ecs.commandCalls(DescribeServicesCommand)[0].args[0].input).toEqual({
      cluster: CLUSTER_ARN,
      services: ['shop-green'],
    });
  });

  test('a scalable target with no suspended state is not suspended; a missing one is a named error that says what to do', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ desiredCount: 2 }] });
    appScaling.on(DescribeScalableTargetsCommand).resolvesOnce({
      ScalableTargets: [
        {
          ServiceNamespace: 'ecs',
          ResourceId: 'service/shop-cluster/shop-blue',
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: 2,
          MaxCapacity: 20,
          RoleARN: 'role',
          CreationTime: new Date(),
        },
      ],
    });
    await expect(ecsFleet().capacity('blue')).resolves.toEqual({
      desired: 2,
      min: 2,
      max: 20,
      scaleInSuspended: false,
    });
    appScaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    await expect(ecsFleet().capacity('blue')).rejects.toMatchObject({
      name: 'FleetMissing',
      message: expect.stringContaining(
        'No Application Auto Scaling target for service/shop-cluster/shop-blue',
      ),
    });
  });

  test('without scaling in the stack: capacity is undefined, setCapacity a named error with what to configure, no call made', async () => {
    const fleet = ecsFleet({ scaling: undefined });
    await expect(fleet.capacity('blue')).resolves.toBeUndefined();
    await expect(
      fleet.setCapacity('green', { min: 2, max: 2, scaleInSuspended: true }),
    ).rejects.toMatchObject({
      name: 'ScalingNotConfigured',
      message:
        'Cannot set green\'s bounds to 2..2: the stack configures no auto scaling. Add "scaling" (minCount, ' +
        'maxCount and at least one target) to bluegreen.config.json and deploy the stack (npx cdk deploy --all).',
    });
    await fleet.holdCapacity();
    expect([...appScaling.calls(), ...ecs.calls()]).toHaveLength(0);
  });
});

const groups = { blue: 'shop-blue', green: 'shop-green' };
const asgFleet = (scaling?: boolean) =>
  new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
    groups,
    launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
    scaling,
  });

/** A target-tracking policy of shop-green as DescribePolicies returns it. */
function policy(
  name: string,
  metric: 'ASGAverageCPUUtilization' | 'ALBRequestCountPerTarget',
  disableScaleIn?: boolean,
  extra: Partial<ScalingPolicy> = {},
): ScalingPolicy {
  return {
    AutoScalingGroupName: 'shop-green',
    PolicyName: name,
    PolicyARN: `arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:x:autoScalingGroupName/shop-green:policyName/${name}`,
    PolicyType: 'TargetTrackingScaling',
    Alarms: [{ AlarmName: `TargetTracking-${name}-AlarmHigh`, AlarmARN: 'arn:alarm' }],
    TargetTrackingConfiguration: {
      PredefinedMetricSpecification: {
        PredefinedMetricType: metric,
        ...(metric === 'ALBRequestCountPerTarget'
          ? { ResourceLabel: 'app/shop/1/targetgroup/shop-green/2' }
          : {}),
      },
      TargetValue: metric === 'ALBRequestCountPerTarget' ? 1000 : 60,
      ...(disableScaleIn === undefined ? {} : { DisableScaleIn: disableScaleIn }),
    },
    Enabled: true,
    ...extra,
  };
}

describe('AsgFleet with auto scaling', () => {
  test("setCapacity: the group's MinSize and MaxSize, then each target-tracking policy put again with DisableScaleIn, the rest of it unchanged", async () => {
    autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
    autoscaling.on(PutScalingPolicyCommand).resolves({});
    autoscaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [
        policy('cpu', 'ASGAverageCPUUtilization', false, { EstimatedInstanceWarmup: 120 }),
        policy('requests', 'ALBRequestCountPerTarget'),
      ],
    });
    await asgFleet(true).setCapacity('green', { min: 4, max: 20, scaleInSuspended: true });

    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-green', MinSize: 4, MaxSize: 20 },
    ]);
    expect(autoscaling.commandCalls(DescribePoliciesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-green', PolicyTypes: ['TargetTrackingScaling'], MaxRecords: 100 },
    ]);
    expect(autoscaling.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'shop-green',
        PolicyName: 'cpu',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
          TargetValue: 60,
          DisableScaleIn: true,
        },
        EstimatedInstanceWarmup: 120,
        Enabled: true,
      },
      {
        AutoScalingGroupName: 'shop-green',
        PolicyName: 'requests',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: {
          PredefinedMetricSpecification: {
            PredefinedMetricType: 'ALBRequestCountPerTarget',
            ResourceLabel: 'app/shop/1/targetgroup/shop-green/2',
          },
          TargetValue: 1000,
          DisableScaleIn: true,
        },
        Enabled: true,
      },
    ]);
  });

  test('a policy that already has the asked DisableScaleIn is not put again (absent counts as false)', async () => {
    autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
    autoscaling.on(PutScalingPolicyCommand).resolves({});
    autoscaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [
        policy('cpu', 'ASGAverageCPUUtilization', true),
        policy('requests', 'ALBRequestCountPerTarget'),
      ],
    });
    await asgFleet(true).setCapacity('green', { min: 2, max: 20, scaleInSuspended: false });
    expect(autoscaling.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        PolicyName: 'cpu',
        TargetTrackingConfiguration: expect.objectContaining({ DisableScaleIn: false }),
      }),
    ]);

    autoscaling.resetHistory();
    await asgFleet(true).setCapacity('green', { min: 0, max: 0, scaleInSuspended: true });
    expect(autoscaling.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input.PolicyName)).toEqual([
      'requests',
    ]);
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'shop-green',
      MinSize: 0,
      MaxSize: 0,
    });
  });

  test("capacity: the group's bounds and desired capacity, scale-in suspended when a target-tracking policy disables it", async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'shop-green',
          MinSize: 4,
          MaxSize: 20,
          DesiredCapacity: 7,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-west-1a'],
          HealthCheckType: 'ELB',
          CreatedTime: new Date(),
        },
      ],
    });
    autoscaling
      .on(DescribePoliciesCommand)
      .resolvesOnce({
        ScalingPolicies: [
          policy('cpu', 'ASGAverageCPUUtilization', false),
          policy('requests', 'ALBRequestCountPerTarget', true),
        ],
      })
      .resolves({ ScalingPolicies: [policy('cpu', 'ASGAverageCPUUtilization')] });
    await expect(asgFleet(true).capacity('green')).resolves.toEqual({
      desired: 7,
      min: 4,
      max: 20,
      scaleInSuspended: true,
    });
    await expect(asgFleet(true).capacity('green')).resolves.toMatchObject({ scaleInSuspended: false });
    expect(autoscaling.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toEqual({
      AutoScalingGroupNames: ['shop-green'],
    });
  });

  test('holdCapacity with scaling leaves AlarmNotification on (target tracking scales out during a release); resuming resumes all', async () => {
    autoscaling.on(SuspendProcessesCommand).resolves({});
    autoscaling.on(ResumeProcessesCommand).resolves({});
    await asgFleet(true).holdCapacity(true);
    await asgFleet(true).holdCapacity(false);
    expect(autoscaling.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-blue', ScalingProcesses: ['ScheduledActions', 'AZRebalance'] },
      { AutoScalingGroupName: 'shop-green', ScalingProcesses: ['ScheduledActions', 'AZRebalance'] },
    ]);
    expect(autoscaling.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-blue', ScalingProcesses: HELD_PROCESSES },
      { AutoScalingGroupName: 'shop-green', ScalingProcesses: HELD_PROCESSES },
    ]);
  });

  test('without scaling in the stack: AlarmNotification is held too, capacity is undefined, setCapacity a named error, no scaling call', async () => {
    autoscaling.on(SuspendProcessesCommand).resolves({});
    const fleet = asgFleet();
    await fleet.holdCapacity(true);
    expect(
      autoscaling.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input.ScalingProcesses),
    ).toEqual([
      ['AlarmNotification', 'ScheduledActions', 'AZRebalance'],
      ['AlarmNotification', 'ScheduledActions', 'AZRebalance'],
    ]);
    autoscaling.resetHistory();
    await expect(fleet.capacity('green')).resolves.toBeUndefined();
    await expect(
      fleet.setCapacity('blue', { min: 0, max: 0, scaleInSuspended: false }),
    ).rejects.toMatchObject({
      name: 'ScalingNotConfigured',
      message: expect.stringContaining(
        "Cannot set blue's bounds to 0..0: the stack configures no auto scaling",
      ),
    });
    expect(autoscaling.calls()).toHaveLength(0);
  });
});

describe('counts and bounds in one move (deploy and restore with bounds)', () => {
  test('ecs deploy: UpdateService first, then the scalable target (a raised minimum must not start the old revision)', async () => {
    const order: string[] = [];
    ecs.on(UpdateServiceCommand).callsFake(() => void order.push('UpdateService'));
    appScaling.on(RegisterScalableTargetCommand).callsFake(() => void order.push('RegisterScalableTarget'));
    await ecsFleet().deploy('green', 'td:7', 4, { min: 4, max: 20, scaleInSuspended: true });
    expect(order).toEqual(['UpdateService', 'RegisterScalableTarget']);
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toMatchObject({
      service: 'shop-green',
      taskDefinition: 'td:7',
      desiredCount: 4,
    });
    expect(appScaling.commandCalls(RegisterScalableTargetCommand)[0].args[0].input).toMatchObject({
      ResourceId: 'service/shop-cluster/shop-green',
      MinCapacity: 4,
      MaxCapacity: 20,
      SuspendedState: { DynamicScalingInSuspended: true },
    });
  });

  test('ecs restore: the scalable target and the service together; without bounds, no scaling call', async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    appScaling.on(RegisterScalableTargetCommand).resolves({});
    await ecsFleet().restore('blue', 0, undefined, { min: 0, max: 0, scaleInSuspended: false });
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toMatchObject({ desiredCount: 0 });
    expect(appScaling.commandCalls(RegisterScalableTargetCommand)[0].args[0].input).toMatchObject({
      MinCapacity: 0,
      MaxCapacity: 0,
    });
    appScaling.reset();
    await ecsFleet().restore('blue', 2);
    expect(appScaling.calls()).toHaveLength(0);
  });

  test('asg restore without a revision: one UpdateAutoScalingGroup with the count and the bounds; the policies beside it', async () => {
    autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
    autoscaling.on(PutScalingPolicyCommand).resolves({});
    autoscaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [policy('cpu', 'ASGAverageCPUUtilization', true)],
    });
    await asgFleet(true).restore('green', 5, undefined, { min: 5, max: 5, scaleInSuspended: false });
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-green', DesiredCapacity: 5, MinSize: 5, MaxSize: 5 },
    ]);
    expect(
      autoscaling.commandCalls(PutScalingPolicyCommand)[0].args[0].input.TargetTrackingConfiguration,
    ).toMatchObject({ DisableScaleIn: false });
  });

  test('bounds without scaling in the stack are a named error, before anything changes (both platforms)', async () => {
    autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
    await expect(
      asgFleet(false).restore('green', 0, undefined, { min: 0, max: 0, scaleInSuspended: false }),
    ).rejects.toMatchObject({ name: 'ScalingNotConfigured' });
    await expect(
      ecsFleet({ scaling: false }).deploy('green', 'td:7', 2, { min: 2, max: 2, scaleInSuspended: true }),
    ).rejects.toMatchObject({ name: 'ScalingNotConfigured' });
    expect(autoscaling.calls()).toHaveLength(0);
    expect(ecs.calls()).toHaveLength(0);
  });
});
