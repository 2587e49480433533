/**
 * Emulator tier: the fleets' auto scaling (config `scaling`) makes its real SDK wire calls against moto, and the
 * tests read back what moto now holds: Application Auto Scaling scalable targets for the ECS services, EC2 Auto
 * Scaling groups' bounds and target-tracking policies.
 *
 * moto 5.2 gaps, not tested here: RegisterScalableTarget stores the bounds and SuspendedState but leaves the ECS
 * service's desiredCount where it was (AWS brings it within the new bounds at once); no scaling policy ever acts
 * (no metrics); scaling policy names are global in moto, not per group.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AsgFleet } from '../../../lambda/adapters/asg-fleet';
import { EcsFleet } from '../../../lambda/adapters/ecs-fleet';
import { describeWithMoto, MOTO_ACCOUNT, MOTO_REGION, useMoto } from '../../support/moto';
import { createEcsServices, createVpc } from '../../support/moto-resources';

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

describeWithMoto('fleet auto scaling against moto', () => {
  const moto = useMoto();

  describe('EcsFleet', () => {
    let fleet: EcsFleet;
    beforeAll(async () => {
      const { services, families } = await createEcsServices(moto(), 'shop', { blue: 2, green: 0 });
      // The cluster by ARN, as a stack may give it: the scalable target's id names it by name.
      const cluster = `arn:aws:ecs:${MOTO_REGION}:${MOTO_ACCOUNT}:cluster/shop`;
      fleet = EcsFleet.create(moto().config, {
        cluster,
        services,
        families,
        containerName: 'app',
        scaling: true,
      });
    });

    const targets = async () =>
      (
        await new ApplicationAutoScalingClient(moto().config).send(
          new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs' }),
        )
      ).ScalableTargets!.map((t) => ({
        id: t.ResourceId,
        dimension: t.ScalableDimension,
        min: t.MinCapacity,
        max: t.MaxCapacity,
        suspended: t.SuspendedState,
      }));

    test("setCapacity registers each color's scalable target (service/<cluster>/<service>); capacity reads it back with the service's count", async () => {
      await fleet.setCapacity('blue', { min: 2, max: 20, scaleInSuspended: false });
      await fleet.setCapacity('green', { min: 0, max: 0, scaleInSuspended: false });
      expect(await targets()).toEqual([
        {
          id: 'service/shop/shop-blue',
          dimension: 'ecs:service:DesiredCount',
          min: 2,
          max: 20,
          suspended: {
            DynamicScalingInSuspended: false,
            DynamicScalingOutSuspended: false,
            ScheduledScalingSuspended: false,
          },
        },
        expect.objectContaining({ id: 'service/shop/shop-green', min: 0, max: 0 }),
      ]);
      await expect(fleet.capacity('blue')).resolves.toEqual({
        desired: 2,
        min: 2,
        max: 20,
        scaleInSuspended: false,
      });
    });

    test('a release holds a color: its floor raised and scale-in suspended, then given back', async () => {
      await fleet.setCapacity('blue', { min: 2, max: 20, scaleInSuspended: false });
      await fleet.setCapacity('blue', { min: 2, max: 20, scaleInSuspended: true });
      await expect(fleet.capacity('blue')).resolves.toEqual({
        desired: 2,
        min: 2,
        max: 20,
        scaleInSuspended: true,
      });
      expect((await targets()).find((t) => t.id === 'service/shop/shop-blue')!.suspended).toEqual({
        DynamicScalingInSuspended: true,
        DynamicScalingOutSuspended: false,
        ScheduledScalingSuspended: false,
      });
      await fleet.setCapacity('blue', { min: 2, max: 20, scaleInSuspended: false });
      await expect(fleet.capacity('blue')).resolves.toMatchObject({ scaleInSuspended: false });
    });
  });

  describe('AsgFleet', () => {
    const groups = { blue: 'scaling-blue', green: 'scaling-green' };
    const templates = { blue: '', green: '' };
    const autoscaling = () => new AutoScalingClient(moto().config);
    let fleet: AsgFleet;

    beforeAll(async () => {
      const { subnetIds } = await createVpc(moto());
      const ec2 = new EC2Client(moto().config);
      for (const color of ['blue', 'green'] as const) {
        const template = await ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: groups[color],
            LaunchTemplateData: { InstanceType: 't4g.small', ImageId: 'ami-12c6146b' },
          }),
        );
        templates[color] = template.LaunchTemplate!.LaunchTemplateId!;
        await autoscaling().send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: groups[color],
            LaunchTemplate: { LaunchTemplateId: templates[color], Version: '1' },
            MinSize: 0,
            MaxSize: 4,
            DesiredCapacity: color === 'blue' ? 2 : 0,
            VPCZoneIdentifier: subnetIds.join(','),
          }),
        );
        // The target-tracking policies the stack gives each group (config scaling: cpuPercent 60).
        await autoscaling().send(
          new PutScalingPolicyCommand({
            AutoScalingGroupName: groups[color],
            PolicyName: `${groups[color]}-cpu`,
            PolicyType: 'TargetTrackingScaling',
            EstimatedInstanceWarmup: 120,
            TargetTrackingConfiguration: {
              PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
              TargetValue: 60,
              DisableScaleIn: false,
            },
          }),
        );
      }
      fleet = AsgFleet.create(moto().config, { groups, launchTemplates: templates, scaling: true });
    });

    const group = async (name: string) =>
      (await autoscaling().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
        .AutoScalingGroups![0];
    const policies = async (name: string) =>
      (await autoscaling().send(new DescribePoliciesCommand({ AutoScalingGroupName: name })))
        .ScalingPolicies!;

    test('setCapacity above the count: MinSize raises the desired capacity to it, and the policies stop scaling in, the rest of them kept', async () => {
      await fleet.setCapacity('green', { min: 3, max: 4, scaleInSuspended: true });
      const green = await group(groups.green);
      expect(green).toMatchObject({ MinSize: 3, MaxSize: 4, DesiredCapacity: 3 });
      expect(green.Instances).toHaveLength(3);
      expect(await policies(groups.green)).toEqual([
        expect.objectContaining({
          PolicyName: 'scaling-green-cpu',
          PolicyType: 'TargetTrackingScaling',
          EstimatedInstanceWarmup: 120,
          TargetTrackingConfiguration: {
            PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
            TargetValue: 60,
            DisableScaleIn: true,
          },
        }),
      ]);
      await expect(fleet.capacity('green')).resolves.toEqual({
        desired: 3,
        min: 3,
        max: 4,
        scaleInSuspended: true,
      });
      // The other group is untouched.
      expect(await policies(groups.blue)).toEqual([
        expect.objectContaining({
          TargetTrackingConfiguration: expect.objectContaining({ DisableScaleIn: false }),
        }),
      ]);
      await expect(fleet.capacity('blue')).resolves.toEqual({
        desired: 2,
        min: 0,
        max: 4,
        scaleInSuspended: false,
      });
    });

    test('setCapacity to 0..0, scale-in free: MaxSize lowers the desired capacity to it', async () => {
      await fleet.setCapacity('green', { min: 0, max: 0, scaleInSuspended: false });
      const green = await group(groups.green);
      expect(green).toMatchObject({ MinSize: 0, MaxSize: 0, DesiredCapacity: 0 });
      await expect(fleet.capacity('green')).resolves.toEqual({
        desired: 0,
        min: 0,
        max: 0,
        scaleInSuspended: false,
      });
    });

    test('holdCapacity with scaling suspends scheduled actions and rebalancing, not AlarmNotification; resuming clears them', async () => {
      await fleet.holdCapacity(true);
      for (const name of Object.values(groups)) {
        expect((await group(name)).SuspendedProcesses!.map((p) => p.ProcessName).sort()).toEqual([
          'AZRebalance',
          'ScheduledActions',
        ]);
      }
      await fleet.holdCapacity(false);
      for (const name of Object.values(groups)) {
        expect((await group(name)).SuspendedProcesses ?? []).toEqual([]);
      }
    });
  });
});
