/**
 * Real resources in moto for the emulator tier, made with the SDK the way the stack's CloudFormation makes them:
 * an ALB with a weighted production listener and a test listener rule, the release record's parameters, ...
 */
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { recordParameterNames, type Color } from '../../lambda/shared/release-record';
import { MOTO_ACCOUNT, type RunningMoto } from './moto';

export interface MotoAlb {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly loadBalancerArn: string;
  readonly targetGroups: Record<Color, string>;
  readonly productionListenerArn: string;
  readonly testListenerArn: string;
  readonly testRuleArn: string;
}

/** A VPC with two subnets in two zones (an ALB needs two) and a security group. */
export async function createVpc(
  moto: RunningMoto,
): Promise<{ vpcId: string; subnetIds: string[]; securityGroupId: string }> {
  const ec2 = new EC2Client(moto.config);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnetIds: string[] = [];
  for (const [i, zone] of ['a', 'b'].entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.0.${i}.0/24`,
        AvailabilityZone: `${moto.config.region}${zone}`,
      }),
    );
    subnetIds.push(subnet.Subnet!.SubnetId!);
  }
  const group = await ec2.send(
    new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'tasks', Description: 'tasks' }),
  );
  return { vpcId, subnetIds, securityGroupId: group.GroupId! };
}

/**
 * The stack's traffic layout: production listener forwarding 100/0 to blue/green, a test listener whose rule
 * (secret header) forwards to the idle color.
 */
export async function createAlb(moto: RunningMoto, app: string): Promise<MotoAlb> {
  const elb = new ElasticLoadBalancingV2Client(moto.config);
  const { vpcId, subnetIds } = await createVpc(moto);
  const lb = await elb.send(
    new CreateLoadBalancerCommand({ Name: app, Subnets: subnetIds, Type: 'application' }),
  );
  const loadBalancerArn = lb.LoadBalancers![0].LoadBalancerArn!;
  const targetGroups = {} as Record<Color, string>;
  for (const color of ['blue', 'green'] as const) {
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: `${app}-${color}`,
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: vpcId,
        TargetType: 'ip',
        HealthCheckPath: '/health',
      }),
    );
    targetGroups[color] = tg.TargetGroups![0].TargetGroupArn!;
  }
  const forward = (blue: number, green: number) => [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: targetGroups.blue, Weight: blue },
          { TargetGroupArn: targetGroups.green, Weight: green },
        ],
      },
    },
  ];
  const production = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: forward(100, 0),
    }),
  );
  const test = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: 9000,
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '403', ContentType: 'text/plain', MessageBody: 'no' },
        },
      ],
    }),
  );
  const testListenerArn = test.Listeners![0].ListenerArn!;
  const rule = await elb.send(
    new CreateRuleCommand({
      ListenerArn: testListenerArn,
      Priority: 1,
      Conditions: [
        {
          Field: 'http-header',
          HttpHeaderConfig: { HttpHeaderName: 'x-bluegreen-test-token', Values: ['t'] },
        },
      ],
      Actions: forward(0, 100),
    }),
  );
  return {
    vpcId,
    subnetIds,
    loadBalancerArn,
    targetGroups,
    productionListenerArn: production.Listeners![0].ListenerArn!,
    testListenerArn,
    testRuleArn: rule.Rules![0].RuleArn!,
  };
}

/** The release record the record stack makes: the live color and each color's image. */
export async function createRecord(
  moto: RunningMoto,
  app: string,
  record: { live: Color; images: Record<Color, string>; weights?: string },
): Promise<void> {
  const ssm = new SSMClient(moto.config);
  const put = (Name: string, Value: string) =>
    ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));
  const names = recordParameterNames(app);
  await put(names.liveColor, record.live);
  await put(names.image.blue, record.images.blue);
  await put(names.image.green, record.images.green);
  // Without weights: a record from before gradual shifts.
  if (record.weights !== undefined) {
    await put(names.weights, record.weights);
  }
}

export interface MotoEcs {
  readonly cluster: string;
  readonly services: Record<Color, string>;
  readonly families: Record<Color, string>;
  /** Each color's first revision (the one its service was created with). */
  readonly initial: Record<Color, string>;
}

/** A cluster with one Fargate service per color, each on the first revision of its own family. */
export async function createEcsServices(
  moto: RunningMoto,
  app: string,
  counts: Record<Color, number>,
): Promise<MotoEcs> {
  const ecs = new ECSClient(moto.config);
  const { subnetIds, securityGroupId } = await createVpc(moto);
  await ecs.send(new CreateClusterCommand({ clusterName: app }));
  const services = { blue: `${app}-blue`, green: `${app}-green` };
  const initial = { blue: '', green: '' };
  for (const color of ['blue', 'green'] as const) {
    initial[color] = await registerTaskDefinition(moto, services[color]);
    await ecs.send(
      new CreateServiceCommand({
        cluster: app,
        serviceName: services[color],
        taskDefinition: initial[color],
        desiredCount: counts[color],
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: { subnets: subnetIds, securityGroups: [securityGroupId] },
        },
      }),
    );
  }
  return { cluster: app, services, families: { ...services }, initial };
}

/** A task definition as CDK makes it: Fargate, roles, the app container with its environment, tags. */
export async function registerTaskDefinition(moto: RunningMoto, family: string): Promise<string> {
  const out = await new ECSClient(moto.config).send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      taskRoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${family}-task`,
      executionRoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${family}-execution`,
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      containerDefinitions: [
        {
          name: 'app',
          image: 'repo:v1',
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          environment: [
            { name: 'BLUEGREEN_COLOR', value: 'green' },
            { name: 'BLUEGREEN_VERSION', value: 'v1' },
          ],
        },
        { name: 'log-router', image: 'fluent-bit:1', essential: false },
      ],
      tags: [{ key: 'bluegreen:app', value: 'shop' }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}
