/**
 * The "asg" platform's infrastructure: each color an Auto Scaling group of EC2 instances from one launch
 * template, built by the same construct as on ECS (parity is tested in parity.test.ts; cdk-nag runs in synth).
 */
import { spawnSync } from 'node:child_process';
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { Match } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet } from '../lambda/adapters/asg-fleet';
import { PLATFORM_OUTPUTS, STACK_OUTPUTS } from '../cli/target';
import { resourcesOfType, synth } from './support/synth';
import { rollOut } from '../lambda/workflow/deploy';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';

describe('asg platform', () => {
  const t = synth({ platform: 'asg', redis: { enabled: true } });
  const { service, serviceJson, stacks } = t;
  const id = (c: { node: { defaultChild?: unknown } }) =>
    stacks.service.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;
  const green = stacks.service.colors.green.asg!;

  test('no ECS: no cluster, no services, no task definitions', () => {
    service.resourceCountIs('AWS::ECS::Cluster', 0);
    service.resourceCountIs('AWS::ECS::Service', 0);
    service.resourceCountIs('AWS::ECS::TaskDefinition', 0);
    service.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 2);
    service.resourceCountIs('AWS::EC2::LaunchTemplate', 2);
  });

  test('launch template: latest AL2023 from its public SSM parameter, IMDSv2 only, encrypted gp3, no public IP', () => {
    service.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateName: 'shop-green',
      LaunchTemplateData: Match.objectLike({
        ImageId: {
          Ref: Match.stringLikeRegexp(
            'SsmParameterValueawsserviceamiamazonlinuxlatestal2023amikernel.*arm64',
          ),
        },
        InstanceType: 't4g.small',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/xvda',
            Ebs: { Encrypted: true, VolumeSize: 16, VolumeType: 'gp3', DeleteOnTermination: true },
          },
        ],
        NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: false, DeviceIndex: 0 })],
        IamInstanceProfile: Match.anyValue(),
      }),
    });
    expect(
      serviceJson.Parameters?.[Object.keys(serviceJson.Parameters ?? {}).find((k) => k.includes('al2023'))!],
    ).toEqual({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    });
    // No SSH: no key pair; Session Manager through the instance role.
    const data = resourcesOfType(serviceJson, 'AWS::EC2::LaunchTemplate')[id(green.launchTemplate)]
      .LaunchTemplateData as Record<string, unknown>;
    expect(data.KeyName).toBeUndefined();
    service.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore'],
          ],
        },
      ],
    });
  });

  test('the user data runs the image the record names for the color, the version a release can rewrite', () => {
    const data = resourcesOfType(serviceJson, 'AWS::EC2::LaunchTemplate')[id(green.launchTemplate)]
      .LaunchTemplateData as {
      UserData: { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } };
    };
    const parts = data.UserData['Fn::Base64']['Fn::Join'][1];
    const text = parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
    expect(text).toContain(`BLUEGREEN_IMAGE='<{"Ref":"RecordGreenImage"}>'\nBLUEGREEN_VERSION=''\n`);
    expect(text).toContain('dnf install -y docker');
    expect(text).toContain('docker run -d --name app --restart unless-stopped -p 8080:8080');
    expect(text).toContain("-e BLUEGREEN_COLOR='green'");
    expect(text).toContain('-e REDIS_AUTH_TOKEN');
    expect(text).toContain('--log-driver awslogs');
  });

  test('the user data is valid bash, and a release rewrites exactly its image and version lines', async () => {
    const data = resourcesOfType(serviceJson, 'AWS::EC2::LaunchTemplate')[id(green.launchTemplate)]
      .LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } } };
    // What CloudFormation would render: the record's image, and sample values for the other references.
    const script = data.UserData['Fn::Base64']['Fn::Join'][1]
      .map((p) =>
        typeof p === 'string'
          ? p
          : JSON.stringify(p).includes('RecordGreenImage')
            ? `${REPO}:v1`
            : 'arn:aws:example:eu-west-1:123456789012:x',
      )
      .join('');
    const syntax = (text: string) => spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(syntax(script)).toMatchObject({ status: 0, stderr: '' });

    // The AsgFleet adapter (what the Deploy step runs) on this very user data.
    const ec2 = mockClient(EC2Client);
    const autoscaling = mockClient(AutoScalingClient);
    try {
      ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({
        LaunchTemplateVersions: [
          { VersionNumber: 1, LaunchTemplateData: { UserData: Buffer.from(script).toString('base64') } },
        ],
      });
      ec2.on(CreateLaunchTemplateVersionCommand).resolves({ LaunchTemplateVersion: { VersionNumber: 2 } });
      autoscaling
        .on(DescribeAutoScalingGroupsCommand)
        .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'shop-green', Instances: [] } as never] });
      autoscaling
        .on(CancelInstanceRefreshCommand)
        .rejects(Object.assign(new Error('none'), { name: 'ActiveInstanceRefreshNotFoundFault' }));
      autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
      const fleet = new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
        groups: { blue: 'shop-blue', green: 'shop-green' },
        launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
      });
      await rollOut(fleet, 'green', { image: `${REPO}:v2`, version: "2.0 it's" }, 2);
      const next = Buffer.from(
        ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0].args[0].input.LaunchTemplateData!.UserData!,
        'base64',
      ).toString('utf8');
      expect(syntax(next)).toMatchObject({ status: 0, stderr: '' });
      const changed = next.split('\n').filter((line, i) => line !== script.split('\n')[i]);
      expect(changed).toEqual([`BLUEGREEN_IMAGE='${REPO}:v2'`, `BLUEGREEN_VERSION='2.0 it'"'"'s'`]);
    } finally {
      ec2.restore();
      autoscaling.restore();
    }
  });

  test('group: private subnets, ELB health checks with a grace period, registered with its target group', () => {
    service.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'shop-green',
      MinSize: '0',
      MaxSize: '10',
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 300,
      TargetGroupARNs: [{ Ref: id(stacks.service.colors.green.targetGroup) }],
      LaunchTemplate: {
        LaunchTemplateId: { Ref: id(green.launchTemplate) },
        Version: { 'Fn::GetAtt': [id(green.launchTemplate), 'LatestVersionNumber'] },
      },
    });
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Name: 'shop-green',
      TargetType: 'instance',
    });
  });

  test('a stack update keeps what a release set: no desired count in the template, counts set once at creation', () => {
    for (const group of Object.values(resourcesOfType(serviceJson, 'AWS::AutoScaling::AutoScalingGroup'))) {
      expect(group.DesiredCapacity).toBeUndefined();
    }
    const initial = Object.values(resourcesOfType(serviceJson, 'Custom::BluegreenInitialCapacity'));
    expect(initial).toHaveLength(2);
    for (const resource of initial) {
      expect(JSON.stringify(resource.Create)).toContain('setDesiredCapacity');
      expect(resource.Update).toBeUndefined();
      expect(resource.Delete).toBeUndefined();
    }
  });

  test('instances accept the container port from the load balancer only', () => {
    const sg = resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroupIngress');
    const toGreen = Object.values(sg).filter((r) =>
      JSON.stringify(r.GroupId).includes('GreenInstanceSecurityGroup'),
    );
    expect(toGreen).toEqual([
      expect.objectContaining({
        FromPort: 8080,
        ToPort: 8080,
        IpProtocol: 'tcp',
        SourceSecurityGroupId: expect.anything(),
      }),
    ]);
  });

  test('the steps get the group calls, scoped to these groups and templates; outputs name them', () => {
    const deployPolicy = Object.values(resourcesOfType(serviceJson, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Roles).includes('ReleaseWorkflowStepsDeployRole'),
    )!;
    const statements = (
      deployPolicy.PolicyDocument as {
        Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
      }
    ).Statement;
    const find = (action: string) => statements.find((s) => [s.Action].flat().includes(action));
    expect(JSON.stringify(find('autoscaling:UpdateAutoScalingGroup')?.Resource)).toContain(
      ':autoScalingGroup:*:autoScalingGroupName/shop-blue',
    );
    expect(JSON.stringify(find('autoscaling:SuspendProcesses')?.Resource)).toContain(
      'autoScalingGroupName/shop-green',
    );
    // RunInstances: the templates themselves, and every other resource only when launched from them
    // (test/iam-scope.test.ts has the details).
    for (const s of statements.filter((s) => [s.Action].flat().includes('ec2:RunInstances'))) {
      expect(
        JSON.stringify(s.Resource).includes(':launch-template/') ||
          (s.Condition as { ArnLike?: Record<string, unknown> } | undefined)?.ArnLike?.['ec2:LaunchTemplate'],
      ).toBeTruthy();
    }
    expect(find('ecs:UpdateService')).toBeUndefined();
    // Every output the CLI reads on this platform is there.
    expect(Object.keys(serviceJson.Outputs ?? {})).toEqual(
      expect.arrayContaining(['Platform', ...STACK_OUTPUTS, ...PLATFORM_OUTPUTS.asg]),
    );
    expect(serviceJson.Outputs?.ClusterName).toBeUndefined();
  });
});
