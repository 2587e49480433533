/**
 * Fleet.revisionRunnable, which a cold rollback asks before starting a color on the revision it ran: ECS
 * (DescribeTaskDefinition: ACTIVE, INACTIVE, gone) and EC2 Auto Scaling (DescribeLaunchTemplateVersions: there,
 * deleted), with aws-sdk-client-mock for AWS's answers, and against moto for the real wire calls.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ClientException,
  CreateClusterCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet } from '../../../lambda/adapters/asg-fleet';
import { EcsFleet } from '../../../lambda/adapters/ecs-fleet';
import { describeWithMoto, useMoto } from '../../support/moto';
import { registerTaskDefinition } from '../../support/moto-resources';

const TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-blue:7';
const ECS_PROPS = {
  cluster: 'shop',
  services: { blue: 'shop-blue', green: 'shop-green' },
  families: { blue: 'shop-blue', green: 'shop-green' },
  containerName: 'app',
};
const ASG_PROPS = {
  groups: { blue: 'shop-blue', green: 'shop-green' },
  launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
};

describe('revisionRunnable with AWS answers (aws-sdk-client-mock)', () => {
  // Made before these tests and restored after them: the moto tests below make real calls.
  const mockEcs = () => mockClient(ECSClient);
  const mockEc2 = () => mockClient(EC2Client);
  let ecs: ReturnType<typeof mockEcs>;
  let ec2: ReturnType<typeof mockEc2>;
  beforeEach(() => {
    ecs = mockEcs();
    ec2 = mockEc2();
  });
  afterEach(() => {
    ecs.restore();
    ec2.restore();
  });
  const ecsFleet = () => new EcsFleet(new ECSClient({ region: 'eu-west-1' }), ECS_PROPS);
  const asgFleet = () =>
    new AsgFleet(
      new AutoScalingClient({ region: 'eu-west-1' }),
      new EC2Client({ region: 'eu-west-1' }),
      ASG_PROPS,
    );

  test('ECS: an ACTIVE task definition can run, with the image of its app container; the call names the revision', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: TD,
        status: 'ACTIVE',
        containerDefinitions: [
          { name: 'log-router', image: 'fluent-bit:2' },
          { name: 'app', image: 'shop:v1' },
        ],
      },
    });
    expect(await ecsFleet().revisionRunnable(TD)).toEqual({ runnable: true, image: 'shop:v1' });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({ taskDefinition: TD });
  });

  test('ECS: an INACTIVE (deregistered) one no service references cannot, and says so', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: TD, status: 'INACTIVE' } })
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'shop-blue', taskDefinition: `${TD.slice(0, -1)}8` }] });
    expect(await ecsFleet().revisionRunnable(TD)).toEqual({
      runnable: false,
      reason: 'task definition shop-blue:7 is INACTIVE (deregistered)',
    });
  });

  test('ECS: an INACTIVE one its service still references can run (ECS scales it by its desired count)', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({
        taskDefinition: {
          taskDefinitionArn: TD,
          status: 'INACTIVE',
          containerDefinitions: [{ name: 'app', image: 'shop:v1' }],
        },
      })
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'shop-blue', taskDefinition: TD }] });
    expect(await ecsFleet().revisionRunnable(TD)).toEqual({ runnable: true, image: 'shop:v1' });
    expect(ecs.commandCalls(DescribeServicesCommand)[0].args[0].input).toEqual({
      cluster: 'shop',
      services: ['shop-blue', 'shop-green'],
    });
  });

  test('ECS: a deleted one (ClientException: Unable to describe task definition) cannot; other errors are thrown', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejectsOnce(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await ecsFleet().revisionRunnable(TD)).toEqual({
      runnable: false,
      reason: 'task definition shop-blue:7 no longer exists (Unable to describe task definition.)',
    });
    await expect(ecsFleet().revisionRunnable(TD)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test('asg: a launch template version that exists can run; a deleted one cannot', async () => {
    ec2
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-blue', Versions: ['7'] })
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-blue',
            VersionNumber: 7,
            LaunchTemplateData: {
              UserData: Buffer.from(
                "#!/bin/bash\nBLUEGREEN_IMAGE='shop:v1'\nBLUEGREEN_VERSION='v1'\n",
              ).toString('base64'),
            },
          },
        ],
      })
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-blue', Versions: ['6'] })
      .rejects(
        Object.assign(new Error('Could not find launch template version 6'), {
          name: 'InvalidLaunchTemplateId.VersionNotFound',
        }),
      );
    expect(await asgFleet().revisionRunnable('lt-blue:7')).toEqual({ runnable: true, image: 'shop:v1' });
    expect(await asgFleet().revisionRunnable('lt-blue:6')).toEqual({
      runnable: false,
      reason: 'launch template version lt-blue:6 no longer exists (InvalidLaunchTemplateId.VersionNotFound)',
    });
    expect(await asgFleet().revisionRunnable('lt-blue')).toEqual({
      runnable: false,
      reason: 'launch template version lt-blue is not a version of a launch template',
    });
  });
});

// moto loads each service's backend on its first call: seconds on a loaded machine, counted in no test.
jest.setTimeout(120_000);

describeWithMoto('revisionRunnable against moto', () => {
  const moto = useMoto();

  test('ECS: runnable while registered, not once deregistered (INACTIVE)', async () => {
    const revision = await registerTaskDefinition(moto(), 'shop-blue');
    // The cluster, without services: no service references the revision once it is deregistered.
    await new ECSClient(moto().config).send(new CreateClusterCommand({ clusterName: 'shop' }));
    const fleet = EcsFleet.create(moto().config, ECS_PROPS);
    expect(await fleet.revisionRunnable(revision)).toMatchObject({ runnable: true });
    await new ECSClient(moto().config).send(
      new DeregisterTaskDefinitionCommand({ taskDefinition: revision }),
    );
    expect(await fleet.revisionRunnable(revision)).toEqual({
      runnable: false,
      reason: `task definition ${revision.split('/').pop()} is INACTIVE (deregistered)`,
    });
  });

  test('asg: runnable while the version exists; a version that does not exist is not (moto has no DeleteLaunchTemplateVersions, so none is deleted here)', async () => {
    const ec2 = new EC2Client(moto().config);
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'shop-blue-runnable',
        LaunchTemplateData: { InstanceType: 't4g.small', ImageId: 'ami-12c6146b' },
      }),
    );
    const id = template.LaunchTemplate!.LaunchTemplateId!;
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't4g.medium' },
      }),
    );
    const fleet = AsgFleet.create(moto().config, {
      groups: ASG_PROPS.groups,
      launchTemplates: { blue: id, green: id },
    });
    expect(await fleet.revisionRunnable(`${id}:2`)).toMatchObject({ runnable: true });
    const gone = await fleet.revisionRunnable(`${id}:9`);
    expect(gone).toMatchObject({ runnable: false });
    expect(gone.reason).toMatch(new RegExp(`^launch template version ${id}:9 no longer exists`));
  });
});
