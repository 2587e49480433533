import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { COLORS, imageReference, type Color } from '../../lambda/shared/release-record';
import type { BluegreenConfig } from '../config';
import { acknowledge, nagArnParts } from '../nag';
import type { ColorEnvironment } from './color-environment';
import type { Database } from './database';
import { ecrRepositoryOf } from './image-repository';

export interface MigrationTasksProps {
  readonly config: BluegreenConfig;
  readonly vpc: ec2.IVpc;
  readonly colors: Readonly<Record<Color, ColorEnvironment>>;
  /** The app's ECS cluster (platform "ecs"); the "asg" platform gets a cluster of its own for these tasks. */
  readonly cluster?: ecs.ICluster;
  readonly database?: Database;
}

/** The container every migration task runs the command in (the same name as the colors' app container). */
export const MIGRATION_CONTAINER = 'app';

/**
 * Where the database migration phases run: one-off Fargate tasks, started and awaited by the release state
 * machine (ECS RunTask .sync), in the private subnets with a security group of their own that the database
 * admits.
 *
 * - platform "ecs": the release's own task definition revision (registered before the expand phase), so a
 *   migration runs the new image with exactly the settings, roles and secrets the new color will have.
 * - platform "asg": the instances run the image under Docker, which a state machine cannot run a one-off
 *   command in without touching a serving instance. A Fargate task definition of the app's (family
 *   `<app>-migrations`, same image, environment and database secrets) gets a revision per release instead, in a
 *   cluster that only ever runs these tasks (it costs nothing between them).
 */
export class MigrationTasks extends Construct {
  readonly cluster: ecs.ICluster;
  readonly securityGroup: ec2.SecurityGroup;
  /** Platform "asg": the task definition whose family gets a revision per release. */
  readonly taskDefinition?: ecs.FargateTaskDefinition;
  /** The task definition families the state machine may run (literal names). */
  readonly families: string[];
  readonly subnetIds: string[];
  private readonly passRoles: string[];
  /** The cluster's name as a literal (the attribute is a token; acknowledgements must match the policy text). */
  private readonly clusterLiteralName: string;

  constructor(scope: Construct, id: string, props: MigrationTasksProps) {
    super(scope, id);
    const { config, vpc, colors } = props;
    const { appName } = config;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `${appName} migration tasks: no inbound; out to the database and the image registry`,
      allowAllOutbound: true,
    });
    props.database?.allowFrom(this.securityGroup, `${appName} migration tasks`);
    this.subnetIds = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;

    if (config.platform === 'ecs') {
      // The app's cluster is named after the app (bluegreen-stack.ts).
      this.cluster = props.cluster!;
      this.clusterLiteralName = appName;
      this.families = COLORS.map((c) => colors[c].ecs!.taskDefinition.family);
      this.passRoles = COLORS.flatMap((c) => [
        colors[c].ecs!.taskDefinition.taskRole.roleArn,
        colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
      ]);
      return;
    }

    this.clusterLiteralName = `${appName}-migrations`;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: this.clusterLiteralName,
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const family = `${appName}-migrations`;
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture:
          config.container.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/bluegreen/${appName}/migrations`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Only the first registration's image: every release registers a revision with its own.
    const ecrRepository = ecrRepositoryOf(this, config.image.repository);
    const image = ecrRepository
      ? ecs.ContainerImage.fromEcrRepository(ecrRepository.repository, config.image.initialTag)
      : ecs.ContainerImage.fromRegistry(imageReference(config.image.repository, config.image.initialTag));
    taskDefinition.addContainer('App', {
      containerName: MIGRATION_CONTAINER,
      image,
      essential: true,
      environment: { ...config.container.environment, BLUEGREEN_APP: appName, BLUEGREEN_MIGRATIONS: 'true' },
      secrets: props.database?.containerSecrets() ?? {},
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'migrations' }),
    });
    acknowledge(
      taskDefinition,
      'AwsSolutions-ECS2',
      'The plain environment variables are non-secret settings (app name and the values the user put in ' +
        'container.environment); the database credentials come from Secrets Manager.',
    );
    if (ecrRepository) {
      acknowledge(
        taskDefinition.obtainExecutionRole(),
        'AwsSolutions-IAM5[Resource::*]',
        'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); the image pull ' +
          `itself is limited to the repository ${ecrRepository.name}.`,
      );
    }
    this.taskDefinition = taskDefinition;
    this.families = [family];
    this.passRoles = [taskDefinition.taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn];
  }

  /**
   * What the state machine's role needs to run and await these tasks (ECS RunTask .sync): run revisions of the
   * families in this cluster only, watch and stop its tasks, the managed rule Step Functions uses to hear of
   * task state changes, and passing the tasks' roles to ECS.
   */
  grantRun(role: iam.IRole): void {
    const stack = Stack.of(this);
    const { partition, region, account } = nagArnParts(stack);
    const clusterName = this.clusterLiteralName;
    const taskDefinitions = this.families.map((f) =>
      stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${f}:*` }),
    );
    const tasks = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${clusterName}/*` });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: taskDefinitions,
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: [tasks] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForECSTaskRule',
          }),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: this.passRoles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    const prefix = `arn:${partition}:ecs:${region}:${account}`;
    for (const family of this.families) {
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::${prefix}:task-definition/${family}:*]`,
        `Each release registers a new revision of ${family}; the migration phases run the release's revision, so ` +
          'RunTask must cover every revision of this one family (and only in the migration cluster).',
      );
    }
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${prefix}:task/${clusterName}/*]`,
      'Task ids are only known once RunTask started them; watching and stopping are limited to the tasks of ' +
        `the cluster ${clusterName}.`,
    );
  }
}
