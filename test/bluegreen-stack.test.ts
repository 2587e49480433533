import { PLATFORM_OUTPUTS, STACK_OUTPUTS } from '../cli/target';
import { Match } from 'aws-cdk-lib/assertions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { TEST_TRAFFIC_HEADER } from '../lib/constructs/traffic';
import { resourcesOfType, synth } from './support/synth';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

/**
 * The weighted forward action rendered from the record: production as the record's weights say ("<blue>,<green>"),
 * the test rule to the idle color.
 */
function forwardByRecord(to: 'production' | 'idle') {
  const recorded = (i: number) => ({
    'Fn::Select': [i, { 'Fn::Split': [',', { Ref: 'RecordProductionWeights' }] }],
  });
  const weight = (color: 'blue' | 'green') =>
    to === 'production'
      ? recorded(color === 'blue' ? 0 : 1)
      : { 'Fn::If': ['BlueIsLive', ...(color === 'blue' ? [0, 100] : [100, 0])] };
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') }, Weight: weight('blue') },
        { TargetGroupArn: { Ref: Match.stringLikeRegexp('^GreenTargetGroup') }, Weight: weight('green') },
      ],
    },
  };
}

type Ingress = { CidrIp?: unknown; FromPort: number; ToPort: number; SourceSecurityGroupId?: unknown };

describe('service stack (defaults: new VPC, HTTP, no Redis)', () => {
  const { service, serviceJson, stacks } = synth();
  const albSg = stacks.service.resolve(
    (stacks.service.loadBalancer.securityGroup.node.defaultChild as ec2.CfnSecurityGroup).logicalId,
  ) as string;
  const albIngress = (serviceJson.Resources[albSg].Properties?.SecurityGroupIngress ?? []) as Ingress[];

  test('an internet-facing ALB in public subnets that drops invalid headers and logs access', () => {
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  test('the production listener (HTTP 80) forwards, weighted, to both target groups', () => {
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [forwardByRecord('production')],
    });
    // No stickiness: a sticky session would pin users to the old color after a switch.
    const listeners = JSON.stringify(resourcesOfType(serviceJson, 'AWS::ElasticLoadBalancingV2::Listener'));
    expect(listeners).not.toContain('TargetGroupStickinessConfig');
  });

  test('the test listener refuses requests without the secret header and forwards the others to the idle color', () => {
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9000,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403' }) },
      ],
    });
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 1,
      Conditions: [
        {
          Field: 'http-header',
          HttpHeaderConfig: {
            HttpHeaderName: TEST_TRAFFIC_HEADER,
            Values: [
              {
                'Fn::Join': [
                  '',
                  [
                    '{{resolve:secretsmanager:',
                    { Ref: Match.stringLikeRegexp('TestTrafficToken') },
                    ':SecretString:::}}',
                  ],
                ],
              },
            ],
          },
        },
      ],
      Actions: [forwardByRecord('idle')],
    });
    service.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'bluegreen/shop/test-traffic-token',
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
    });
  });

  test('the ALB security group: production port open to all, test port only to the NAT gateway address', () => {
    expect(albIngress.filter((r) => r.FromPort === 80)).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', ToPort: 80 }),
    ]);
    expect(albIngress.filter((r) => r.FromPort === 9000)).toEqual([
      expect.objectContaining({
        CidrIp: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['NatAddress1', 'PublicIp'] }, '/32']] },
      }),
    ]);
    // The NAT gateway uses that very address (the validation step leaves the VPC through it).
    service.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': ['NatAddress1', 'AllocationId'] },
    });
    // Nothing else may reach the ALB, and it may only talk to the tasks' port.
    expect(albIngress).toHaveLength(2);
    const egress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroupEgress')).filter((e) =>
      JSON.stringify(e.GroupId).includes(albSg),
    );
    expect(egress.map((e) => [e.FromPort, e.ToPort])).toEqual([
      [8080, 8080],
      [8080, 8080],
    ]);
  });

  test('tasks accept traffic only from the load balancer, on the container port', () => {
    const taskIngress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroupIngress'));
    expect(taskIngress).toHaveLength(2);
    for (const rule of taskIngress) {
      expect(rule).toMatchObject({
        FromPort: 8080,
        ToPort: 8080,
        SourceSecurityGroupId: { 'Fn::GetAtt': [albSg, 'GroupId'] },
      });
    }
    for (const sg of Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroup'))) {
      if (String(sg.GroupDescription).includes('tasks')) {
        expect(sg.SecurityGroupIngress).toBeUndefined();
      }
    }
    service.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  test('target groups drain in seconds and check health on the configured path', () => {
    for (const color of ['blue', 'green']) {
      service.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Name: `shop-${color}`,
        TargetType: 'ip',
        Port: 8080,
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        TargetGroupAttributes: Match.arrayWith([
          { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
        ]),
      });
    }
  });

  test('services: Fargate in private subnets, rolling safely (100% healthy minimum, circuit breaker)', () => {
    service.resourcePropertiesCountIs(
      'AWS::ECS::Service',
      {
        LaunchType: 'FARGATE',
        DeploymentConfiguration: {
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        },
        HealthCheckGracePeriodSeconds: 30,
      },
      2,
    );
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'shop-blue',
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Image: { Ref: 'RecordBlueImage' },
          PortMappings: [Match.objectLike({ ContainerPort: 8080 })],
          Environment: Match.arrayWith([{ Name: 'BLUEGREEN_COLOR', Value: 'blue' }]),
        }),
      ],
    });
    // No REDIS_URL without Redis.
    expect(JSON.stringify(resourcesOfType(serviceJson, 'AWS::ECS::TaskDefinition'))).not.toContain('REDIS');
    service.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
  });

  test('the execution role may pull from the configured ECR repository only', () => {
    service.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Resource: 'arn:aws:ecr:eu-west-1:123456789012:repository/shop',
          }),
        ]),
      },
    });
  });

  test('per color: alarms on 5xx, p99 latency and unhealthy hosts, with the configured thresholds', () => {
    for (const color of ['blue', 'green']) {
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shop-${color}-5xx`,
        MetricName: 'HTTPCode_Target_5XX_Count',
        Statistic: 'Sum',
        Threshold: 5,
        EvaluationPeriods: 2,
        TreatMissingData: 'notBreaching',
        Dimensions: Match.arrayWith([Match.objectLike({ Name: 'TargetGroup' })]),
      });
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shop-${color}-p99-latency`,
        MetricName: 'TargetResponseTime',
        ExtendedStatistic: 'p99',
        Threshold: 1,
      });
      service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shop-${color}-unhealthy-hosts`,
        MetricName: 'UnHealthyHostCount',
        Threshold: 1,
      });
    }
    service.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  test('one dashboard draws blue and green side by side, with every alarm', () => {
    const body = JSON.stringify(
      stacks.service.resolve(
        Object.values(resourcesOfType(serviceJson, 'AWS::CloudWatch::Dashboard'))[0].DashboardBody,
      ),
    );
    for (const title of [
      'Share of requests by color',
      'Target 5xx responses',
      'p99 target response time',
      'Healthy targets',
      'Alarms per color',
    ]) {
      expect(body).toContain(title);
    }
    expect(body.match(/\\"label\\":\\"blue\\"/g)).toHaveLength(4);
    expect(body.match(/\\"label\\":\\"green\\"/g)).toHaveLength(4);
  });

  test('the live-color widget reads the record and the production listener, and nothing else', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          APP_NAME: 'shop',
          PRODUCTION_LISTENER_ARN: { Ref: Match.stringLikeRegexp('Production') },
          BLUE_TARGET_GROUP_ARN: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') },
          GREEN_TARGET_GROUP_ARN: { Ref: Match.stringLikeRegexp('^GreenTargetGroup') },
        }),
      },
    });
    const widgetPolicies = Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('LiveColorWidget'),
    );
    const statements = widgetPolicies.flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: object[] }).Statement,
    );
    const byAction = (action: string) =>
      statements.filter((st) => JSON.stringify((st as { Action: unknown }).Action).includes(action));
    expect(byAction('logs:PutLogEvents')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LiveColorWidgetLogs/), 'Arn'] },
      }),
    ]);
    expect(byAction('ssm:GetParameters')).toEqual([
      expect.objectContaining({
        Resource: expect.arrayContaining(
          ['live-color', 'blue/image', 'green/image', 'production-weights'].map((n) => ({
            'Fn::Join': [
              '',
              ['arn:aws:ssm:eu-west-1:', { Ref: 'AWS::AccountId' }, `:parameter/bluegreen/shop/${n}`],
            ],
          })),
        ),
      }),
    ]);
    // Only read actions without resource-level permissions get "*".
    for (const st of statements.filter((x) => (x as { Resource: unknown }).Resource === '*')) {
      expect([(st as { Action: string | string[] }).Action].flat().sort()).toEqual([
        'elasticloadbalancing:DescribeListeners',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
    // Nothing that writes: the widget cannot change traffic or the record.
    expect(JSON.stringify(statements)).not.toMatch(/ssm:Put|ModifyListener|ModifyRule/);
    // No AWS managed policy on its role.
    const roles = Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Role')).filter(([id]) =>
      id.startsWith('LiveColorWidget'),
    );
    expect(roles).toHaveLength(1);
    expect(roles[0][1].ManagedPolicyArns).toBeUndefined();
    const body = JSON.stringify(
      stacks.service.resolve(
        Object.values(resourcesOfType(serviceJson, 'AWS::CloudWatch::Dashboard'))[0].DashboardBody,
      ),
    );
    expect(body).toContain('\\"type\\":\\"custom\\"');
    expect(body).toContain('Live color (release record vs production listener)');
  });

  test('outputs name everything the release workflow and the CLI look up', () => {
    expect(Object.keys(serviceJson.Outputs ?? {}).sort()).toEqual(
      [
        'BlueServiceName',
        'BlueTargetGroupArn',
        'BlueTaskFamily',
        'ClusterName',
        'DashboardUrl',
        'GreenServiceName',
        'GreenTargetGroupArn',
        'GreenTaskFamily',
        'ProductionListenerArn',
        'ProductionUrl',
        'TestListenerArn',
        'TestListenerRuleArn',
        'LoadBalancerDnsName',
        'StateMachineArn',
        'ReleaseTopicArn',
        'LockTableName',
        'TestTrafficSecretArn',
        'TestUrl',
        'OperatorPolicyArn',
        'Platform',
        'ColdRollbackSettings',
      ].sort(),
    );
    // Every output the CLI reads is there.
    expect(Object.keys(serviceJson.Outputs ?? {})).toEqual(
      expect.arrayContaining([...STACK_OUTPUTS, ...PLATFORM_OUTPUTS.ecs]),
    );
  });

  test('a VPC with flow logs, private subnets for tasks, one NAT gateway by default', () => {
    service.resourceCountIs('AWS::EC2::VPC', 1);
    service.resourceCountIs('AWS::EC2::NatGateway', 1);
    service.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });
});

describe('HTTPS', () => {
  const { service, serviceJson } = synth({
    listeners: { certificateArn: CERT, domainName: 'shop.example.com' },
  });

  test('production on 443 with the certificate and a modern TLS policy; the test listener too', () => {
    for (const port of [443, 9000]) {
      service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: port,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERT }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09',
      });
    }
  });

  test('the ALB admits 443 and 80 from anywhere, the test port still only from the NAT address', () => {
    const ingress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroup')).flatMap(
      (sg) => (sg.SecurityGroupIngress ?? []) as Ingress[],
    );
    expect(ingress.map((r) => [r.FromPort, r.CidrIp]).sort()).toEqual([
      [443, '0.0.0.0/0'],
      [80, '0.0.0.0/0'],
      [9000, { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['NatAddress1', 'PublicIp'] }, '/32']] }],
    ]);
  });

  test('HTTP 80 only redirects to HTTPS', () => {
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    // The workflow tests and watches through the name the certificate covers, not the ALB's own name.
    expect(serviceJson.Outputs?.ProductionUrl.Value).toBe('https://shop.example.com');
    expect(serviceJson.Outputs?.TestUrl.Value).toBe('https://shop.example.com:9000');
  });
});

describe('shared Redis', () => {
  const { service, serviceJson } = synth({ redis: { enabled: true } });

  test('encrypted in transit and at rest, with AUTH, Multi-AZ, in private subnets', () => {
    service.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis',
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AuthToken: {
        'Fn::Join': [
          '',
          ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('AuthToken') }, ':SecretString:::}}'],
        ],
      },
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      CacheNodeType: 'cache.t4g.micro',
    });
  });

  test('both colors get its endpoint and the AUTH token as a secret; only their tasks can reach it', () => {
    for (const color of ['blue', 'green']) {
      service.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Family: `shop-${color}`,
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([
              {
                Name: 'REDIS_URL',
                Value: {
                  'Fn::Join': [
                    '',
                    [
                      'rediss://',
                      {
                        'Fn::GetAtt': [Match.stringLikeRegexp('ReplicationGroup'), 'PrimaryEndPoint.Address'],
                      },
                      ':',
                      { 'Fn::GetAtt': [Match.stringLikeRegexp('ReplicationGroup'), 'PrimaryEndPoint.Port'] },
                    ],
                  ],
                },
              },
            ]),
            Secrets: [{ Name: 'REDIS_AUTH_TOKEN', ValueFrom: { Ref: Match.stringLikeRegexp('AuthToken') } }],
          }),
        ],
      });
    }
    const redisIngress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroupIngress')).filter(
      (r) => r.FromPort === 6379,
    );
    expect(redisIngress).toHaveLength(2);
    expect(redisIngress.map((r) => JSON.stringify(r.SourceSecurityGroupId)).sort()).toEqual([
      expect.stringContaining('BlueTaskSecurityGroup'),
      expect.stringContaining('GreenTaskSecurityGroup'),
    ]);
  });

  test('a single node when replicas is 0 (cheaper, no failover)', () => {
    synth({ redis: { enabled: true, replicas: 0 } }).service.hasResourceProperties(
      'AWS::ElastiCache::ReplicationGroup',
      {
        NumCacheClusters: 1,
        MultiAZEnabled: false,
        AutomaticFailoverEnabled: false,
      },
    );
  });
});

/** What `cdk synth` caches in cdk.context.json after looking the VPC up. */
const EXISTING_VPC_KEY =
  'vpc-provider:account=123456789012:filter.vpc-id=vpc-0123456789abcdef0:region=eu-west-1:returnAsymmetricSubnets=true';
const subnet = (n: number, az: string) => ({
  subnetId: `subnet-0${n}23456789abcdef0`,
  cidr: `10.0.${n}.0/24`,
  availabilityZone: az,
  routeTableId: `rtb-0${n}23456789abcdef0`,
});
const EXISTING_VPC = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidrBlock: '10.0.0.0/16',
  availabilityZones: [],
  subnetGroups: [
    { name: 'Public', type: 'Public', subnets: [subnet(1, 'eu-west-1a'), subnet(2, 'eu-west-1b')] },
    { name: 'Private', type: 'Private', subnets: [subnet(3, 'eu-west-1a'), subnet(4, 'eu-west-1b')] },
  ],
};

describe('other configurations', () => {
  test('an existing VPC is looked up, not created, and the test port opens to the listed addresses only', () => {
    const { service, serviceJson } = synth(
      {
        aws: { account: '123456789012', region: 'eu-west-1' },
        vpc: { vpcId: 'vpc-0123456789abcdef0' },
        listeners: { testAllowedCidrs: ['203.0.113.10/32', '198.51.100.0/28'] },
      },
      undefined,
      { [EXISTING_VPC_KEY]: EXISTING_VPC },
    );
    service.resourceCountIs('AWS::EC2::VPC', 0);
    service.resourceCountIs('AWS::EC2::NatGateway', 0);
    const ingress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroup')).flatMap(
      (sg) => (sg.SecurityGroupIngress ?? []) as Ingress[],
    );
    expect(ingress.filter((r) => r.FromPort === 9000).map((r) => r.CidrIp)).toEqual([
      '203.0.113.10/32',
      '198.51.100.0/28',
    ]);
  });

  test('keepIdleWarm gives the idle color the same initial capacity as the live one', () => {
    const { serviceJson } = synth({ keepIdleWarm: true, container: { desiredCount: 3 } });
    const creates = Object.values(resourcesOfType(serviceJson, 'Custom::BluegreenInitialCapacity')).map((p) =>
      JSON.stringify(p.Create),
    );
    for (const create of creates) {
      expect(create).toContain('{"Fn::If":["BlueIsLive","3","3"]}');
    }
  });

  test('a public registry image gets no ECR permissions', () => {
    const { serviceJson } = synth({
      image: { repository: 'public.ecr.aws/nginx/nginx', initialTag: '1.27-alpine' },
    });
    expect(JSON.stringify(resourcesOfType(serviceJson, 'AWS::IAM::Policy'))).not.toContain('ecr:');
  });
});
