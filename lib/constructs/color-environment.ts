import { Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Color } from '../../lambda/shared/release-record';
import { imageLine, shellQuote, versionLine } from '../../lambda/shared/user-data';
import type { BluegreenConfig } from '../config';
import { acknowledge } from '../nag';
import { ColorScaling, type RecordedScaling } from './color-scaling';
import type { Database } from './database';
import { ecrRepositoryOf } from './image-repository';

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
  /** The ECS cluster (platform "ecs" only). */
  readonly cluster?: ecs.ICluster;
  /** The load balancer whose listeners forward to this color; the tasks accept traffic only from it. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /**
   * The image the color runs, as read from the release record at deploy time (a CloudFormation SSM parameter
   * value), never a literal: see README "A stack update never undoes a release".
   */
  readonly image: string;
  /** @default - no Redis: the container gets no REDIS_URL */
  readonly redis?: RedisConnection;
  /**
   * The shared PostgreSQL database: the compute may connect to it and the container gets PGHOST, PGPORT,
   * PGDATABASE, PGUSER and PGPASSWORD from its secret.
   * @default - no database: the container gets no PG* variables
   */
  readonly database?: Database;
  /**
   * With config `scaling`: the release record's capacity value for this color and whether the record names it
   * live (deploy-time parameters), from which its bounds are rendered (./color-scaling.ts).
   */
  readonly recordedScaling?: RecordedScaling;
}

/** Where an instance's user data writes the database's PG* variables for `docker run --env-file` (tmpfs). */
const DATABASE_ENV_FILE = '/run/bluegreen/database.env';

/** A color's compute on ECS: a Fargate service and its task definition family. */
export interface EcsCompute {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
}

/**
 * A color's compute on EC2: an Auto Scaling group whose launch template runs the image with Docker; a new
 * launch template version (new image in its user data) is a new release.
 */
export interface AsgCompute {
  readonly group: autoscaling.AutoScalingGroup;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly instanceRole: iam.Role;
}

/**
 * The environment of ONE color: its compute (a Fargate service, or an Auto Scaling group of EC2 instances), a
 * target group with its health check, log group and alarms. Blue and green are two instances of this construct
 * and nothing else differs between them (test/parity.test.ts proves it, on both platforms).
 */
export class ColorEnvironment extends Construct {
  readonly color: Color;
  readonly platform: 'ecs' | 'asg';
  /** Set on platform "ecs". */
  readonly ecs?: EcsCompute;
  /** Set on platform "asg". */
  readonly asg?: AsgCompute;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Auto scaling (config `scaling`): bounds from the record, target-tracking policies. */
  readonly scaling?: ColorScaling;
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

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      targetGroupName: name,
      vpc,
      port: container.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      // Fargate tasks register by IP, EC2 instances by instance id.
      targetType: config.platform === 'ecs' ? elbv2.TargetType.IP : elbv2.TargetType.INSTANCE,
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
    this.platform = config.platform;
    if (config.platform === 'ecs') {
      this.ecs = this.ecsCompute(props, name);
      this.ecs.service.attachToApplicationTargetGroup(this.targetGroup);
    } else {
      this.asg = this.asgCompute(props, name);
      this.asg.group.attachToApplicationTargetGroup(this.targetGroup);
    }
    if (config.scaling) {
      if (!props.recordedScaling) {
        throw new Error(`${color}: scaling is configured, but the record's capacity parameter was not given`);
      }
      this.scaling = new ColorScaling(this, 'Scaling', {
        color,
        scaling: config.scaling,
        recorded: props.recordedScaling,
        loadBalancer: props.loadBalancer,
        targetGroup: this.targetGroup,
        ecs: this.ecs,
        asg: this.asg,
      });
    }

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

  private ecsCompute(props: ColorEnvironmentProps, name: string): EcsCompute {
    const { color, config, vpc } = props;
    const { appName, container, healthCheck } = config;
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
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
    if (props.database) {
      Object.assign(secrets, props.database.containerSecrets());
    }
    taskDefinition.addContainer('App', {
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
      taskDefinition,
      'AwsSolutions-ECS2',
      'The plain environment variables are non-secret settings (app name, color, port, Redis endpoint and ' +
        'the values the user put in container.environment); the secrets (the Redis AUTH token, the database ' +
        'credentials) are passed from Secrets Manager.',
    );

    const ecrRepository = ecrRepositoryOf(this, config.image.repository);
    if (ecrRepository) {
      const executionRole = taskDefinition.obtainExecutionRole();
      ecrRepository.repository.grantPull(executionRole);
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

    const service = new ecs.FargateService(this, 'Service', {
      serviceName: name,
      cluster: props.cluster!,
      taskDefinition: taskDefinition,
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
    this.connect(service, props, 'tasks');

    return { service, taskDefinition };
  }

  private asgCompute(props: ColorEnvironmentProps, name: string): AsgCompute {
    const { config, vpc } = props;
    const { instances } = config;
    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${name} instances: pull the image, write their logs, Session Manager`,
      // Session Manager instead of SSH: no key pair, no open port.
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    acknowledge(
      instanceRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Session Manager replaces SSH on the instances (no key pair, no inbound port); this AWS managed policy is ' +
        'what the SSM agent needs to register and open sessions.',
    );
    this.logGroup.grantWrite(instanceRole);
    ecrRepositoryOf(this, config.image.repository)?.repository.grantPull(instanceRole);
    props.redis?.authToken.grantRead(instanceRole);
    props.database?.secret.grantRead(instanceRole);
    acknowledge(
      instanceRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions; the image pull is limited to the ' +
        "configured repository and the log writes to this color's log group.",
    );

    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: `${name} instances: HTTP from the load balancer only`,
      allowAllOutbound: true,
    });
    this.connect(securityGroup, props, 'instances');

    const arm = config.container.architecture === 'arm64';
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateName: name,
      // The latest Amazon Linux 2023, read from its public SSM parameter at every deploy.
      // (MachineImage.latestAmazonLinux2023 would pin CDK's choice of kernel; this follows the distribution's.)
      machineImage: new ec2.AmazonLinux2023ImageSsmParameter({
        cpuType: arm ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
        kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
        // Resolved by CloudFormation at every deploy, never cached in cdk.context.json.
        cachedInContext: false,
      }),
      instanceType: new ec2.InstanceType(instances.type),
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: false,
      role: instanceRole,
      securityGroup,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(instances.volumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
      userData: this.userData(props),
    });

    const group = new autoscaling.AutoScalingGroup(this, 'Group', {
      autoScalingGroupName: name,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      // No desiredCapacity: CloudFormation keeps the running count on every update (set once at creation by the
      // InitialCapacity custom resource, and afterwards only by the release workflow). The group follows the
      // launch template's latest version, whose user data runs the image the record names for this color.
      // With scaling configured, min and max are rendered from the record instead (./color-scaling.ts).
      minCapacity: 0,
      maxCapacity: instances.maxCount,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.seconds(instances.gracePeriodSeconds),
      }),
      cooldown: Duration.seconds(120),
      defaultInstanceWarmup: Duration.seconds(instances.gracePeriodSeconds),
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    acknowledge(
      group,
      'AwsSolutions-AS3',
      (config.scaling
        ? 'The group scales by its target-tracking policies within the bounds the release record sets; '
        : 'The group scales only when a release (or an operator) changes it; ') +
        "the release workflow publishes every outcome to the release topic and EventBridge, and the group's " +
        'activity history is in the console.',
    );
    return { group, launchTemplate, instanceRole };
  }

  /**
   * The instances' start-up: Docker from the Amazon Linux repositories, then the image the launch template
   * version names (ECR login when it is a private ECR image), with the same environment an ECS task gets, and
   * its logs in the color's log group. The two marked lines are what a release rewrites in a new version.
   */
  private userData(props: ColorEnvironmentProps): ec2.UserData {
    const { color, config } = props;
    const { appName, container } = config;
    const region = Stack.of(this).region;
    const env: Record<string, string> = {
      ...container.environment,
      BLUEGREEN_APP: appName,
      BLUEGREEN_COLOR: color,
      PORT: String(container.port),
      ...(props.redis ? { REDIS_URL: props.redis.url } : {}),
    };
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      'set -euo pipefail',
      imageLine(props.image),
      versionLine(''),
      '[ -n "$BLUEGREEN_VERSION" ] || BLUEGREEN_VERSION="${BLUEGREEN_IMAGE##*:}"',
      'dnf install -y docker',
      'systemctl enable --now docker',
      'IMDS=http://169.254.169.254/latest',
      'TOKEN=$(curl -sS -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
      'INSTANCE_ID=$(curl -sS -H "X-aws-ec2-metadata-token: $TOKEN" "$IMDS/meta-data/instance-id")',
      'REGISTRY="${BLUEGREEN_IMAGE%%/*}"',
      'case "$REGISTRY" in *.dkr.ecr.*.amazonaws.com*)',
      '  aws ecr get-login-password --region "$(echo "$REGISTRY" | cut -d. -f4)" | docker login --username AWS --password-stdin "$REGISTRY" ;;',
      'esac',
      ...(props.redis
        ? [
            `REDIS_AUTH_TOKEN=$(aws secretsmanager get-secret-value --region ${region} --secret-id ${props.redis.authToken.secretArn} --query SecretString --output text)`,
            'export REDIS_AUTH_TOKEN',
          ]
        : []),
      ...(props.database ? props.database.userDataCommands(DATABASE_ENV_FILE) : []),
      [
        'docker run -d --name app --restart unless-stopped',
        `-p ${container.port}:${container.port}`,
        ...Object.entries(env).map(([k, v]) => `-e ${k}=${shellQuote(v)}`),
        '-e BLUEGREEN_VERSION="$BLUEGREEN_VERSION"',
        ...(props.redis ? ['-e REDIS_AUTH_TOKEN'] : []),
        ...(props.database ? [`--env-file ${DATABASE_ENV_FILE}`] : []),
        '--log-driver awslogs',
        `--log-opt awslogs-region=${region}`,
        `--log-opt awslogs-group=${this.logGroup.logGroupName}`,
        `--log-opt awslogs-stream="${color}/$INSTANCE_ID"`,
        '"$BLUEGREEN_IMAGE"',
      ].join(' '),
    );
    return userData;
  }

  /**
   * The app's network: the container port from the load balancer only, and to the shared Redis and the shared
   * database when there are.
   */
  private connect(
    compute: ec2.IConnectable,
    props: ColorEnvironmentProps,
    what: 'tasks' | 'instances',
  ): void {
    const { color, config } = props;
    compute.connections.allowFrom(
      props.loadBalancer,
      ec2.Port.tcp(config.container.port),
      `${config.appName} load balancer to ${color} ${what}`,
    );
    props.redis?.connections.allowFrom(
      compute,
      ec2.Port.tcp(props.redis.port),
      `${color} ${what} to the shared Redis`,
    );
    props.database?.allowFrom(compute, `${color} ${what} to the shared database`);
  }
}
