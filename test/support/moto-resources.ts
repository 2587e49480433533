/**
 * Real resources in moto for the emulator tier, made with the SDK the way the stack's CloudFormation makes them:
 * an ALB with a weighted production listener and a test listener rule, the release record's parameters, ...
 */
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { recordParameterNames, type Color } from '../../lambda/shared/release-record';
import type { RunningMoto } from './moto';

export interface MotoAlb {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly loadBalancerArn: string;
  readonly targetGroups: Record<Color, string>;
  readonly productionListenerArn: string;
  readonly testListenerArn: string;
  readonly testRuleArn: string;
}

/** A VPC with two subnets in two zones (an ALB needs two). */
export async function createVpc(moto: RunningMoto): Promise<{ vpcId: string; subnetIds: string[] }> {
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
  return { vpcId, subnetIds };
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
  record: { live: Color; images: Record<Color, string> },
): Promise<void> {
  const ssm = new SSMClient(moto.config);
  const put = (Name: string, Value: string) =>
    ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));
  const names = recordParameterNames(app);
  await put(names.liveColor, record.live);
  await put(names.image.blue, record.images.blue);
  await put(names.image.green, record.images.green);
}
