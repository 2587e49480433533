import { Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Color } from '../../lambda/shared/release-record';
import { parseEcrRepository, type BluegreenConfig } from '../config';
import { acknowledge } from '../nag';

/** How a color reaches the shared Redis, when there is one. */
export interface RedisConnection {
  /** `rediss://host:port` (TLS). */
  readonly url: string;
  /** The AUTH token, handed to the container as the secret REDIS_AUTH_TOKEN. */
  readonly authToken: secretsmanager.ISecret;
  /** Lets the color's tasks open connections to Redis. */
  readonly connections: ec2.Connections;
  readonly port: number;
}

export interface ColorEnvironmentProps {
  readonly color: Color;
  readonly config: BluegreenConfig;
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.ICluster;
  /** The load balancer whose listeners forward to this color; the tasks accept traffic only from it. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /**
   * The image the color runs, as read from the release record at deploy time (a CloudFormation SSM parameter
   * value), never a literal: see README "A stack update never undoes a release".
   */
  readonly image: string;
  /** @default - no Redis: the container gets no REDIS_URL */
  readonly redis?: RedisConnection;
}

/**
 * The environment of ONE color: Fargate service, task definition, target group with its health check, log
 * group and alarms. Blue and green are two instances of this construct and nothing else differs between
 * them (test/parity.test.ts proves it).
 */
export class ColorEnvironment extends Construct {
  readonly color: Color;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly logGroup: logs.LogGroup;
  readonly metrics: {
    readonly requests: cloudwatch.IMetric;
    readonly http5xx: cloudwatch.IMetric;
    readonly latencyP99: cloudwatch.IMetric;
    readonly healthyHosts: cloudwatch.IMetric;
    readonly unhealthyHosts: cloudwatch.IMetric;
  };
  readonly alarms: {
    readonly http5xx: cloudwatch.Alarm;
    readonly latencyP99: cloudwatch.Alarm;
    readonly unhealthyHosts: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ColorEnvironmentProps) {
    super(scope, id);
    const { color, config, vpc } = props;
    const { appName, container, healthCheck, alarms } = config;
    const name = `${appName}-${color}`;
    this.color = color;
    Tags.of(this).add('bluegreen:color', color);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/bluegreen/${appName}/${color}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: name,
      cpu: container.cpu,
      memoryLimitMiB: container.memoryMiB,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture:
          container.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      },
    });

    const environment: Record<string, string> = {
      ...container.environment,
      BLUEGREEN_APP: appName,
      BLUEGREEN_COLOR: color,
      PORT: String(container.port),
    };
    const secrets: Record<string, ecs.Secret> = {};
    if (props.redis) {
      environment.REDIS_URL = props.redis.url;
      secrets.REDIS_AUTH_TOKEN = ecs.Secret.fromSecretsManager(props.redis.authToken);
    }
    this.taskDefinition.addContainer('App', {
      containerName: 'app',
      image: ecs.ContainerImage.fromRegistry(props.image),
      essential: true,
      portMappings: [{ containerPort: container.port, name: 'http' }],
      environment,
      secrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: color }),
      stopTimeout: Duration.seconds(30),
    });
    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The plain environment variables are non-secret settings (app name, color, port, Redis endpoint and ' +
        'the values the user put in container.environment); the one secret, the Redis AUTH token, is passed ' +
        'from Secrets Manager.',
    );

    const ecrRepository = parseEcrRepository(config.image.repository);
    if (ecrRepository) {
      const repository = ecr.Repository.fromRepositoryArn(
        this,
        'Repository',
        Stack.of(this).formatArn({
          service: 'ecr',
          account: ecrRepository.account,
          region: ecrRepository.region,
          resource: 'repository',
          resourceName: ecrRepository.name,
        }),
      );
      const executionRole = this.taskDefinition.obtainExecutionRole();
      repository.grantPull(executionRole);
      acknowledge(
        executionRole,
        'AwsSolutions-IAM5[Resource::*]',
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); the image pull ' +
          `itself is limited to the repository ${ecrRepository.name}.`,
      );
    }

    const securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: `${name} tasks: HTTP from the load balancer only`,
      allowAllOutbound: true,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: name,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      // The service follows the family's latest revision, so CloudFormation never pins it back to the revision
      // it registered itself; the release workflow registers the revisions that carry new images.
      taskDefinitionRevision: ecs.TaskDefinitionRevision.LATEST,
      // No desiredCount: CloudFormation keeps the running count on every update (it is set once at creation
      // by the InitialCapacity custom resource, and afterwards only by the release workflow).
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(healthCheck.gracePeriodSeconds),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.service.connections.allowFrom(
      props.loadBalancer,
      ec2.Port.tcp(container.port),
      `${appName} load balancer to ${color} tasks`,
    );
    if (props.redis) {
      props.redis.connections.allowFrom(
        this.service,
        ec2.Port.tcp(props.redis.port),
        `${color} tasks to the shared Redis`,
      );
    }

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      targetGroupName: name,
      vpc,
      port: container.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(config.deregistrationDelaySeconds),
      healthCheck: {
        path: healthCheck.path,
        protocol: elbv2.Protocol.HTTP,
        interval: Duration.seconds(healthCheck.intervalSeconds),
        timeout: Duration.seconds(healthCheck.timeoutSeconds),
        healthyThresholdCount: healthCheck.healthyThreshold,
        unhealthyThresholdCount: healthCheck.unhealthyThreshold,
        healthyHttpCodes: '200',
      },
    });
    this.service.attachToApplicationTargetGroup(this.targetGroup);

    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        statistic,
        period: Duration.seconds(alarms.periodSeconds),
        dimensionsMap: {
          LoadBalancer: props.loadBalancer.loadBalancerFullName,
          TargetGroup: this.targetGroup.targetGroupFullName,
        },
      });
    this.metrics = {
      requests: metric('RequestCount', 'Sum'),
      http5xx: metric('HTTPCode_Target_5XX_Count', 'Sum'),
      latencyP99: metric('TargetResponseTime', 'p99'),
      healthyHosts: metric('HealthyHostCount', 'Minimum'),
      unhealthyHosts: metric('UnHealthyHostCount', 'Maximum'),
    };

    const alarm = (id: string, suffix: string, m: cloudwatch.IMetric, threshold: number, what: string) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${name}-${suffix}`,
        alarmDescription: `${appName} ${color}: ${what}`,
        metric: m,
        threshold,
        evaluationPeriods: alarms.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // An idle color has no traffic and no targets: no data is not a failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = {
      http5xx: alarm(
        'Http5xxAlarm',
        '5xx',
        this.metrics.http5xx,
        alarms.http5xxCount,
        `${alarms.http5xxCount}+ target 5xx responses per ${alarms.periodSeconds}s`,
      ),
      latencyP99: alarm(
        'LatencyP99Alarm',
        'p99-latency',
        this.metrics.latencyP99,
        alarms.p99LatencyMs / 1000,
        `p99 target response time at or above ${alarms.p99LatencyMs} ms`,
      ),
      unhealthyHosts: alarm(
        'UnhealthyHostsAlarm',
        'unhealthy-hosts',
        this.metrics.unhealthyHosts,
        alarms.unhealthyHosts,
        `${alarms.unhealthyHosts}+ unhealthy targets`,
      ),
    };
  }
}
