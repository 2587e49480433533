/**
 * The task definitions migrations run with (EcsMigrationTasks, platform "asg"), and the fleets' register /
 * deploy-with-a-registered-revision split the migration workflow relies on.
 */
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type DescribeTaskDefinitionCommandOutput,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet } from '../../../lambda/adapters/asg-fleet';
import { EcsFleet, EcsMigrationTasks } from '../../../lambda/adapters/ecs-fleet';
import { rollOut } from '../../../lambda/workflow/deploy';

const ecs = mockClient(ECSClient);
const autoscaling = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const MIGRATIONS_4 = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrations:4';
const GREEN_7 = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:7';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bluegreen/shop/database-AbCdEf';

const latestMigrations: DescribeTaskDefinitionCommandOutput = {
  $metadata: {},
  tags: [{ key: 'bluegreen:app', value: 'shop' }],
  taskDefinition: {
    family: 'shop-migrations',
    revision: 3,
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-migrations:3',
    taskRoleArn: 'arn:aws:iam::123456789012:role/migrations-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/migrations-exec',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    containerDefinitions: [
      {
        name: 'app',
        image: `${REPO}:v1`,
        essential: true,
        environment: [
          { name: 'BLUEGREEN_APP', value: 'shop' },
          { name: 'BLUEGREEN_MIGRATIONS', value: 'true' },
          { name: 'BLUEGREEN_VERSION', value: 'v1' },
        ],
        secrets: [
          { name: 'PGHOST', valueFrom: `${SECRET}:host::` },
          { name: 'PGPASSWORD', valueFrom: `${SECRET}:password::` },
        ],
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/bluegreen/shop/migrations' },
        },
      },
      { name: 'proxy', image: 'envoy:1', environment: [{ name: 'BLUEGREEN_VERSION', value: 'keep-me' }] },
    ],
  },
};

beforeEach(() => {
  ecs.reset();
  autoscaling.reset();
  ec2.reset();
});

describe('EcsMigrationTasks', () => {
  const tasks = new EcsMigrationTasks(new ECSClient({}), 'shop-migrations', 'app');

  test("registers a revision of its family from the latest, with the release's image and version in its container", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves(latestMigrations);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: MIGRATIONS_4 } });

    await expect(
      tasks.taskDefinition({ image: `${REPO}:v2`, version: '2.0.0', revision: 'lt-green:9' }),
    ).resolves.toBe(MIGRATIONS_4);

    expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input)).toEqual([
      { taskDefinition: 'shop-migrations', include: ['TAGS'] },
    ]);
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand);
    expect(registered).toHaveLength(1);
    const input = registered[0].args[0].input;
    const before = latestMigrations.taskDefinition!;
    expect(input).toMatchObject({
      family: 'shop-migrations',
      taskRoleArn: before.taskRoleArn,
      executionRoleArn: before.executionRoleArn,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: before.runtimePlatform,
      tags: [{ key: 'bluegreen:app', value: 'shop' }],
    });
    const [app, proxy] = input.containerDefinitions!;
    expect(app).toEqual({
      ...before.containerDefinitions![0],
      image: `${REPO}:v2`,
      environment: [
        { name: 'BLUEGREEN_APP', value: 'shop' },
        { name: 'BLUEGREEN_MIGRATIONS', value: 'true' },
        { name: 'BLUEGREEN_VERSION', value: '2.0.0' },
      ],
    });
    expect(app.secrets).toEqual(before.containerDefinitions![0].secrets);
    // Only the named container changes.
    expect(proxy).toEqual(before.containerDefinitions![1]);
    // Read-only fields of the described revision are not sent back.
    expect(input).not.toHaveProperty('taskDefinitionArn');
    expect(input).not.toHaveProperty('revision');
  });

  test('a family without the named container is FleetMissing, and nothing is registered', async () => {
    const other = new EcsMigrationTasks(new ECSClient({}), 'shop-migrations', 'web');
    ecs.on(DescribeTaskDefinitionCommand).resolves(latestMigrations);
    await expect(
      other.taskDefinition({ image: `${REPO}:v2`, version: 'v2', revision: 'lt-green:9' }),
    ).rejects.toMatchObject({
      name: 'FleetMissing',
      message: expect.stringContaining('shop-migrations has no container "web"'),
    });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  test('a registration without an ARN is an error, not an empty task definition', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves(latestMigrations);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: {} });
    await expect(
      tasks.taskDefinition({ image: `${REPO}:v2`, version: 'v2', revision: 'lt-green:9' }),
    ).rejects.toMatchObject({ name: 'FleetMissing' });
  });
});

describe('EcsFleet: deploy with a registered revision', () => {
  const fleet = new EcsFleet(new ECSClient({}), {
    cluster: 'shop',
    services: { blue: 'shop-blue', green: 'shop-green' },
    families: { blue: 'shop-blue', green: 'shop-green' },
    containerName: 'app',
  });
  const colorTd: DescribeTaskDefinitionCommandOutput = {
    $metadata: {},
    taskDefinition: {
      family: 'shop-green',
      containerDefinitions: [{ name: 'app', image: `${REPO}:v1` }],
    },
  };

  test('register makes a revision of the color’s family and does not touch the service', async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'shop-green' }).resolves(colorTd);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: GREEN_7 } });
    await expect(fleet.register('green', `${REPO}:v2`, 'v2')).resolves.toBe(GREEN_7);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input.family).toBe('shop-green');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  test('with a revision given it only rolls the service onto it (no second registration)', async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    await expect(
      rollOut(fleet, 'green', { image: `${REPO}:v2`, version: 'v2', revision: GREEN_7 }, 3),
    ).resolves.toBe(GREEN_7);
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-green', taskDefinition: GREEN_7, desiredCount: 3 },
    ]);
  });

  test('without one it registers first, then rolls the service onto the new revision', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves(colorTd);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: GREEN_7 } });
    ecs.on(UpdateServiceCommand).resolves({});
    await expect(rollOut(fleet, 'green', { image: `${REPO}:v2`, version: 'v2' }, 2)).resolves.toBe(GREEN_7);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toMatchObject({
      taskDefinition: GREEN_7,
      desiredCount: 2,
    });
  });
});

describe('AsgFleet.register', () => {
  const fleet = new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
    groups: { blue: 'shop-blue', green: 'shop-green' },
    launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
  });
  const script = (image: string, version: string) =>
    [
      '#!/bin/bash',
      `BLUEGREEN_IMAGE='${image}'`,
      `BLUEGREEN_VERSION='${version}'`,
      'docker run "$BLUEGREEN_IMAGE"',
    ].join('\n');
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

  test('creates a launch template version running the image, without moving the group', async () => {
    ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        { VersionNumber: 8, LaunchTemplateData: { UserData: b64(script(`${REPO}:v1`, 'v1')) } },
      ],
    });
    ec2.on(CreateLaunchTemplateVersionCommand).resolves({ LaunchTemplateVersion: { VersionNumber: 9 } });

    await expect(fleet.register('green', `${REPO}:v2`, '2.0.0')).resolves.toBe('lt-green:9');

    const created = ec2.commandCalls(CreateLaunchTemplateVersionCommand);
    expect(created).toHaveLength(1);
    expect(created[0].args[0].input).toMatchObject({ LaunchTemplateId: 'lt-green', SourceVersion: '8' });
    const userData = Buffer.from(created[0].args[0].input.LaunchTemplateData!.UserData!, 'base64').toString(
      'utf8',
    );
    expect(userData).toContain(`BLUEGREEN_IMAGE='${REPO}:v2'`);
    expect(userData).toContain(`BLUEGREEN_VERSION='2.0.0'`);
    // Registered, not running: the group is not touched.
    expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(autoscaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(autoscaling.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });
});
