/**
 * Emulator tier: the fleet adapters (ECS services, EC2 Auto Scaling groups) and the asg platform's migration
 * tasks make their real SDK wire calls against moto, and the tests read back what moto now holds. Where moto
 * falls short of AWS, the test shims exactly that call and says so in its name.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type DescribeServicesCommandOutput,
} from '@aws-sdk/client-ecs';
import { AsgFleet, HELD_PROCESSES } from '../../../lambda/adapters/asg-fleet';
import { EcsFleet, EcsMigrationTasks } from '../../../lambda/adapters/ecs-fleet';
import { imageLine, versionLine } from '../../../lambda/shared/user-data';
import { describeWithMoto, MOTO_ACCOUNT, useMoto } from '../../support/moto';
import { createEcsServices, createVpc, registerTaskDefinition } from '../../support/moto-resources';

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

describeWithMoto('fleet adapters against moto', () => {
  const moto = useMoto();

  describe('EcsFleet', () => {
    const ecs = () => new ECSClient(moto().config);
    let cluster: string;
    let services: Record<'blue' | 'green', string>;
    let families: Record<'blue' | 'green', string>;
    let initial: Record<'blue' | 'green', string>;

    beforeAll(async () => {
      ({ cluster, services, families, initial } = await createEcsServices(moto(), 'shop', {
        blue: 2,
        green: 0,
      }));
    });

    const fleet = () => EcsFleet.create(moto().config, { cluster, services, families, containerName: 'app' });

    test('register: a new revision of the family, the app container on the new image and version, the rest kept', async () => {
      const revision = await fleet().register('green', 'repo:v2', 'v2');
      expect(revision).toBe(`arn:aws:ecs:eu-west-1:${MOTO_ACCOUNT}:task-definition/shop-green:2`);
      const out = await ecs().send(
        new DescribeTaskDefinitionCommand({ taskDefinition: revision, include: ['TAGS'] }),
      );
      const td = out.taskDefinition!;
      expect(td).toMatchObject({
        cpu: '256',
        memory: '512',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        taskRoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/shop-green-task`,
        runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      });
      const [app, router] = td.containerDefinitions!;
      expect(app).toMatchObject({ name: 'app', image: 'repo:v2' });
      expect(app.environment).toEqual([
        { name: 'BLUEGREEN_COLOR', value: 'green' },
        { name: 'BLUEGREEN_VERSION', value: 'v2' },
      ]);
      expect(router).toMatchObject({ name: 'log-router', image: 'fluent-bit:1' });
      expect(out.tags).toEqual([{ key: 'bluegreen:app', value: 'shop' }]);
    });

    test('deploy moves the service to the revision and count; describe reports it (moto gap shimmed: UpdateService never moves deployments[])', async () => {
      const revision = await fleet().register('green', 'repo:v3', 'v3');
      await fleet().deploy('green', revision, 2);
      const service = (await ecs().send(new DescribeServicesCommand({ cluster, services: [services.green] })))
        .services![0];
      expect(service).toMatchObject({ taskDefinition: revision, desiredCount: 2 });

      // moto gap: UpdateService keeps deployments[] as CreateService made them (PRIMARY on the first revision).
      expect(service.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition).toBe(initial.green);
      // The shim rewrites the PRIMARY deployment of DescribeServices to what ECS shows once the rollout completed.
      const client = new ECSClient(moto().config);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName !== 'DescribeServicesCommand') {
            return result;
          }
          for (const s of (result.output as DescribeServicesCommandOutput).services ?? []) {
            s.deployments = [
              {
                status: 'PRIMARY',
                taskDefinition: s.taskDefinition,
                desiredCount: s.desiredCount,
                runningCount: s.desiredCount,
                failedTasks: 0,
                rolloutState: 'COMPLETED',
              },
            ];
          }
          return result;
        },
        { step: 'initialize', name: 'motoDeploymentsShim' },
      );
      const shimmed = new EcsFleet(client, { cluster, services, families, containerName: 'app' });
      expect(await shimmed.describe('green', revision)).toEqual({
        revision,
        desired: 2,
        running: 2,
        rollout: 'COMPLETED',
        failedTasks: 0,
        reason: undefined,
      });
      // A revision the service is not on: ECS rolled it back.
      expect(await shimmed.describe('green', initial.green)).toMatchObject({ rollout: 'FAILED', revision });
    });

    test('restore without a revision changes only the count; with one, both', async () => {
      await fleet().restore('blue', 3);
      let blue = (await ecs().send(new DescribeServicesCommand({ cluster, services: [services.blue] })))
        .services![0];
      expect(blue).toMatchObject({ taskDefinition: initial.blue, desiredCount: 3 });
      const revision = await fleet().register('blue', 'repo:v9', 'v9');
      await fleet().restore('blue', 2, revision);
      blue = (await ecs().send(new DescribeServicesCommand({ cluster, services: [services.blue] })))
        .services![0];
      expect(blue).toMatchObject({ taskDefinition: revision, desiredCount: 2 });
    });

    test('retire deregisters the revision (INACTIVE); describe() of a missing service is FleetMissing', async () => {
      const revision = await fleet().register('blue', 'repo:old', 'old');
      await fleet().retire(revision);
      const td = await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: revision }));
      expect(td.taskDefinition!.status).toBe('INACTIVE');

      const missing = EcsFleet.create(moto().config, {
        cluster,
        services: { blue: 'nope', green: 'nope' },
        families,
        containerName: 'app',
      });
      await expect(missing.describe('blue')).rejects.toMatchObject({ name: 'FleetMissing' });
    });

    test('EcsMigrationTasks registers a revision of the migrations family with the release image', async () => {
      await registerTaskDefinition(moto(), 'shop-migrations');
      const tasks = EcsMigrationTasks.create(moto().config, 'shop-migrations', 'app');
      const arn = await tasks.taskDefinition({ image: 'repo:v4', version: 'v4', revision: 'unused' });
      const td = (await ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })))
        .taskDefinition!;
      expect(td.revision).toBe(2);
      expect(td.containerDefinitions![0]).toMatchObject({ name: 'app', image: 'repo:v4' });
    });
  });

  describe('AsgFleet', () => {
    const groups = { blue: 'shop-blue', green: 'shop-green' };
    const templates = { blue: '', green: '' };
    const script = (image: string, version: string) =>
      ['#!/bin/bash', imageLine(image), versionLine(version), 'docker run "$BLUEGREEN_IMAGE"'].join('\n');
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const autoscaling = () => new AutoScalingClient(moto().config);
    const ec2 = () => new EC2Client(moto().config);
    /** moto gap: no instance refreshes (Start/Describe/Cancel). The shim keeps them, as Auto Scaling would. */
    const refreshes: {
      AutoScalingGroupName: string;
      Status: string;
      DesiredConfiguration: unknown;
      Preferences: unknown;
    }[] = [];

    beforeAll(async () => {
      const { subnetIds } = await createVpc(moto());
      for (const color of ['blue', 'green'] as const) {
        const template = await ec2().send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: `shop-${color}`,
            LaunchTemplateData: {
              InstanceType: 't4g.small',
              ImageId: 'ami-12c6146b',
              UserData: base64(script('repo:v1', 'v1')),
            },
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
      }
    });

    /** The adapter on a client whose instance-refresh calls the shim answers (moto has none); all else is moto. */
    function fleet(): AsgFleet {
      const client = autoscaling();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as {
            AutoScalingGroupName: string;
            DesiredConfiguration?: unknown;
            Preferences?: unknown;
          };
          const mine = refreshes.filter((r) => r.AutoScalingGroupName === input.AutoScalingGroupName);
          switch (context.commandName) {
            case 'DescribeInstanceRefreshesCommand':
              return { output: { InstanceRefreshes: [...mine].reverse(), $metadata: {} }, response: {} };
            case 'StartInstanceRefreshCommand':
              refreshes.push({
                ...input,
                Status: 'InProgress',
                DesiredConfiguration: input.DesiredConfiguration,
                Preferences: input.Preferences,
              });
              return { output: { InstanceRefreshId: String(refreshes.length), $metadata: {} }, response: {} };
            case 'CancelInstanceRefreshCommand': {
              const active = mine.find((r) => r.Status === 'InProgress');
              if (!active) {
                throw Object.assign(new Error('No active refresh'), {
                  name: 'ActiveInstanceRefreshNotFoundFault',
                });
              }
              active.Status = 'Cancelled';
              return { output: { $metadata: {} }, response: {} };
            }
            default:
              return next(args);
          }
        },
        { step: 'initialize', name: 'motoInstanceRefreshShim' },
      );
      return new AsgFleet(client, ec2(), { groups, launchTemplates: templates });
    }

    const group = async (name: string) =>
      (await autoscaling().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
        .AutoScalingGroups![0];

    test('register: a launch template version running the new image; a retry reuses it (moto gap: SourceVersion ignored)', async () => {
      const revision = await fleet().register('green', 'repo:v2', 'v2');
      expect(revision).toBe(`${templates.green}:2`);
      const version = (
        await ec2().send(
          new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templates.green, Versions: ['2'] }),
        )
      ).LaunchTemplateVersions![0];
      // moto gap: CreateLaunchTemplateVersion ignores SourceVersion (AWS copies the source version's data and
      // overrides what LaunchTemplateData gives): the version holds only the user data the adapter sent.
      expect(version.LaunchTemplateData).toEqual({ UserData: expect.any(String) });
      expect(Buffer.from(version.LaunchTemplateData!.UserData!, 'base64').toString('utf8')).toBe(
        script('repo:v2', 'v2'),
      );
      expect(await fleet().register('green', 'repo:v2', 'v2')).toBe(revision);
    });

    test('deploy from zero scales the group out on the revision, no refresh; describe counts the instances (moto gaps: no instance refreshes, shimmed; no scale-out on a version made by CreateLaunchTemplateVersion)', async () => {
      // moto gap: launching from a version made by CreateLaunchTemplateVersion fails its user-data type assertion
      // (a 500), so this scale-out uses version 1, made with the template (it runs repo:v1).
      const revision = `${templates.green}:1`;
      await fleet().deploy('green', revision, 2);
      const green = await group(groups.green);
      expect(green).toMatchObject({
        DesiredCapacity: 2,
        LaunchTemplate: expect.objectContaining({ LaunchTemplateId: templates.green, Version: '1' }),
      });
      expect(green.Instances).toHaveLength(2);
      expect(refreshes.filter((r) => r.AutoScalingGroupName === groups.green)).toEqual([]);
      expect(await fleet().describe('green', revision)).toEqual({
        revision,
        desired: 2,
        running: 2,
        rollout: 'COMPLETED',
        failedTasks: 0,
        reason: undefined,
      });
    });

    test('deploy onto a warm group starts a rolling refresh at 100% healthy; describe says it is in progress', async () => {
      const revision = await fleet().register('blue', 'repo:v4', 'v4');
      await fleet().deploy('blue', revision, 2);
      expect((await group(groups.blue)).LaunchTemplate).toMatchObject({ Version: revision.split(':')[1] });
      expect(refreshes.filter((r) => r.AutoScalingGroupName === groups.blue)).toEqual([
        expect.objectContaining({
          Status: 'InProgress',
          DesiredConfiguration: {
            LaunchTemplate: { LaunchTemplateId: templates.blue, Version: revision.split(':')[1] },
          },
          Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
        }),
      ]);
      expect(await fleet().describe('blue', revision)).toMatchObject({ revision, rollout: 'IN_PROGRESS' });
      // A restore to the old version cancels that refresh first.
      await fleet().restore('blue', 2, `${templates.blue}:1`);
      expect(refreshes.filter((r) => r.AutoScalingGroupName === groups.blue).map((r) => r.Status)).toEqual([
        'Cancelled',
      ]);
    });

    test('holdCapacity suspends alarm, scheduled and rebalancing processes on both groups, and resumes them', async () => {
      await fleet().holdCapacity(true);
      for (const name of Object.values(groups)) {
        expect((await group(name)).SuspendedProcesses!.map((p) => p.ProcessName).sort()).toEqual(
          [...HELD_PROCESSES].sort(),
        );
      }
      await fleet().holdCapacity(false);
      for (const name of Object.values(groups)) {
        expect((await group(name)).SuspendedProcesses ?? []).toEqual([]);
      }
    });

    test.skip('retire deletes the launch template version: not run, moto 5.2 has no DeleteLaunchTemplateVersions', () => {});
  });
});
