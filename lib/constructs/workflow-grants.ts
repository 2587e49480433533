/**
 * The release workflow's least-privilege grants: each step function gets exactly the calls its core makes, on this
 * app's resources, and every cdk-nag finding they leave is acknowledged with its reason (per step).
 */
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { COLORS, migrationParameterName } from '../../lambda/shared/release-record';
import { hookFunctions } from '../config-hooks';
import { acknowledge, nagArnParts } from '../nag';
import { recordParameterArns } from '../record-stack';
import { acknowledgeAsgWildcards, ASG_FLEET_READS, asgArns, moveGroupStatements } from './asg-grants';
import type { MigrationTasks } from './migration-tasks';
import { grantRechecks } from './recheck-grants';
import { grantScaling, scalingWildcardReason } from './scaling-grants';
import { grantShiftSteps } from './shift-grants';
import type { ReleaseWorkflowProps } from './release-workflow';
import type { Step, StepFunctions } from './workflow-states';

/** What the workflow made that the steps' grants name. */
export interface GrantedResources {
  readonly lockTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /** Where the migration phases run (when migrations are configured). */
  readonly migrationTasks?: MigrationTasks;
}

/** Least privilege: each step gets exactly the calls its core makes, on this app's resources. */
export function grantSteps(
  scope: Construct,
  fns: StepFunctions,
  props: ReleaseWorkflowProps,
  { lockTable, topic, migrationTasks }: GrantedResources,
): void {
  const stack = Stack.of(scope);
  const { colors, traffic, record } = props;
  const withCapacity = { capacity: props.config.scaling !== undefined };
  const allow = (fn: lambda.Function, actions: string[], resources: string[]) =>
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  const events = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' });
  const concluding: lambda.Function[] = [
    fns.rollback,
    fns.abort,
    fns.finish,
    fns['rollback-failed'],
    fns.stopped,
    ...(fns['contract-failed'] ? [fns['contract-failed']] : []),
  ];
  // The manual gate only publishes (what waits, how to answer).
  const publishing = fns['await-approval'] ? [...concluding, fns['await-approval']] : concluding;

  // Reads
  // With scaling, a failed rollback's report reads which color the record names live (to give it its bounds back).
  for (const fn of [fns.prepare, fns.stopped, ...(props.config.scaling ? [fns['rollback-failed']] : [])]) {
    allow(fn, ['ssm:GetParameters'], recordParameterArns(stack, record, withCapacity));
  }
  for (const fn of [fns.prepare, fns['check-deploy'], fns.validate, fns.stopped]) {
    // Describe* calls of Elastic Load Balancing have no resource-level permissions.
    allow(fn, ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetHealth'], ['*']);
  }
  // The bake checks the new color's alarms; the Stopped step both colors' (is a color fit to take traffic back?).
  for (const fn of [fns.watch, fns.stopped]) {
    allow(
      fn,
      ['cloudwatch:DescribeAlarms'],
      COLORS.flatMap((c) => Object.values(colors[c].alarms).map((a) => a.alarmArn)),
    );
  }
  traffic.testTrafficSecret.grantRead(fns.validate);
  if (props.config.release.validationHookArn) {
    allow(fns.validate, ['lambda:InvokeFunction'], [props.config.release.validationHookArn]);
  }
  // The lifecycle hooks' step invokes the configured hook functions, and nothing else.
  if (fns.hook) {
    allow(
      fns.hook,
      ['lambda:InvokeFunction'],
      [...new Set(Object.values(hookFunctions(props.config.release.hooks)))],
    );
  }

  // Lock
  lockTable.grant(fns.prepare, 'dynamodb:PutItem', 'dynamodb:GetItem');
  // With scaling, each bake check reads who holds the lock before it raises the old color's floor (capacity.ts).
  if (props.config.scaling) {
    lockTable.grant(fns.watch, 'dynamodb:GetItem');
  }
  // The idle color following the live one (keepIdleWarm with scaling): the lock for a few seconds, the record, the
  // listener (the rest: scaling-grants.ts).
  const follower = fns['follow-live'];
  if (follower) {
    lockTable.grant(follower, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem');
    allow(follower, ['ssm:GetParameters'], recordParameterArns(stack, record, withCapacity));
    allow(follower, ['elasticloadbalancing:DescribeListeners'], ['*']);
  }
  for (const fn of [...concluding]) {
    lockTable.grant(fn, 'dynamodb:DeleteItem');
  }

  // Gradual shifts: one step's re-checks and writes; the analysis' reads and its verdict's event
  grantShiftSteps(fns, props, { lockTable, topic });

  // Fleet (reads, deploy, put back, retire, hold scaling)
  grantFleet(scope, fns, concluding, props);
  // The re-checks before irreversible acts (listener, idle color), and Abort/Finish putting traffic right
  grantRechecks(fns, props);
  // With scaling: each color's bounds (scalable target or group, and the record's capacity parameters)
  grantScaling(fns, props);

  // Traffic and record
  // Deploy points the test rule at the idle color before anything is validated through it.
  allow(fns.deploy, ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]);
  // The Stopped step puts traffic back on the old color when an unfinished release left it elsewhere.
  for (const fn of [fns.switch, fns.rollback, fns.stopped]) {
    allow(fn, ['elasticloadbalancing:ModifyListener'], [traffic.productionListener.listenerArn]);
    allow(fn, ['elasticloadbalancing:ModifyRule'], [traffic.testRule.listenerRuleArn]);
    allow(fn, ['ssm:PutParameter'], recordParameterArns(stack, record, withCapacity));
  }

  // Migrations: the migration record, and what registering and scaling down before a contract take
  if (migrationTasks) {
    grantMigrations(scope, fns, props, migrationTasks);
  }

  // Outcomes
  for (const fn of publishing) {
    // The topic uses the AWS managed key alias/aws/sns: publishing through SNS needs no KMS permission.
    allow(fn, ['sns:Publish'], [topic.topicArn]);
    allow(fn, ['events:PutEvents'], [events]);
  }

  const xray = 'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords) has no resource-level permissions';
  const asg = props.config.platform === 'asg';
  const reasons: Record<Step, string> = {
    prepare: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''}; its only write is the lock item.`,
    deploy: asg
      ? `${xray}, nor do the Auto Scaling and launch template Describe calls; the group, template and PassRole writes are scoped to this app's groups, templates and instance roles.`
      : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition; UpdateService and PassRole are scoped to this app's services and task roles.`,
    'check-deploy': `${xray}, nor do elasticloadbalancing:DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''}; it only reads.`,
    validate: `${xray}, nor does elasticloadbalancing:DescribeTargetHealth; it only reads (and invokes the configured hook).`,
    switch: `${xray}, nor does elasticloadbalancing:DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''} (the idle color re-checked); its writes are scoped to the production listener, the test rule and the record parameters.`,
    watch: `${xray}, nor does elasticloadbalancing:DescribeListeners; it reads the listener and this app's alarms (with scaling, both colors' scaling and the lock item too, and sets the old color's bounds).`,
    shift: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth${asg ? ' and the Auto Scaling and launch template Describe calls' : ''} (the new color re-checked); its writes are scoped to the production listener and the record parameters.`,
    analyse: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth and cloudwatch:GetMetricData (the ALB metrics compared); its alarms, lock item, topic and event bus are named.`,
    rollback: asg
      ? `${xray}, nor do the Auto Scaling, launch template and elasticloadbalancing:DescribeListeners Describe calls; its other writes are scoped to this app's listener, rule, record, groups, templates, lock, topic.`
      : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition/DeregisterTaskDefinition and elasticloadbalancing:DescribeListeners; its other writes are scoped to this app's listener, rule, record, services, task roles, lock, topic.`,
    abort: asg
      ? `${xray}, nor do the Auto Scaling, launch template and elasticloadbalancing:DescribeListeners Describe calls; its other writes are scoped to this app's listener, rule, record, groups, templates, lock and topic.`
      : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition/DeregisterTaskDefinition and elasticloadbalancing:DescribeListeners; its other writes are scoped to this app's listener, rule, record, services, task roles, lock and topic.`,
    finish: `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth; its writes are scoped to this app's ${asg ? 'groups' : 'services'}, listener, rule, record, lock and topic.`,
    'rollback-failed': `${xray}; its writes are scoped to this app's lock and topic.`,
    stopped: `${xray}, nor does elasticloadbalancing:DescribeListeners; its writes are scoped to this app's lock and topic.`,
    'await-approval': `${xray}; it only publishes to this app's topic and the default event bus.`,
    register: asg
      ? `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition and the launch template Describe calls; launch template versions and PassRole are scoped to this app's templates and migration task roles.`
      : `${xray}, nor do ecs:DescribeTaskDefinition/RegisterTaskDefinition; PassRole is scoped to this app's task roles.`,
    'scale-down-old-color': `${xray}, nor do elasticloadbalancing:DescribeListeners/DescribeTargetHealth; its only write is the desired count of this app's ${asg ? 'groups' : 'services'}.`,
    'record-contract': `${xray}; its only write is this app's migration record parameter.`,
    'contract-failed': `${xray}; its writes are scoped to this app's migration record, lock and topic.`,
    hook: `${xray}; it only invokes the configured lifecycle hook functions.`,
    'follow-live': `${xray}, nor does elasticloadbalancing:DescribeListeners; its writes are scoped to this app's lock item, capacity parameters and ${asg ? 'groups' : 'services'}.`,
  };
  for (const [step, fn] of Object.entries(fns) as [Step, lambda.Function][]) {
    acknowledge(
      fn.role!,
      'AwsSolutions-IAM5[Resource::*]',
      reasons[step] + scalingWildcardReason(props.config, step),
    );
  }
  if (props.vpc && fns.validate.role) {
    acknowledge(
      fns.validate.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'The validation step runs in the VPC (to leave through the NAT gateway the test port admits); Lambda needs ' +
        'this policy to manage its network interfaces, which cannot be scoped to ARNs before they exist.',
    );
  }
}

/** The fleet's calls, per platform, each on this app's services or groups and templates. */
function grantFleet(
  scope: Construct,
  fns: StepFunctions,
  concluding: lambda.Function[],
  props: ReleaseWorkflowProps,
): void {
  const stack = Stack.of(scope);
  const { colors } = props;
  const allow = (
    fn: lambda.Function,
    actions: string[],
    resources: string[],
    conditions?: Record<string, unknown>,
  ) => fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  if (props.config.platform === 'ecs') {
    const services = COLORS.map((c) => colors[c].ecs!.service.serviceArn);
    const passRoles = COLORS.flatMap((c) => [
      colors[c].ecs!.taskDefinition.taskRole.roleArn,
      colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
    ]);
    for (const fn of [fns.prepare, fns['check-deploy']]) {
      allow(fn, ['ecs:DescribeServices'], services);
    }
    allow(fns.deploy, ['ecs:DescribeServices'], services);
    // Task definitions have no resource-level permissions for Describe/Register/Deregister.
    allow(fns.deploy, ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], ['*']);
    allow(fns.deploy, ['iam:PassRole'], passRoles);
    // The new revision carries the family's tags: tagging on create is authorized separately.
    grantTagOnRegister(
      scope,
      fns.deploy,
      COLORS.map((c) => `${props.config.appName}-${c}`),
    );
    for (const fn of [fns.deploy, fns.rollback, fns.abort, fns.finish]) {
      allow(fn, ['ecs:UpdateService'], services);
    }
    for (const fn of [fns.rollback, fns.abort]) {
      // Putting a color back on a revision its service still references only changes the count (even INACTIVE).
      allow(fn, ['ecs:DescribeServices'], services);
    }
    for (const fn of [fns.rollback, fns.abort]) {
      // Putting a color back reads its old revision and, when a cdk deploy deregistered it, registers it again.
      // The Service Authorization Reference lists no resource type (and no condition key) for
      // DeregisterTaskDefinition, DescribeTaskDefinition or RegisterTaskDefinition: they cannot be scoped
      // (aws/containers-roadmap#929).
      allow(
        fn,
        ['ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
        ['*'],
      );
      allow(fn, ['iam:PassRole'], passRoles);
      grantTagOnRegister(
        scope,
        fn,
        COLORS.map((c) => `${props.config.appName}-${c}`),
      );
    }
    return;
  }
  const arns = asgArns(stack, props.config.appName, colors);
  const { groups, templates } = arns;
  // Describe calls of Auto Scaling and of launch template versions have no resource-level permissions.
  for (const fn of [fns.prepare, fns['check-deploy'], fns.deploy, fns.rollback, fns.abort]) {
    allow(fn, ASG_FLEET_READS, ['*']);
  }
  allow(fns.deploy, ['ec2:CreateLaunchTemplateVersion'], templates);
  for (const fn of [fns.rollback, fns.abort]) {
    allow(fn, ['ec2:DeleteLaunchTemplateVersions'], templates);
  }
  for (const fn of [fns.deploy, fns.rollback, fns.abort]) {
    for (const statement of moveGroupStatements(stack, arns, [
      'autoscaling:UpdateAutoScalingGroup',
      'autoscaling:StartInstanceRefresh',
      'autoscaling:CancelInstanceRefresh',
    ])) {
      fn.addToRolePolicy(statement);
    }
  }
  allow(fns.finish, ['autoscaling:UpdateAutoScalingGroup'], groups);
  // Scaling is held for the release (deploy) and let go by every ending.
  allow(fns.deploy, ['autoscaling:SuspendProcesses'], groups);
  for (const fn of concluding) {
    allow(fn, ['autoscaling:ResumeProcesses'], groups);
  }
  for (const fn of new Set([fns.deploy, fns.rollback, fns.abort, fns.finish, ...concluding])) {
    acknowledgeAsgWildcards(
      fn.role!,
      props.config.appName,
      [fns.deploy, fns.rollback, fns.abort].includes(fn),
    );
  }
}

/** The migration steps' calls (and the migration record for Prepare and Finish), on this app's resources. */
function grantMigrations(
  scope: Construct,
  fns: StepFunctions,
  props: ReleaseWorkflowProps,
  migrationTasks: MigrationTasks,
): void {
  const stack = Stack.of(scope);
  const { colors, config } = props;
  const allow = (fn: lambda.Function | undefined, actions: string[], resources: string[]) =>
    fn?.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  const parameter = stack.formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: migrationParameterName(config.appName).slice(1),
  });
  allow(fns.prepare, ['ssm:GetParameter'], [parameter]);
  allow(fns['record-contract'], ['ssm:PutParameter'], [parameter]);
  // The Stopped step records a failed contract as pending when "Report contract failure" itself failed.
  for (const fn of [fns.finish, fns['contract-failed'], fns.stopped]) {
    allow(fn, ['ssm:GetParameter', 'ssm:PutParameter'], [parameter]);
  }
  // Task definitions have no resource-level permissions for Describe/Register.
  allow(fns.register, ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], ['*']);
  grantTagOnRegister(scope, fns.register!, migrationTasks.families);
  if (config.platform === 'ecs') {
    allow(
      fns.register,
      ['iam:PassRole'],
      COLORS.flatMap((c) => [
        colors[c].ecs!.taskDefinition.taskRole.roleArn,
        colors[c].ecs!.taskDefinition.obtainExecutionRole().roleArn,
      ]),
    );
    allow(
      fns['scale-down-old-color'],
      ['ecs:UpdateService'],
      COLORS.map((c) => colors[c].ecs!.service.serviceArn),
    );
    return;
  }
  const td = migrationTasks.taskDefinition!;
  allow(fns.register, ['iam:PassRole'], [td.taskRole.roleArn, td.obtainExecutionRole().roleArn]);
  const arns = asgArns(stack, config.appName, colors);
  allow(fns.register, ['ec2:DescribeLaunchTemplateVersions'], ['*']);
  allow(fns.register, ['ec2:CreateLaunchTemplateVersion'], arns.templates);
  allow(fns['scale-down-old-color'], ['autoscaling:UpdateAutoScalingGroup'], arns.groups);
  // (contract-failed resumes scaling like every ending: grantFleet acknowledges it with them.)
  acknowledgeAsgWildcards(fns['scale-down-old-color']!.role!, config.appName, false);
}

/**
 * RegisterTaskDefinition with tags (a new revision keeps its family's) also needs ecs:TagResource, allowed
 * only while registering, and only on revisions of these families.
 */
function grantTagOnRegister(scope: Construct, fn: lambda.Function, families: readonly string[]): void {
  const stack = Stack.of(scope);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ecs:TagResource'],
      resources: families.map((f) =>
        stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${f}:*` }),
      ),
      conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    }),
  );
  const { partition, region, account } = nagArnParts(stack);
  for (const f of families) {
    acknowledge(
      fn.role!,
      `AwsSolutions-IAM5[Resource::arn:${partition}:ecs:${region}:${account}:task-definition/${f}:*]`,
      `Tagging is allowed only on create (ecs:CreateAction RegisterTaskDefinition) of a revision of ${f}, whose ` +
        'number is only known once it is registered.',
    );
  }
}
