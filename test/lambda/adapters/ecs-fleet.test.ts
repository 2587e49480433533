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
import { abort } from '../../../lambda/workflow/conclude';
import { rollOut } from '../../../lambda/workflow/deploy';
import { FakeWorld } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

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
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: REV6 }).resolves({
      taskDefinition: { taskDefinitionArn: REV6, status: 'ACTIVE' },
    });
    await expect(fleet.restore('blue', 0)).resolves.toEqual({ count: 0 });
    await expect(fleet.restore('green', 2, REV6)).resolves.toEqual({ revision: REV6, count: 2 });
    await fleet.retire(REV7);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-blue', desiredCount: 0 },
      { cluster: 'shop', service: 'shop-green', desiredCount: 2, taskDefinition: REV6 },
    ]);
    expect(ecs.commandCalls(DeregisterTaskDefinitionCommand)[0].args[0].input).toEqual({
      taskDefinition: REV7,
    });
  });

  /** A deregistered revision 6 (v1) and the family's latest, 8, with the settings a cdk deploy changed. */
  const inactiveSix = () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: REV6 }).resolves({
      taskDefinition: {
        taskDefinitionArn: REV6,
        status: 'INACTIVE',
        cpu: '256',
        containerDefinitions: [
          { name: 'app', image: 'repo:v1', environment: [{ name: 'BLUEGREEN_VERSION', value: '1.0' }] },
        ],
      },
    });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'shop-green', include: ['TAGS'] }).resolves({
      taskDefinition: {
        taskDefinitionArn: `${REV6.slice(0, -1)}8`,
        family: 'shop-green',
        status: 'ACTIVE',
        cpu: '512',
        containerDefinitions: [
          { name: 'app', image: 'repo:v2', environment: [{ name: 'PORT', value: '8080' }] },
        ],
      },
    });
    ecs.on(UpdateServiceCommand).resolves({});
    // green's service runs revision 7 (the release's): 6 is referenced by no service.
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'shop-green', taskDefinition: REV7 }] });
  };

  test('restore onto a deregistered revision registers its image and version again (current settings) and goes onto that copy', async () => {
    inactiveSix();
    const REV9 = `${REV6.slice(0, -1)}9`;
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: REV9 } });
    await expect(fleet.restore('green', 2, REV6)).resolves.toEqual({
      revision: REV9,
      count: 2,
      note: 'revision 6 of green (repo:v1) was deregistered (a cdk deploy changed the task definition?): it was registered again with the current settings as revision 9',
    });
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    expect(registered).toMatchObject({ family: 'shop-green', cpu: '512' });
    expect(registered.containerDefinitions).toEqual([
      {
        name: 'app',
        image: 'repo:v1',
        environment: [
          { name: 'PORT', value: '8080' },
          { name: 'BLUEGREEN_VERSION', value: '1.0' },
        ],
      },
    ]);
    // Never UpdateService onto the INACTIVE revision (ECS rejects it).
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-green', desiredCount: 2, taskDefinition: REV9 },
    ]);
  });

  test('restore onto a deregistered revision its service still references: only the count changes (ECS scales it)', async () => {
    inactiveSix();
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'shop-green', taskDefinition: REV6 }] });
    await expect(fleet.restore('green', 2, REV6)).resolves.toEqual({ revision: REV6, count: 2 });
    expect(ecs.commandCalls(DescribeServicesCommand)[0].args[0].input).toEqual({
      cluster: 'shop',
      services: ['shop-green'],
    });
    // No taskDefinition in UpdateService (ECS rejects an INACTIVE one there), and no copy registered.
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-green', desiredCount: 2 },
    ]);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toEqual([]);
  });

  test('when registering it again fails too, the color is scaled to 0 and the restore says so', async () => {
    inactiveSix();
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Too many revisions'), { name: 'ClientException' }));
    await expect(fleet.restore('green', 2, REV6)).resolves.toEqual({
      count: 0,
      note: 'revision 6 of green (repo:v1) was deregistered (a cdk deploy changed the task definition?) and registering it again failed (ClientException: Too many revisions): green was scaled to 0 instead',
    });
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'shop', service: 'shop-green', desiredCount: 0 },
    ]);
  });
});

/**
 * A small stateful ECS (task definition revisions of one family, ACTIVE or INACTIVE), to follow what a release
 * leaves registered.
 */
function statefulEcs(): { revisions: { arn: string; image: string; version?: string; active: boolean }[] } {
  const state = {
    revisions: [
      { arn: REV6, image: 'repo:v1', version: 'v1', active: true } as {
        arn: string;
        image: string;
        version?: string;
        active: boolean;
      },
    ],
  };
  const asDefinition = (r: (typeof state.revisions)[number]) => ({
    taskDefinitionArn: r.arn,
    family: 'shop-green',
    status: r.active ? 'ACTIVE' : 'INACTIVE',
    containerDefinitions: [
      {
        name: 'app',
        image: r.image,
        environment: r.version ? [{ name: 'BLUEGREEN_VERSION', value: r.version }] : [],
      },
    ],
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const found =
      input.taskDefinition === 'shop-green'
        ? state.revisions.filter((r) => r.active).at(-1)
        : state.revisions.find((r) => r.arn === input.taskDefinition);
    return Promise.resolve({ taskDefinition: found && asDefinition(found) });
  });
  ecs
    .on(RegisterTaskDefinitionCommand)
    .callsFake(
      (input: {
        containerDefinitions: { image: string; environment?: { name: string; value: string }[] }[];
      }) => {
        const app = input.containerDefinitions[0];
        const arn = `${REV6.slice(0, -1)}${6 + state.revisions.length}`;
        state.revisions.push({
          arn,
          image: app.image,
          version: app.environment?.find((e) => e.name === 'BLUEGREEN_VERSION')?.value,
          active: true,
        });
        return Promise.resolve({ taskDefinition: { taskDefinitionArn: arn } });
      },
    );
  ecs.on(DeregisterTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const r = state.revisions.find((x) => x.arn === input.taskDefinition);
    if (r) {
      r.active = false;
    }
    return Promise.resolve({});
  });
  return state;
}

describe('EcsFleet registration is idempotent', () => {
  test('a retried deploy registers once, and Abort retires that revision: no ACTIVE revision of the failed image is left', async () => {
    const ecsState = statefulEcs();
    // The first UpdateService is throttled after the revision was registered: the Deploy step fails and is retried.
    ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({});
    await expect(rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 2)).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    const revision = await rollOut(fleet, 'green', { image: 'repo:v2', version: 'v2' }, 2);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
    expect(revision).toBe(ecsState.revisions[1].arn);

    const world = new FakeWorld();
    const deps = { ...world.deps(), fleet };
    await abort(
      {
        execution: 'release-1',
        release: {
          image: 'repo:v2',
          version: 'v2',
          live: 'blue',
          idle: 'green',
          liveCount: 2,
          idleBefore: { count: 0, image: 'repo:v1', revision: REV6 },
          timings: SETTINGS.timings,
          startedAt: '2026-11-26T10:00:00Z',
          revision,
        },
        failure: { Error: 'ValidationFailed', Cause: 'smoke check failed' },
      },
      deps,
      SETTINGS,
    );
    expect(ecsState.revisions.filter((r) => r.image === 'repo:v2' && r.active)).toEqual([]);
    expect(ecsState.revisions.filter((r) => r.active).map((r) => r.image)).toEqual(['repo:v1']);
  });

  test('a release of another version of the same image registers a new revision', async () => {
    const ecsState = statefulEcs();
    ecs.on(UpdateServiceCommand).resolves({});
    await rollOut(fleet, 'green', { image: 'repo:v1', version: 'v1-rebuilt' }, 2);
    expect(ecsState.revisions.map((r) => r.version)).toEqual(['v1', 'v1-rebuilt']);
  });
});
