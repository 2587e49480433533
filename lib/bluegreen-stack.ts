import {
  CfnCondition,
  CfnOutput,
  CfnParameter,
  CfnRule,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  COLORS,
  migrationParameterName,
  type Color,
  type RecordParameterNames,
} from '../lambda/shared/release-record';
import {
  COLD_ROLLBACK_OUTPUT,
  configuredSmokeChecks,
  encodeColdRollbackSettings,
} from './cold-rollback-settings';
import type { BluegreenConfig } from './config';
import { ChatNotifications } from './constructs/chat-notifications';
import { OperatorPolicy } from './constructs/cli-access';
import { GitHubDeployRole } from './constructs/github-deploy-role';
import { BluegreenFunction } from './constructs/bluegreen-function';
import { acknowledgeAsgWildcards, asgArns } from './constructs/asg-grants';
import { ColorEnvironment } from './constructs/color-environment';
import { customResourceLogs } from './constructs/custom-resource-logs';
import { Database } from './constructs/database';
import { SharedRedis } from './constructs/shared-redis';
import { SideBySideDashboard } from './constructs/side-by-side-dashboard';
import { ReleaseWorkflow } from './constructs/release-workflow';
import { PublicLoadBalancer, TEST_TRAFFIC_HEADER, TrafficRouting } from './constructs/traffic';
import { acknowledge, acknowledgeSdkCallProvider } from './nag';
import { recordParameterArns } from './record-stack';
import { liveColorCanRun, liveColorHasTraffic } from './record-rules';

export interface BluegreenStackProps extends StackProps {
  readonly config: BluegreenConfig;
  /** Names of the release record's SSM parameters (created by the ReleaseRecordStack). */
  readonly record: RecordParameterNames;
}

/**
 * The blue/green infrastructure of one app: network, load balancer and listeners, the two color environments,
 * the optional shared Redis, alarms and the side-by-side dashboard.
 *
 * Everything a release changes (which color takes traffic, the image each color runs, how many tasks each
 * runs) is either read from the release record at deploy time or left out of the template, so a later
 * `cdk deploy` can never undo a release.
 */
export class BluegreenStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly colors: Readonly<Record<Color, ColorEnvironment>>;
  readonly loadBalancer: PublicLoadBalancer;
  readonly traffic: TrafficRouting;
  readonly redis?: SharedRedis;
  /** The shared PostgreSQL database of both colors (when config.database is set). */
  readonly database?: Database;
  /** The ECS cluster (platform "ecs" only). */
  readonly cluster?: ecs.Cluster;
  readonly workflow: ReleaseWorkflow;

  constructor(scope: Construct, id: string, props: BluegreenStackProps) {
    super(scope, id, props);
    const { config, record } = props;
    const { appName } = config;

    // --- The release record, read at every deploy -------------------------------------------------------
    // SSM parameter types are resolved by CloudFormation at each create/update, so any resource that a stack
    // update touches is written with what the record says now, not with what the template said last time.
    const recordParameter = (logicalId: string, name: string, what: string) =>
      new CfnParameter(this, logicalId, {
        type: 'AWS::SSM::Parameter::Value<String>',
        default: name,
        description: `Release record (${what}), read from SSM at every deploy. Do not override.`,
      });
    const liveColor = recordParameter('RecordLiveColor', record.liveColor, 'live color');
    const images: Record<Color, CfnParameter> = {
      blue: recordParameter('RecordBlueImage', record.image.blue, 'blue image'),
      green: recordParameter('RecordGreenImage', record.image.green, 'green image'),
    };
    // The production listener's weights, "<blue>,<green>": a deploy during a gradual shift keeps its split.
    const productionWeights = recordParameter(
      'RecordProductionWeights',
      record.weights,
      'production weights, <blue>,<green>',
    );
    // With scaling: each color's bounds, "auto" or "<min>,<max>" (lib/constructs/color-scaling.ts renders them).
    const capacity = config.scaling
      ? {
          blue: recordParameter(
            'RecordBlueCapacity',
            record.capacity.blue,
            'blue scaling bounds, auto or <min>,<max>',
          ),
          green: recordParameter(
            'RecordGreenCapacity',
            record.capacity.green,
            'green scaling bounds, auto or <min>,<max>',
          ),
        }
      : undefined;
    new CfnRule(this, 'RecordIsValid', {
      assertions: [
        {
          assert: Fn.conditionContains(['blue', 'green'], liveColor.valueAsString),
          assertDescription:
            `The release record ${record.liveColor} must be "blue" or "green". Set it to the color the ` +
            'production listener forwards to (bluegreen status shows it) before deploying.',
        },
        ...COLORS.map((color) => liveColorHasTraffic(record, liveColor, productionWeights, color)),
        ...(capacity
          ? COLORS.map((color) => liveColorCanRun(record, liveColor, capacity[color], color))
          : []),
      ],
    });
    const blueIsLive = new CfnCondition(this, 'BlueIsLive', {
      expression: Fn.conditionEquals(liveColor.valueAsString, 'blue'),
    });
    const recordedScaling = (color: Color) =>
      capacity && {
        capacity: capacity[color].valueAsString,
        live:
          color === 'blue'
            ? blueIsLive
            : new CfnCondition(this, 'GreenIsLive', { expression: Fn.conditionNot(blueIsLive) }),
      };

    // --- Network -----------------------------------------------------------------------------------------
    let natAddresses: ec2.CfnEIP[] = [];
    if (config.vpc.vpcId) {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: config.vpc.vpcId });
    } else {
      const natGateways = config.vpc.natGateways ?? 1;
      // Our own Elastic IPs for the NAT gateways: their addresses are the only ones (with the configured
      // ones) allowed to reach the test listener, and the validation step leaves the VPC through them.
      natAddresses = Array.from(
        { length: natGateways },
        (_, i) =>
          new ec2.CfnEIP(this, `NatAddress${i + 1}`, {
            domain: 'vpc',
            tags: [{ key: 'Name', value: `${appName}-nat-${i + 1}` }],
          }),
      );
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(config.vpc.cidr ?? '10.0.0.0/16'),
        maxAzs: config.vpc.maxAzs ?? 2,
        natGateways,
        natGatewayProvider: ec2.NatProvider.gateway({
          eipAllocationIds: natAddresses.map((eip) => eip.attrAllocationId),
        }),
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        restrictDefaultSecurityGroup: true,
      });
      vpc.addFlowLog('RejectedTraffic', {
        trafficType: ec2.FlowLogTrafficType.REJECT,
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', {
            logGroupName: `/bluegreen/${appName}/vpc-flow-logs`,
            retention: config.logRetentionDays as logs.RetentionDays,
            // Deleted with the stack like every other log group: kept, its fixed name would make the next
            // deploy of the same appName fail ("already exists").
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
      });
      this.vpc = vpc;
    }

    // --- Load balancer, cluster, Redis -------------------------------------------------------------------
    const lb = new PublicLoadBalancer(this, 'Public', { appName, vpc: this.vpc });
    this.loadBalancer = lb;
    if (config.platform === 'ecs') {
      this.cluster = new ecs.Cluster(this, 'Cluster', {
        clusterName: appName,
        vpc: this.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
    }
    if (config.redis.enabled) {
      this.redis = new SharedRedis(this, 'SharedRedis', {
        appName,
        vpc: this.vpc,
        nodeType: config.redis.nodeType,
        replicas: config.redis.replicas,
      });
    }
    if (config.database) {
      this.database = new Database(this, 'Database', { config, vpc: this.vpc });
    }

    // --- The two colors: one construct, instantiated twice -----------------------------------------------
    const makeColor = (color: Color) =>
      new ColorEnvironment(this, color === 'blue' ? 'Blue' : 'Green', {
        color,
        config,
        vpc: this.vpc,
        cluster: this.cluster,
        loadBalancer: lb.loadBalancer,
        image: images[color].valueAsString,
        redis: this.redis,
        database: this.database,
        recordedScaling: recordedScaling(color),
      });
    this.colors = { blue: makeColor('blue'), green: makeColor('green') };

    // --- Listeners ---------------------------------------------------------------------------------------
    const testAllowedPeers = [
      ...natAddresses.map((eip) => ec2.Peer.ipv4(Fn.join('', [eip.attrPublicIp, '/32']))),
      ...config.listeners.testAllowedCidrs.map((cidr) => ec2.Peer.ipv4(cidr)),
    ];
    this.traffic = new TrafficRouting(this, 'Traffic', {
      appName,
      loadBalancer: lb,
      blue: this.colors.blue,
      green: this.colors.green,
      blueIsLive,
      productionWeights: productionWeights.valueAsString,
      stickySeconds: config.release.analysis.stickySeconds,
      testPort: config.listeners.testPort,
      testAllowedPeers,
      domainName: config.listeners.domainName,
      certificate: config.listeners.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', config.listeners.certificateArn)
        : undefined,
    });

    // --- The release workflow ----------------------------------------------------------------------------
    this.workflow = new ReleaseWorkflow(this, 'ReleaseWorkflow', {
      config,
      record,
      vpc: this.vpc,
      cluster: this.cluster,
      database: this.database,
      colors: this.colors,
      traffic: this.traffic,
    });

    // --- Initial capacity, set once ----------------------------------------------------------------------
    this.setInitialCapacity(config, blueIsLive);

    // --- Dashboard ---------------------------------------------------------------------------------------
    const dashboard = new SideBySideDashboard(this, 'Dashboard', {
      appName,
      blue: this.colors.blue,
      green: this.colors.green,
      latencyAlarmSeconds: config.alarms.p99LatencyMs / 1000,
      headerWidgets: [this.liveColorWidget(config, record)],
      ...(config.scaling ? { counts: true } : {}),
    });

    // --- Outputs: what the release workflow, the CLI and operators look up -------------------------------
    const output = (outputId: string, value: string, description: string) =>
      new CfnOutput(this, outputId, { value, description });
    output('ProductionUrl', this.traffic.productionUrl, 'Production URL (the live color)');
    if (config.scaling) {
      // bluegreen status and rollback read the configured bounds from here (cli/target.ts SCALING_OUTPUT).
      const { minCount, maxCount } = config.scaling;
      output('ScalingBounds', `${minCount},${maxCount}`, "Auto scaling: the live color's bounds (min,max)");
    }
    output(
      'LoadBalancerDnsName',
      lb.loadBalancer.loadBalancerDnsName,
      'Point your DNS name (listeners.domainName) here',
    );
    output(
      'TestUrl',
      this.traffic.testUrl,
      'Test listener URL (the idle color; needs the test-traffic header)',
    );
    output('ProductionListenerArn', this.traffic.productionListener.listenerArn, 'Production listener');
    output('TestListenerArn', this.traffic.testListener.listenerArn, 'Test listener');
    output(
      'TestListenerRuleArn',
      this.traffic.testRule.listenerRuleArn,
      'Test listener rule to the idle color',
    );
    output(
      'TestTrafficSecretArn',
      this.traffic.testTrafficSecret.secretArn,
      'Secret value of the test header',
    );
    // bluegreen rollback after the old color went cold (cli/target.ts): its window, deadline and smoke checks.
    output(
      COLD_ROLLBACK_OUTPUT,
      encodeColdRollbackSettings({
        windowHours: config.release.coldRollbackWindowHours,
        timeoutSeconds: config.release.deployTimeoutSeconds,
        pollSeconds: config.release.deployPollSeconds,
        smokeChecks: configuredSmokeChecks(config),
        testHeader: TEST_TRAFFIC_HEADER,
        validateFunctionArn: this.workflow.functions.validate!.functionArn,
      }),
      'bluegreen rollback of a cold color: window (hours), deadline, poll interval, smoke checks, Validate Lambda',
    );
    output('Platform', config.platform, 'Compute platform of both colors (ecs or asg)');
    if (this.cluster) {
      output('ClusterName', this.cluster.clusterName, 'ECS cluster');
    }
    output(
      'StateMachineArn',
      this.workflow.stateMachine.stateMachineArn,
      'Release workflow: start it with {"image": ...}',
    );
    output('ReleaseTopicArn', this.workflow.topic.topicArn, 'Release outcomes (SNS)');
    output('LockTableName', this.workflow.lockTable.tableName, 'In-flight release lock');
    for (const color of COLORS) {
      const c = this.colors[color];
      const prefix = color === 'blue' ? 'Blue' : 'Green';
      output(`${prefix}TargetGroupArn`, c.targetGroup.targetGroupArn, `${color} target group`);
      if (c.ecs) {
        output(`${prefix}ServiceName`, c.ecs.service.serviceName, `${color} ECS service`);
        output(`${prefix}TaskFamily`, c.ecs.taskDefinition.family, `${color} task definition family`);
      }
      if (c.asg) {
        output(`${prefix}GroupName`, c.asg.group.autoScalingGroupName, `${color} Auto Scaling group`);
        output(
          `${prefix}LaunchTemplateId`,
          c.asg.launchTemplate.launchTemplateId!,
          `${color} launch template`,
        );
      }
    }
    output(
      'DashboardUrl',
      `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${dashboard.dashboard.dashboardName}`,
      'Side-by-side dashboard',
    );
    if (this.redis) {
      output('RedisUrl', this.redis.url, 'Shared session Redis (TLS, AUTH)');
    }
    if (this.database) {
      output(
        'DatabaseSecretArn',
        this.database.secret.secretArn,
        'Shared PostgreSQL credentials (JSON: host, port, dbname, username, password)',
      );
      output(
        'DatabaseEndpoint',
        this.database.cluster.clusterEndpoint.socketAddress,
        'Shared PostgreSQL writer endpoint (host:port)',
      );
    }
    if (this.workflow.migrationTasks) {
      output(
        'MigrationRecordParameter',
        migrationParameterName(config.appName),
        'Database migrations: which contract ran (no rollback across it) and which waits (SSM parameter, JSON)',
      );
      output(
        'MigrationCluster',
        this.workflow.migrationTasks.cluster.clusterName,
        'Database migrations: the ECS cluster their one-off tasks run in',
      );
    }
    const cliAccess = {
      record,
      workflow: this.workflow,
      colors: this.colors,
      traffic: this.traffic,
      ...(config.scaling ? { scaling: true } : {}),
    };
    const operators = new OperatorPolicy(this, 'Operators', { ...cliAccess, appName: config.appName });
    output(
      'OperatorPolicyArn',
      operators.policy.managedPolicyArn,
      'Attach to whoever operates releases with the bluegreen CLI',
    );
    if (config.githubDeployRole) {
      const deploy = new GitHubDeployRole(this, 'GitHubDeploy', {
        ...cliAccess,
        config,
        settings: config.githubDeployRole,
      });
      output('GitHubDeployRoleArn', deploy.role.roleArn, 'Role for the GitHub Actions pipeline (OIDC)');
    }
    if (config.notifications?.slack) {
      new ChatNotifications(this, 'ChatNotifications', {
        appName: config.appName,
        slack: config.notifications.slack,
        topic: this.workflow.topic,
      });
      // The CLI publishes outcomes too (bluegreen rollback): it reads the topic's format here (cli/target.ts).
      output('ReleaseTopicFormat', 'chatbot', 'Release topic messages: AWS Chatbot custom notifications');
    }
  }

  /**
   * A dashboard widget backed by a small Lambda that reads the release record and the production listener
   * when the dashboard is viewed, so "which color is live" is never a stale template value.
   */
  private liveColorWidget(config: BluegreenConfig, record: RecordParameterNames): cloudwatch.IWidget {
    const widget = new BluegreenFunction(this, 'LiveColorWidget', {
      entry: 'live-color-widget',
      description: `bluegreen ${config.appName}: dashboard widget showing the live color`,
      logRetentionDays: config.logRetentionDays,
      environment: {
        APP_NAME: config.appName,
        PRODUCTION_LISTENER_ARN: this.traffic.productionListener.listenerArn,
        BLUE_TARGET_GROUP_ARN: this.colors.blue.targetGroup.targetGroupArn,
        GREEN_TARGET_GROUP_ARN: this.colors.green.targetGroup.targetGroupArn,
      },
    }).function;
    widget.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameters'],
        resources: recordParameterArns(this, record, { capacity: config.scaling !== undefined }),
      }),
    );
    widget.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeListeners'], resources: ['*'] }),
    );
    acknowledge(
      widget.role!,
      'AwsSolutions-IAM5[Resource::*]',
      'elasticloadbalancing:DescribeListeners supports no resource-level permissions; the widget only reads ' +
        'the production listener of this app (its ARN is the only one it is given). X-Ray tracing also needs "*".',
    );
    return new cloudwatch.CustomWidget({
      functionArn: widget.functionArn,
      title: 'Live color (release record vs production listener)',
      width: 12,
      height: 4,
      updateOnRefresh: true,
      updateOnResize: false,
      updateOnTimeRangeChange: false,
    });
  }

  /**
   * The services have no DesiredCount in the template (CloudFormation would reset it at every update). This
   * custom resource sets it once, when the stack is created: the live color (per the record) gets
   * container.desiredCount tasks, the idle color 0, or the same count when keepIdleWarm is set.
   */
  private setInitialCapacity(config: BluegreenConfig, blueIsLive: CfnCondition): void {
    const live = config.container.desiredCount;
    // With scaling, the record is created "auto" for both colors: the idle color's bounds are 0..0 until a
    // release's Finish pins it warm (a count above them would fail the group's update, or be scaled away).
    const idle = config.keepIdleWarm && !config.scaling ? live : 0;
    const ecsColors = config.platform === 'ecs';
    const groups = ecsColors ? [] : asgArns(this, config.appName, this.colors).groups;
    const policyFor = (color: Color) =>
      cr.AwsCustomResourcePolicy.fromStatements([
        ecsColors
          ? new iam.PolicyStatement({
              actions: ['ecs:UpdateService'],
              resources: COLORS.map((c) => this.colors[c].ecs!.service.serviceArn),
            })
          : new iam.PolicyStatement({
              actions: ['autoscaling:SetDesiredCapacity'],
              // The color's group by name (a group ARN's id is only known once it exists).
              resources: [groups[COLORS.indexOf(color)]],
            }),
      ]);
    for (const color of COLORS) {
      const c = this.colors[color];
      // Strings inside the call's JSON (CloudFormation joins strings); the SDK-call handler converts them to the
      // integer the API expects.
      const [whenBlueLive, whenGreenLive] = color === 'blue' ? [live, idle] : [idle, live];
      const count = Fn.conditionIf(
        blueIsLive.logicalId,
        String(whenBlueLive),
        String(whenGreenLive),
      ).toString();
      const init = new cr.AwsCustomResource(this, `${color === 'blue' ? 'Blue' : 'Green'}InitialCapacity`, {
        resourceType: 'Custom::BluegreenInitialCapacity',
        installLatestAwsSdk: false,
        logGroup: customResourceLogs(this, config.logRetentionDays),
        policy: policyFor(color),
        // Create only, on purpose: after creation the count belongs to the release workflow.
        onCreate: c.ecs
          ? {
              service: 'ECS',
              action: 'updateService',
              parameters: {
                cluster: this.cluster!.clusterName,
                service: c.ecs.service.serviceName,
                desiredCount: count,
              },
              physicalResourceId: cr.PhysicalResourceId.of(`${config.appName}-${color}-initial-capacity`),
              outputPaths: ['service.serviceName'],
            }
          : {
              service: 'AutoScaling',
              action: 'setDesiredCapacity',
              parameters: { AutoScalingGroupName: c.asg!.group.autoScalingGroupName, DesiredCapacity: count },
              physicalResourceId: cr.PhysicalResourceId.of(`${config.appName}-${color}-initial-capacity`),
            },
      });
      init.node.addDependency(c.ecs ? c.ecs.service : c.asg!.group);
      if (!ecsColors) {
        acknowledgeAsgWildcards(init.node.findChild('CustomResourcePolicy'), config.appName, false);
      }
    }
    acknowledgeSdkCallProvider(
      this,
      ecsColors
        ? "It sets the two services' first task counts at stack creation; its ECS rights are scoped to those two " +
            'services.'
        : "It sets the two groups' first instance counts at stack creation; autoscaling:SetDesiredCapacity is " +
            "scoped to this app's two groups by name.",
    );
  }
}
