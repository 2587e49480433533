import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsFleet } from '../../../lambda/adapters/ecs-fleet';
import { rollOut } from '../../../lambda/workflow/deploy';

const ecs = mockClient(ECSClient);
const fleet = new EcsFleet(new ECSClient({}), {
  cluster: 'shop',
  services: { blue: 'shop-blue', green: 'shop-green' },
  families: { blue: 'shop-blue', green: 'shop-green' },
  containerName: 'app',
});
const REV6 = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:6';
const REV7 = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:7';

beforeEach(() => ecs.reset());

describe('EcsFleet', () => {
  test('describe reads the PRIMARY deployment: revision, counts, rollout state, failed tasks', async () => {
    ecs.on(DescribeServicesCommand, { cluster: 'shop', services: ['shop-green'] }).resolves({
      services: [
        {
          desiredCount: 2,
          taskDefinition: REV7,
          deployments: [
            { status: 'ACTIVE', taskDefinition: REV6, runningCount: 2 },
            {
              status: 'PRIMARY',
              taskDefinition: REV7,
              runningCount: 1,
              rolloutState: 'IN_PROGRESS',
              failedTasks: 1,
              rolloutStateReason: 'ECS deployment in progress',
            },
          ],
        },
      ],
    });
    await expect(fleet.describe('green')).resolves.toEqual({
      revision: REV7,
      desired: 2,
      running: 1,
      rollout: 'IN_PROGRESS',
      failedTasks: 1,
      reason: 'ECS deployment in progress',
    });
  });

  test('describe of a revision ECS rolled back from (circuit breaker) reports the rollout FAILED, with why', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          desiredCount: 2,
          deployments: [
            { status: 'PRIMARY', taskDefinition: REV6, runningCount: 2, rolloutState: 'IN_PROGRESS' },
            {
              status: 'ACTIVE',
              taskDefinition: REV7,
              runningCount: 0,
              rolloutState: 'FAILED',
              failedTasks: 3,
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            },
          ],
        },
      ],
    });
    await expect(fleet.describe('green', REV7)).resolves.toMatchObject({
      rollout: 'FAILED',
      failedTasks: 3,
      reason:
        'ECS rolled the service back from shop-green:7 to shop-green:6 (ECS deployment circuit breaker: tasks failed to start.)',
    });
  });

  test('a missing service is a named error', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    await expect(fleet.describe('blue')).rejects.toMatchObject({
      name: 'FleetMissing',
      message: expect.stringContaining('MISSING'),
    });
  });

  test('deploy copies the family’s latest revision with the new image and version, then rolls the service onto it', async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'shop-green', include: ['TAGS'] }).resolves({
      tags: [{ key: 'bluegreen:color', value: 'green' }],
      taskDefinition: {
        family: 'shop-green',
        taskRoleArn: 'arn:role/task',
        executionRoleArn: 'arn:role/exec',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
        containerDefinitions: [
          {
            name: 'app',
            image: 'repo:v1',
            environment: [
              { name: 'PORT', value: '8080' },
              { name: 'BLUEGREEN_VERSION', value: 'v1' },
            ],
          },
          { name: 'sidecar', image: 'otel:1' },
        ],
      },
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: REV7 } });
    ecs.on(UpdateServiceCommand).resolves({});

    await expect(rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 3)).resolves.toBe(REV7);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input).toEqual({
      family: 'shop-green',
      taskRoleArn: 'arn:role/task',
      executionRoleArn: 'arn:role/exec',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      volumes: undefined,
      ephemeralStorage: undefined,
      pidMode: undefined,
      ipcMode: undefined,
      proxyConfiguration: undefined,
      tags: [{ key: 'bluegreen:color', value: 'green' }],
      containerDefinitions: [
        {
          name: 'app',
          image: 'repo:v2',
          environment: [
            { name: 'PORT', value: '8080' },
            { name: 'BLUEGREEN_VERSION', value: 'v2' },
          ],
        },
        { name: 'sidecar', image: 'otel:1' },
      ],
    });
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({
      cluster: 'shop',
      service: 'shop-green',
      taskDefinition: REV7,
      desiredCount: 3,
    });
  });

  test('restore sets the count, and the revision when given; retire deregisters', async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    await fleet.restore('blue', 0);
    await fleet.restore('green', 2, REV6);
    await fleet.retire(REV7);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-blue', desiredCount: 0 },
      { cluster: 'shop', service: 'shop-green', desiredCount: 2, taskDefinition: REV6 },
    ]);
    expect(ecs.commandCalls(DeregisterTaskDefinitionCommand)[0].args[0].input).toEqual({
      taskDefinition: REV7,
    });
  });
});
