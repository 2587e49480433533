/**
 * Database migrations in the synthesized service stack (config.migrations): the ECS RunTask .sync states of the
 * release state machine, what its role may run, where the tasks run and what reaches the database, and which
 * steps may touch the migration record. cdk-nag runs in every synth (test/support/synth.ts).
 *
 * Each variant is synthesized once (a synth takes seconds).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { STATES } from '../lib/constructs/release-workflow';
import { resourcesOfType, synth, type CfnTemplate, type Synthesized } from './support/synth';

type Platform = 'ecs' | 'asg';

interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  ResultPath?: string;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const COMMAND = ['node', 'migrate.js'];
const RUN_TASK = 'arn:aws:states:::ecs:runTask.sync';
const RECORD_ARN = 'arn:aws:ssm:eu-west-1:<AWS::AccountId>:parameter/bluegreen/shop/migrations';

/** A template value as text: references written as <Ref X> / <X.Attr>, pseudo parameters as <AWS::X>. */
function flatten(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    return `<${id}.${attr}>`;
  }
  if ('Ref' in v) {
    const ref = String(v.Ref);
    return ref === 'AWS::Partition' ? 'aws' : ref.startsWith('AWS::') ? `<${ref}>` : `<Ref ${ref}>`;
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

const actions = (s: Statement) => [s.Action].flat();
const resources = (s: Statement) => [s.Resource].flat().map(flatten);

/** One synthesized variant, with the views the tests read. */
class Variant {
  readonly t: CfnTemplate;
  readonly template: Template;
  readonly states: Record<string, AslState>;
  readonly machineRole: string;

  constructor(readonly s: Synthesized) {
    this.t = s.serviceJson;
    this.template = s.service;
    const [machine] = Object.values(resourcesOfType(this.t, 'AWS::StepFunctions::StateMachine'));
    this.states = (
      JSON.parse(flatten(machine.DefinitionString)) as { States: Record<string, AslState> }
    ).States;
    this.machineRole = (machine.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }

  /** Every statement of the policies attached to a role. */
  statementsOf(role: string): Statement[] {
    return Object.values(resourcesOfType(this.t, 'AWS::IAM::Policy'))
      .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  }

  /** The role of each workflow step function, by step. */
  stepRoles(): Record<string, string> {
    const fns = resourcesOfType(this.t, 'AWS::Lambda::Function');
    return Object.fromEntries(
      Object.entries(this.s.stacks.service.workflow.functions).map(([step, fn]) => {
        const id = this.s.stacks.service.resolve((fn.node.defaultChild as CfnFunction).logicalId) as string;
        return [step, (fns[id].Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]];
      }),
    );
  }

  /** Logical id of the one resource of `type` whose properties match `where`. */
  idOf(type: string, where: (p: Record<string, unknown>) => boolean): string {
    const ids = Object.entries(resourcesOfType(this.t, type))
      .filter(([, p]) => where(p))
      .map(([id]) => id);
    expect(ids).toHaveLength(1);
    return ids[0];
  }

  runTaskStates(): string[] {
    return Object.entries(this.states)
      .filter(([, s]) => s.Type === 'Task' && s.Resource === RUN_TASK)
      .map(([name]) => name)
      .sort();
  }

  /** The settings every step gets (BLUEGREEN_SETTINGS), as JSON. */
  stepSettings(): { workflow: Record<string, unknown>; aws: Record<string, unknown> } {
    const [fn] = Object.values(resourcesOfType(this.t, 'AWS::Lambda::Function')).filter(
      (f) =>
        (f.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.BLUEGREEN_SETTINGS,
    );
    return JSON.parse(
      flatten((fn.Environment as { Variables: Record<string, unknown> }).Variables.BLUEGREEN_SETTINGS),
    );
  }
}

const cache = new Map<string, Variant>();
function variant(name: string, overrides: Parameters<typeof synth>[0]): Variant {
  if (!cache.has(name)) {
    cache.set(name, new Variant(synth(overrides)));
  }
  return cache.get(name)!;
}

const withMigrations = (platform: Platform) =>
  variant(`${platform}-migrations`, { platform, migrations: { command: COMMAND }, database: {} });

const PHASE_STATES: [string, string, string, string][] = [
  // state, last word of the command, task definition path, result path
  [STATES.expand, 'expand', '$.release.migrationTask', '$.migrations.expand'],
  [STATES.backfill, 'backfill', '$.release.migrationTask', '$.migrations.backfill'],
  [STATES.contract, 'contract', '$.release.migrationTask', '$.migrations.contract'],
  [
    STATES.previousContract,
    'contract',
    '$.release.pendingContract.taskDefinition',
    '$.migrations.previousContract',
  ],
];

describe.each(['ecs', 'asg'] as const)('migrations on platform %s', (platform) => {
  let v: Variant;
  /** The cluster the migration tasks run in, its name, and the task definition families they may run. */
  const where =
    platform === 'ecs'
      ? { cluster: 'shop', families: ['shop-blue', 'shop-green'] }
      : { cluster: 'shop-migrations', families: ['shop-migrations'] };
  let clusterId: string;
  let migrationSecurityGroup: string;

  beforeAll(() => {
    v = withMigrations(platform);
    clusterId = v.idOf('AWS::ECS::Cluster', (p) => p.ClusterName === where.cluster);
    migrationSecurityGroup = v.idOf('AWS::EC2::SecurityGroup', (p) =>
      String(p.GroupDescription).startsWith('shop migration tasks'),
    );
  });

  test('four RunTask .sync states: expand, backfill, contract and the previous release’s contract', () => {
    expect(v.runTaskStates()).toEqual(
      [STATES.expand, STATES.backfill, STATES.contract, STATES.previousContract].sort(),
    );
  });

  test.each(PHASE_STATES)(
    '%s runs the command with "%s", on %s',
    (name, word, taskDefinition, resultPath) => {
      const state = v.states[name];
      expect(state).toMatchObject({
        Type: 'Task',
        Resource: RUN_TASK,
        TimeoutSeconds: 900,
        ResultPath: resultPath,
      });
      expect(state.Parameters).toEqual({
        Cluster: `<${clusterId}.Arn>`,
        'TaskDefinition.$': taskDefinition,
        LaunchType: 'FARGATE',
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: expect.any(Array),
            SecurityGroups: [`<${migrationSecurityGroup}.GroupId>`],
            AssignPublicIp: 'DISABLED',
          },
        },
        Overrides: { ContainerOverrides: [{ Name: 'app', Command: [...COMMAND, word] }] },
        StartedBy: expect.stringMatching(/^bluegreen-/),
      });
      // Any failure (exit code, timeout, RunTask refused) goes to the phase's report.
      expect(state.Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], ResultPath: '$.failure' }),
      ]);
    },
  );

  test('the tasks run in the private subnets, without a public address', () => {
    const subnets = resourcesOfType(v.t, 'AWS::EC2::Subnet');
    for (const [name] of PHASE_STATES) {
      const config = (
        v.states[name].Parameters!.NetworkConfiguration as {
          AwsvpcConfiguration: { Subnets: string[] };
        }
      ).AwsvpcConfiguration;
      expect(config.Subnets.length).toBeGreaterThanOrEqual(2);
      for (const ref of config.Subnets) {
        const id = /^<Ref (\w+)>$/.exec(ref)?.[1] ?? '';
        expect(subnets[id]).toBeDefined();
        expect(subnets[id].MapPublicIpOnLaunch).toBe(false);
        expect(subnets[id].Tags).toEqual(
          expect.arrayContaining([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]),
        );
      }
    }
  });

  test('the phases sit where they are safe: expand before the deploy, backfill before the switch, contract last', () => {
    const s = v.states;
    expect(s[STATES.prepare].Next).toBe(STATES.contractPending);
    expect(s[STATES.contractPending].Choices?.map((c) => c.Next)).toEqual([STATES.scaleDownIdle]);
    expect(s[STATES.contractPending].Default).toBe(STATES.register);
    expect(s[STATES.scaleDownIdle].Next).toBe(STATES.previousContract);
    expect(s[STATES.previousContract].Next).toBe(STATES.recordContract);
    expect(s[STATES.recordContract].Next).toBe(STATES.register);
    expect(s[STATES.register].Next).toBe(STATES.expand);
    expect(s[STATES.expand].Next).toBe(STATES.deploy);
    expect(s[STATES.validate].Next).toBe(STATES.backfill);
    expect(s[STATES.backfill].Next).toBe(STATES.strategy);
    expect(s[STATES.waitBeforeScaleDown].Next).toBe(STATES.scaleDownOld);
    expect(s[STATES.scaleDownOld].Next).toBe(STATES.contract);
    expect(s[STATES.contract].Next).toBe(STATES.finish);
    expect(s[STATES.expand].Catch?.[0].Next).toBe(STATES.expandFailed);
    expect(s[STATES.backfill].Catch?.[0].Next).toBe(STATES.backfillFailed);
    expect(s[STATES.previousContract].Catch?.[0].Next).toBe(STATES.previousContractFailed);
    expect(s[STATES.contract].Catch?.[0].Next).toBe(STATES.contractFailed);
    expect(s[STATES.contractFailed].Next).toBe(STATES.reportContractFailure);
  });

  test('the state machine may run revisions of its families only, in that cluster only', () => {
    const statements = v.statementsOf(v.machineRole);
    const runTask = statements.filter((s) => actions(s).some((a) => a === 'ecs:RunTask' || a === 'ecs:*'));
    expect(runTask).toHaveLength(1);
    expect(runTask[0].Effect).toBe('Allow');
    expect(resources(runTask[0]).sort()).toEqual(
      where.families.map((f) => `arn:aws:ecs:eu-west-1:<AWS::AccountId>:task-definition/${f}:*`),
    );
    expect(runTask[0].Condition).toEqual({
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } },
    });
  });

  test('it may watch and stop the tasks of that cluster only', () => {
    const statements = v.statementsOf(v.machineRole);
    const watch = statements.filter((s) =>
      actions(s).some((a) => a === 'ecs:StopTask' || a === 'ecs:DescribeTasks'),
    );
    expect(watch).toHaveLength(1);
    expect(actions(watch[0]).sort()).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(resources(watch[0])).toEqual([`arn:aws:ecs:eu-west-1:<AWS::AccountId>:task/${where.cluster}/*`]);
  });

  test('it may manage the managed rule Step Functions hears of ECS tasks through, and nothing else in EventBridge', () => {
    const events = v
      .statementsOf(v.machineRole)
      .filter((s) => actions(s).some((a) => a.startsWith('events:')));
    expect(events).toHaveLength(1);
    expect(actions(events[0]).sort()).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
    expect(resources(events[0])).toEqual([
      'arn:aws:events:eu-west-1:<AWS::AccountId>:rule/StepFunctionsGetEventsForECSTaskRule',
    ]);
  });

  test("it may pass the tasks' roles to ECS tasks only", () => {
    const pass = v.statementsOf(v.machineRole).filter((s) => actions(s).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(pass[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    // Exactly the task and execution roles of the families it may run.
    const roles = Object.values(resourcesOfType(v.t, 'AWS::ECS::TaskDefinition'))
      .filter((td) => where.families.includes(td.Family as string))
      .flatMap((td) => [flatten(td.TaskRoleArn), flatten(td.ExecutionRoleArn)]);
    expect(roles).toHaveLength(2 * where.families.length);
    expect(resources(pass[0]).sort()).toEqual(roles.sort());
  });

  test('the database admits the migration tasks on 5432', () => {
    const databaseGroup = v.idOf('AWS::EC2::SecurityGroup', (p) =>
      String(p.GroupDescription).startsWith('shop shared database'),
    );
    v.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [databaseGroup, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [migrationSecurityGroup, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
    });
    // The migration tasks' own group admits nothing.
    const migrationIngress = Object.values(resourcesOfType(v.t, 'AWS::EC2::SecurityGroupIngress')).filter(
      (i) => JSON.stringify(i.GroupId).includes(migrationSecurityGroup),
    );
    expect(migrationIngress).toEqual([]);
    expect(
      resourcesOfType(v.t, 'AWS::EC2::SecurityGroup')[migrationSecurityGroup].SecurityGroupIngress,
    ).toBeUndefined();
  });

  test('only the steps that need it touch the migration record, each with only what it needs', () => {
    const granted: Record<string, string[]> = {};
    for (const [step, role] of Object.entries(v.stepRoles())) {
      const onRecord = v
        .statementsOf(role)
        .filter((s) =>
          resources(s).some((r) => r.includes('parameter/bluegreen/shop/migrations') || r === '*'),
        )
        .flatMap((s) => actions(s).filter((a) => a.startsWith('ssm:')));
      if (onRecord.length > 0) {
        granted[step] = [...onRecord].sort();
      }
      for (const s of v.statementsOf(role)) {
        if (resources(s).some((r) => r.includes('parameter/bluegreen/shop/migrations'))) {
          expect(resources(s)).toEqual([RECORD_ARN]);
        }
      }
    }
    expect(granted).toEqual({
      prepare: ['ssm:GetParameter'],
      finish: ['ssm:GetParameter', 'ssm:PutParameter'],
      'contract-failed': ['ssm:GetParameter', 'ssm:PutParameter'],
      'record-contract': ['ssm:PutParameter'],
      // When "Report contract failure" itself failed, the Stopped step records the contract as pending.
      stopped: ['ssm:GetParameter', 'ssm:PutParameter'],
    });
  });

  test('the steps are told the record parameter, the phase timeout, and (asg only) the migrations family', () => {
    const settings = v.stepSettings();
    expect(settings.workflow.migrations).toEqual({ timeoutSeconds: 900 });
    expect(settings.aws.migrations).toEqual(
      platform === 'ecs'
        ? { parameterName: '/bluegreen/shop/migrations' }
        : { parameterName: '/bluegreen/shop/migrations', family: 'shop-migrations' },
    );
  });

  if (platform === 'ecs') {
    test("the tasks run in the app's cluster: no cluster or task definition of their own", () => {
      v.template.resourceCountIs('AWS::ECS::Cluster', 1);
      v.template.resourcePropertiesCountIs('AWS::ECS::TaskDefinition', { Family: 'shop-migrations' }, 0);
    });
  } else {
    test('a cluster of its own, shop-migrations, and the shop-migrations Fargate task definition with the PG* secrets', () => {
      v.template.resourceCountIs('AWS::ECS::Cluster', 1);
      v.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'shop-migrations' });
      const secretId = v.idOf('AWS::SecretsManager::SecretTargetAttachment', () => true);
      const fromSecret = (field: string) => ({
        'Fn::Join': ['', [{ Ref: secretId }, `:${field}::`]],
      });
      v.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Family: 'shop-migrations',
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'app',
            Essential: true,
            Environment: Match.arrayWith([{ Name: 'BLUEGREEN_MIGRATIONS', Value: 'true' }]),
            Secrets: [
              { Name: 'PGHOST', ValueFrom: fromSecret('host') },
              { Name: 'PGPORT', ValueFrom: fromSecret('port') },
              { Name: 'PGDATABASE', ValueFrom: fromSecret('dbname') },
              { Name: 'PGUSER', ValueFrom: fromSecret('username') },
              { Name: 'PGPASSWORD', ValueFrom: fromSecret('password') },
            ],
          }),
        ],
      });
    });
  }
});

describe('without migrations', () => {
  let v: Variant;
  beforeAll(() => {
    v = variant('ecs-plain', { platform: 'ecs', database: {} });
  });

  test('no RunTask states, no register step, no migration states', () => {
    expect(v.runTaskStates()).toEqual([]);
    for (const name of [
      STATES.register,
      STATES.contractPending,
      STATES.scaleDownIdle,
      STATES.recordContract,
      STATES.scaleDownOld,
      STATES.reportContractFailure,
    ]) {
      expect(v.states[name]).toBeUndefined();
    }
    expect(v.states[STATES.prepare].Next).toBe(STATES.deploy);
    expect(v.states[STATES.validate].Next).toBe(STATES.strategy);
    expect(Object.keys(v.s.stacks.service.workflow.functions)).not.toContain('register');
  });

  test('the state machine may not run tasks, and no step touches a migration record', () => {
    expect(
      v
        .statementsOf(v.machineRole)
        .flatMap(actions)
        .filter((a) => a.startsWith('ecs:')),
    ).toEqual([]);
    const all = Object.values(resourcesOfType(v.t, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    expect(all.filter((s) => resources(s).some((r) => r.includes('/migrations')))).toEqual([]);
    v.template.resourcePropertiesCountIs(
      'AWS::EC2::SecurityGroup',
      { GroupDescription: Match.stringLikeRegexp('migration tasks') },
      0,
    );
    expect(v.stepSettings().aws.migrations).toBeUndefined();
  });
});

describe('migrations with keepIdleWarm and a longer timeout', () => {
  let v: Variant;
  beforeAll(() => {
    v = variant('ecs-warm', {
      platform: 'ecs',
      keepIdleWarm: true,
      migrations: { command: ['./migrate'], timeoutMinutes: 7 },
      database: {},
    });
  });

  test('no contract after the release (it waits for the next one); the previous release’s contract stays', () => {
    expect(v.states[STATES.contract]).toBeUndefined();
    expect(v.states[STATES.scaleDownOld]).toBeUndefined();
    expect(v.states[STATES.waitBeforeScaleDown].Next).toBe(STATES.finish);
    expect(v.runTaskStates()).toEqual([STATES.backfill, STATES.previousContract, STATES.expand].sort());
    expect(v.states[STATES.previousContract].Parameters?.Overrides).toEqual({
      ContainerOverrides: [{ Name: 'app', Command: ['./migrate', 'contract'] }],
    });
  });

  test('every phase gets timeoutMinutes * 60 seconds, and the steps are told the same', () => {
    for (const name of v.runTaskStates()) {
      expect(v.states[name].TimeoutSeconds).toBe(420);
    }
    expect(v.stepSettings().workflow).toMatchObject({
      keepIdleWarm: true,
      migrations: { timeoutSeconds: 420 },
    });
  });
});
