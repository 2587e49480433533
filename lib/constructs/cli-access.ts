import { ArnFormat, Stack, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  COLORS,
  migrationParameterName,
  type Color,
  type RecordParameterNames,
} from '../../lambda/shared/release-record';
import { acknowledge, nagArnParts } from '../nag';
import { acknowledgeAsgWildcards, asgArns, moveGroupStatements } from './asg-grants';
import { recordParameterArns } from '../record-stack';
import type { ColorEnvironment } from './color-environment';
import type { ReleaseWorkflow } from './release-workflow';
import {
  acknowledgeScalableTargets,
  ASG_SCALING_READS,
  ECS_SCALING_READS,
  ECS_SCALING_WRITES,
  scalableTargetsArn,
} from './scaling-grants';
import type { TrafficRouting } from './traffic';

export interface CliAccessProps {
  readonly appName: string;
  readonly record: RecordParameterNames;
  readonly workflow: ReleaseWorkflow;
  readonly colors: Readonly<Record<Color, ColorEnvironment>>;
  readonly traffic: TrafficRouting;
  /**
   * Config `scaling` is set: `status` reads each color's bounds (and the record's capacity parameters), a
   * rollback by hand gives them back.
   */
  readonly scaling?: boolean;
}

/**
 * What the bluegreen CLI may call for one app, scoped to that app's resources.
 * - `release`: start and follow releases, and read what `status` and `history` show (a pipeline).
 * - `operate`: that, plus answer the manual gate, promote a gradual shift, roll back by hand and read each color's
 *   metrics for `bluegreen report` (operators): stop
 *   an execution, move the listener and the test rule, write the record, put a color's service back, take the
 *   lock, publish. `bluegreen promote` writes its request on the lock item (dynamodb:UpdateItem, as the rollback's
 *   hand-over of the lock does).
 */
export function cliStatements(
  scope: Construct,
  props: CliAccessProps,
  level: 'release' | 'operate',
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const { workflow, colors, traffic } = props;
  const machine = workflow.stateMachine;
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${machine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const fleet = fleetStatements(stack, props.appName, colors);
  const scaling = props.scaling ? scalingStatements(stack, props.appName, colors) : { read: [], operate: [] };
  const record = recordParameterArns(stack, props.record, { capacity: props.scaling });
  const statement = (sid: string, actions: string[], resources: string[]) =>
    new iam.PolicyStatement({ sid, actions, resources });
  const read = [
    statement('FindApp', ['cloudformation:DescribeStacks'], [stack.stackId]),
    statement(
      'StartRelease',
      ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
      [machine.stateMachineArn],
    ),
    statement('FollowRelease', ['states:DescribeExecution', 'states:GetExecutionHistory'], [executions]),
    statement('ReadLock', ['dynamodb:GetItem'], [workflow.lockTable.tableArn]),
    statement('ReadRecord', ['ssm:GetParameters'], record),
    // With migrations: whether a contract ran (no rollback across it) or waits.
    ...(workflow.migrationTasks
      ? [
          statement(
            'ReadMigrationRecord',
            ['ssm:GetParameter'],
            [
              stack.formatArn({
                service: 'ssm',
                resource: 'parameter',
                resourceName: migrationParameterName(props.appName).slice(1),
              }),
            ],
          ),
        ]
      : []),
    ...fleet.read,
    ...scaling.read,
    // Describe calls of Elastic Load Balancing have no resource-level permissions.
    statement(
      'ReadTraffic',
      ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetHealth'],
      ['*'],
    ),
  ];
  if (level === 'release') {
    return read;
  }
  return [
    ...read,
    statement('StopRelease', ['states:StopExecution'], [executions]),
    // bluegreen report: each color's load balancer metrics (GetMetricData has no resource-level permissions).
    statement('ReadMetrics', ['cloudwatch:GetMetricData'], ['*']),
    // Task tokens carry their own authority: SendTaskSuccess/Failure have no resource-level permissions.
    statement('AnswerGate', ['states:SendTaskSuccess', 'states:SendTaskFailure'], ['*']),
    statement(
      'TakeLock',
      ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [workflow.lockTable.tableArn],
    ),
    statement(
      'MoveTraffic',
      ['elasticloadbalancing:ModifyListener'],
      [traffic.productionListener.listenerArn],
    ),
    statement('MoveTestTraffic', ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]),
    statement('WriteRecord', ['ssm:PutParameter'], record),
    // A rollback to a color that went cold has the workflow's Validate Lambda (in the VPC, admitted by the test
    // listener) validate it.
    statement('ValidateColdColor', ['lambda:InvokeFunction'], [workflow.functions.validate!.functionArn]),
    ...fleet.operate,
    ...scaling.operate,
    statement('Publish', ['sns:Publish'], [workflow.topic.topicArn]),
    statement(
      'PublishEvent',
      ['events:PutEvents'],
      [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    ),
  ];
}

/** The CLI's calls on the colors' compute: what `status` reads, and what a rollback during a bake changes. */
function fleetStatements(
  stack: Stack,
  appName: string,
  colors: Readonly<Record<Color, ColorEnvironment>>,
): { read: iam.PolicyStatement[]; operate: iam.PolicyStatement[] } {
  const statement = (
    sid: string,
    actions: string[],
    resources: string[],
    conditions?: Record<string, unknown>,
  ) => new iam.PolicyStatement({ sid, actions, resources, conditions });
  if (colors.blue.ecs && colors.green.ecs) {
    const services = [colors.blue.ecs.service.serviceArn, colors.green.ecs.service.serviceArn];
    const roles = COLORS.flatMap((c) => [
      colors[c].ecs!.taskDefinition.taskRole.roleArn,
      colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
    ]);
    return {
      read: [statement('ReadServices', ['ecs:DescribeServices'], services)],
      operate: [
        statement('RestoreColor', ['ecs:UpdateService'], services),
        // Putting a color back reads its old revision and, when a cdk deploy deregistered it, registers it again.
        statement(
          'RestoreRevision',
          ['ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
          ['*'],
        ),
        statement('PassTaskRoles', ['iam:PassRole'], roles),
        statement(
          'TagOnRegister',
          ['ecs:TagResource'],
          COLORS.map((c) =>
            stack.formatArn({
              service: 'ecs',
              resource: 'task-definition',
              resourceName: `${appName}-${c}:*`,
            }),
          ),
          { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
        ),
      ],
    };
  }
  const arns = asgArns(stack, appName, colors);
  return {
    // Describe calls of Auto Scaling and of launch template versions have no resource-level permissions.
    read: [
      statement(
        'ReadGroups',
        [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeInstanceRefreshes',
          'ec2:DescribeLaunchTemplateVersions',
        ],
        ['*'],
      ),
    ],
    operate: [
      ...moveGroupStatements(stack, arns, [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:StartInstanceRefresh',
        'autoscaling:CancelInstanceRefresh',
        'autoscaling:ResumeProcesses',
      ]),
      statement('RetireRevision', ['ec2:DeleteLaunchTemplateVersions'], arns.templates),
      // A rollback to a group that went cold watches its launches (failed ones end the wait).
      statement('WatchLaunches', ['autoscaling:DescribeScalingActivities'], ['*']),
    ],
  };
}

/**
 * With scaling, what `status` reads of each color's bounds and what a rollback by hand sets (the bounds the record
 * says); the Describe calls have no resource-level permissions.
 */
function scalingStatements(
  stack: Stack,
  appName: string,
  colors: Readonly<Record<Color, ColorEnvironment>>,
): { read: iam.PolicyStatement[]; operate: iam.PolicyStatement[] } {
  if (colors.blue.ecs) {
    return {
      read: [new iam.PolicyStatement({ sid: 'ReadScaling', actions: ECS_SCALING_READS, resources: ['*'] })],
      // RegisterScalableTarget also checks ecs:UpdateService on the service (RestoreColor grants it).
      operate: [
        new iam.PolicyStatement({
          sid: 'RestoreScaling',
          actions: ECS_SCALING_WRITES,
          resources: [scalableTargetsArn(stack)],
        }),
      ],
    };
  }
  return {
    read: [new iam.PolicyStatement({ sid: 'ReadScaling', actions: ASG_SCALING_READS, resources: ['*'] })],
    // UpdateAutoScalingGroup (min and max) comes with moving groups; a policy's DisableScaleIn is its own call.
    operate: [
      new iam.PolicyStatement({
        sid: 'RestoreScaling',
        actions: ['autoscaling:PutScalingPolicy'],
        resources: asgArns(stack, appName, colors).groups,
      }),
    ],
  };
}

/**
 * Acknowledges the wildcard resources of `cliStatements` on `target`, with the reasons (`otherWildcards` names
 * the target's own wildcard actions, so one acknowledgement covers them all).
 */
export function acknowledgeCliWildcards(
  target: Construct,
  props: CliAccessProps,
  level: 'release' | 'operate',
  otherWildcards = '',
): void {
  const stack = Stack.of(target);
  const { partition, region, account } = nagArnParts(stack);
  const machineId = stack.getLogicalId(props.workflow.stateMachine.node.defaultChild as CfnElement);
  acknowledge(
    target,
    `AwsSolutions-IAM5[Resource::arn:${partition}:states:${region}:${account}:execution:<${machineId}.Name>:*]`,
    "A release's execution is named when it starts: the wildcard spans this app's release executions only.",
  );
  if (props.scaling && props.colors.blue.ecs && level === 'operate') {
    acknowledgeScalableTargets(target);
  }
  if (props.colors.blue.asg) {
    acknowledgeAsgWildcards(target, props.appName, level === 'operate');
  } else if (level === 'operate') {
    for (const c of COLORS) {
      acknowledge(
        target,
        `AwsSolutions-IAM5[Resource::arn:${partition}:ecs:${region}:${account}:task-definition/${props.appName}-${c}:*]`,
        `Tagging is allowed only on create (ecs:CreateAction RegisterTaskDefinition) of a revision of ${props.appName}-${c} ` +
          '(a rollback registering a deregistered revision again), whose number is only known once it is registered.',
      );
    }
  }
  acknowledge(
    target,
    'AwsSolutions-IAM5[Resource::*]',
    (level === 'release'
      ? 'elasticloadbalancing:DescribeListeners/DescribeTargetHealth have no resource-level permissions; they only read.'
      : 'elasticloadbalancing:DescribeListeners/DescribeTargetHealth, states:SendTaskSuccess/SendTaskFailure (the task ' +
        'token is the authority), ecs:DescribeTaskDefinition/RegisterTaskDefinition/DeregisterTaskDefinition, the ' +
        'Auto Scaling (DescribeScalingActivities included) and launch template Describe calls ' +
        "and ec2:RunInstances (limited by condition to this app's launch templates) and cloudwatch:GetMetricData " +
        "(bluegreen report reads each color's load balancer metrics; it only reads) have no resource-level " +
        "permissions; every other call is scoped to this app's resources.") +
      (props.scaling
        ? " With scaling, the Describe calls of each color's bounds (application-autoscaling:DescribeScalableTargets, " +
          'autoscaling:DescribePolicies) have none either.'
        : '') +
      otherWildcards,
  );
}

/**
 * A customer managed policy for the people who operate this app's releases with the CLI (status, history,
 * release, approve, reject, rollback, report): attach it to their role or group. Output `OperatorPolicyArn`.
 */
export class OperatorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: CliAccessProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: `bluegreen-${props.appName}-operator`,
      description: `bluegreen ${props.appName}: what the bluegreen CLI needs to release, approve, reject and roll back`,
      statements: cliStatements(this, props, 'operate'),
    });
    acknowledgeCliWildcards(this.policy, props, 'operate');
  }
}
