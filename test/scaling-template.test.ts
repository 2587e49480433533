/**
 * Auto scaling (config `scaling`) in the templates, on both platforms: each color's bounds rendered from the
 * release record's capacity parameter (evaluated with test/support/cfn-evaluate.ts as CloudFormation would at a
 * deploy), its target-tracking policies, the record stack's new parameters, and the IAM the workflow and the CLI
 * get for it. Without `scaling`, none of it is there (and test/snapshot.test.ts proves the templates unchanged).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { recordParameterNames } from '../lambda/shared/release-record';
import { boundsFor, parseRecordedCapacity, type ScalingSettings } from '../lambda/shared/scaling';
import { CfnEvaluator } from './support/cfn-evaluate';
import { resourcesOfType, synth, type CfnTemplate, type Synthesized } from './support/synth';

const names = recordParameterNames('shop');
const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const SETTINGS: ScalingSettings = { minCount: 2, maxCount: 20 };
const ECS_SCALING = {
  ...SETTINGS,
  targets: { requestsPerTarget: 1000, cpuPercent: 60, memoryPercent: 70 },
  scaleInCooldownSeconds: 600,
  scaleOutCooldownSeconds: 30,
};
const ASG_SCALING = { ...SETTINGS, targets: { requestsPerTarget: 1000, cpuPercent: 60 } };

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}
const text = (v: unknown) => JSON.stringify(v);

/** The statements of the policies attached to a role whose logical id contains `role`. */
function statementsOf(t: CfnTemplate, role: string): Statement[] {
  return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((p) => text(p.Roles).includes(role))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
}
const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => [s.Action].flat().includes(action));

/** What the record holds at a deploy. */
function recordSays(live: 'blue' | 'green', blue: string, green: string): Record<string, string> {
  return {
    RecordLiveColor: live,
    RecordBlueImage: `${REPO}:v1`,
    RecordGreenImage: `${REPO}:v1`,
    RecordProductionWeights: live === 'blue' ? '100,0' : '0,100',
    RecordBlueCapacity: blue,
    RecordGreenCapacity: green,
  };
}

function logicalIdOf(s: Synthesized, construct: { node: { defaultChild?: unknown } }): string {
  return s.stacks.service.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}

describe('scaling on ecs: a scalable target per color, bounds from the record', () => {
  const s = synth({ scaling: ECS_SCALING });
  const t = s.serviceJson;
  const target = (color: 'blue' | 'green') =>
    logicalIdOf(s, { node: { defaultChild: s.stacks.service.colors[color].scaling!.scalableTarget } });

  test('the record stack creates both capacity parameters "auto", once, with the others', () => {
    for (const color of ['blue', 'green'] as const) {
      s.record.hasResourceProperties('Custom::BluegreenRecordParameter', {
        Create: Match.serializedJson(
          Match.objectLike({
            action: 'putParameter',
            parameters: Match.objectLike({ Name: names.capacity[color], Value: 'auto' }),
            ignoreErrorCodesMatching: 'ParameterAlreadyExists',
          }),
        ),
      });
    }
    const initializers = Object.values(s.record.findResources('Custom::BluegreenRecordParameter'));
    expect(initializers).toHaveLength(6);
    for (const r of initializers) {
      expect(r.Properties).not.toHaveProperty('Update');
      expect(r.Properties).not.toHaveProperty('Delete');
    }
    // The initializer may write exactly the six record parameters.
    const [statement] = Object.values(s.record.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(statement.Resource).toHaveLength(6);
    expect(text(statement.Resource)).toContain(`:parameter${names.capacity.green}"`);
  });

  test('the service stack reads both capacity parameters from SSM at every deploy', () => {
    expect(t.Parameters).toMatchObject({
      RecordBlueCapacity: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.capacity.blue },
      RecordGreenCapacity: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.capacity.green },
    });
  });

  test('the services still have no desired count for a deploy to reset (the scalable target moves it)', () => {
    for (const service of Object.values(resourcesOfType(t, 'AWS::ECS::Service'))) {
      expect(service).not.toHaveProperty('DesiredCount');
    }
  });

  test("each color's service is its scalable target (ecs:service:DesiredCount), scale-out never suspended", () => {
    const targets = resourcesOfType(t, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(Object.keys(targets).sort()).toEqual([target('blue'), target('green')].sort());
    for (const color of ['blue', 'green'] as const) {
      const props = new CfnEvaluator(t, recordSays('blue', 'auto', 'auto'), { placeholders: true }).resource(
        target(color),
      );
      expect(props).toMatchObject({
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: `service/<Ref ClusterEB0386A7>/<${logicalIdOf(s, s.stacks.service.colors[color].ecs!.service)}.Name>`,
        SuspendedState: { DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
      });
    }
  });

  /** A color's bounds as a deploy renders them, in scaling.ts's terms. */
  const rendered = (record: Record<string, string>, color: 'blue' | 'green') => {
    const props = new CfnEvaluator(t, record).resource(target(color));
    // MinCapacity and MaxCapacity are integers: literal numbers, or whole-number strings from the record.
    for (const bound of [props.MinCapacity, props.MaxCapacity]) {
      expect(String(bound)).toMatch(/^\d+$/);
    }
    return {
      min: Number(props.MinCapacity),
      max: Number(props.MaxCapacity),
      scaleInSuspended: (props.SuspendedState as { DynamicScalingInSuspended: boolean })
        .DynamicScalingInSuspended,
    };
  };

  test.each([
    ['between releases, blue live', 'blue', 'auto', 'auto'],
    ['between releases, green live', 'green', 'auto', 'auto'],
    ['mid-release: green held at 4..20, blue live', 'blue', 'auto', '4,20'],
    ['mid-release: both held', 'blue', '6,20', '6,20'],
    ['green live, blue pinned warm at 5', 'green', '5,5', 'auto'],
    ['a held bound beyond the configured max', 'green', 'auto', '30,30'],
  ] as const)('%s: the bounds are boundsFor() of the record', (_what, live, blue, green) => {
    const record = recordSays(live, blue, green);
    for (const color of ['blue', 'green'] as const) {
      const recorded = parseRecordedCapacity(
        record[color === 'blue' ? 'RecordBlueCapacity' : 'RecordGreenCapacity'],
      )!;
      expect(rendered(record, color)).toEqual(boundsFor(recorded, color === live, SETTINGS));
    }
  });

  test('one target-tracking policy per target, on its own color, with the cooldowns', () => {
    const policies = resourcesOfType(t, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(Object.keys(policies)).toHaveLength(6);
    for (const color of ['blue', 'green'] as const) {
      const own = Object.values(policies).filter(
        (p) => text(p.ScalingTargetId) === text({ Ref: target(color) }),
      );
      const tg = logicalIdOf(s, s.stacks.service.colors[color].targetGroup);
      expect(own.map((p) => p.TargetTrackingScalingPolicyConfiguration)).toEqual(
        expect.arrayContaining([
          {
            PredefinedMetricSpecification: {
              PredefinedMetricType: 'ALBRequestCountPerTarget',
              // app/<lb>/<id>/targetgroup/<tg>/<id>: the production load balancer and this color's target group.
              ResourceLabel: {
                'Fn::Join': [
                  '',
                  [
                    { 'Fn::GetAtt': [expect.stringMatching(/^PublicLoadBalancer/), 'LoadBalancerFullName'] },
                    '/',
                    { 'Fn::GetAtt': [tg, 'TargetGroupFullName'] },
                  ],
                ],
              },
            },
            TargetValue: 1000,
            ScaleInCooldown: 600,
            ScaleOutCooldown: 30,
          },
          {
            PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
            TargetValue: 60,
            ScaleInCooldown: 600,
            ScaleOutCooldown: 30,
          },
          {
            PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageMemoryUtilization' },
            TargetValue: 70,
            ScaleInCooldown: 600,
            ScaleOutCooldown: 30,
          },
        ]),
      );
      // Scale-in is suspended on the target (held bounds), never per policy.
      for (const p of own) {
        expect(p.TargetTrackingScalingPolicyConfiguration).not.toHaveProperty('DisableScaleIn');
      }
    }
    // The request-count policies wait for the listeners (the target group must be behind the load balancer).
    const requestPolicies = Object.entries(t.Resources).filter(
      ([, r]) =>
        r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy' &&
        text(r).includes('ALBRequestCountPerTarget'),
    );
    expect(requestPolicies).toHaveLength(2);
    for (const [, r] of requestPolicies) {
      expect(r.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/^PublicLoadBalancerProduction/)]),
      );
    }
  });

  test('only the configured targets get a policy', () => {
    const cpuOnly = synth({ scaling: { ...SETTINGS, targets: { cpuPercent: 50 } } }).serviceJson;
    const policies = Object.values(resourcesOfType(cpuOnly, 'AWS::ApplicationAutoScaling::ScalingPolicy'));
    expect(policies).toHaveLength(2);
    expect(policies.map((p) => text(p))).toEqual([
      expect.stringContaining('"ECSServiceAverageCPUUtilization"'),
      expect.stringContaining('"ECSServiceAverageCPUUtilization"'),
    ]);
    // The documented cooldowns when none is given.
    expect(policies[0].TargetTrackingScalingPolicyConfiguration).toMatchObject({
      ScaleInCooldown: 300,
      ScaleOutCooldown: 60,
    });
  });

  test("the steps that change a color's capacity may set its bounds and write them in the record, nothing wider", () => {
    // A shift step never changes capacity (the catch-up is the switch's): it gets none of it.
    expect(
      withAction(
        statementsOf(t, 'ReleaseWorkflowStepsShiftRole'),
        'application-autoscaling:RegisterScalableTarget',
      ),
    ).toEqual([]);
    for (const step of ['Deploy', 'Switch', 'Finish', 'Abort', 'Rollback', 'Stopped', 'RollbackFailed']) {
      const statements = statementsOf(t, `ReleaseWorkflowSteps${step}Role`);
      const register = withAction(statements, 'application-autoscaling:RegisterScalableTarget');
      expect(register).toHaveLength(1);
      expect(register[0].Resource).toEqual({
        'Fn::Join': [
          '',
          ['arn:aws:application-autoscaling:eu-west-1:', { Ref: 'AWS::AccountId' }, ':scalable-target/*'],
        ],
      });
      // RegisterScalableTarget on an ECS service checks these on the service: this app's two only.
      const update = withAction(statements, 'ecs:UpdateService');
      expect(update.length).toBeGreaterThan(0);
      for (const st of update) {
        expect([st.Resource].flat()).toHaveLength(2);
        expect(text(st.Resource)).toMatch(/BlueService.*GreenService/);
      }
      expect(withAction(statements, 'application-autoscaling:DescribeScalableTargets')[0].Resource).toBe('*');
      const put = withAction(statements, 'ssm:PutParameter');
      expect(text(put)).toContain(`:parameter${names.capacity.blue}"`);
      expect(text(put)).toContain(`:parameter${names.capacity.green}"`);
    }
    // A step that only reads reads the bounds, and sets none.
    const prepare = statementsOf(t, 'ReleaseWorkflowStepsPrepareRole');
    expect(withAction(prepare, 'application-autoscaling:RegisterScalableTarget')).toEqual([]);
    expect(withAction(prepare, 'application-autoscaling:DescribeScalableTargets')).toEqual([]); // it reads no capacity
    expect(
      withAction(
        statementsOf(t, 'ReleaseWorkflowStepsValidateRole'),
        'application-autoscaling:DescribeScalableTargets',
      ),
    ).toEqual([]);
  });

  test('every policy that reads or writes the record covers both capacity parameters (one GetParameters call)', () => {
    const statements = Object.values({
      ...resourcesOfType(t, 'AWS::IAM::Policy'),
      ...resourcesOfType(t, 'AWS::IAM::ManagedPolicy'),
    }).flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
    const onRecord = statements.filter(
      (st) =>
        [st.Action].flat().some((a) => a === 'ssm:GetParameters' || a === 'ssm:PutParameter') &&
        text(st.Resource).includes(`:parameter${names.liveColor}"`),
    );
    expect(onRecord.length).toBeGreaterThan(5);
    for (const st of onRecord) {
      expect(text(st.Resource)).toContain(`:parameter${names.capacity.blue}"`);
      expect(text(st.Resource)).toContain(`:parameter${names.capacity.green}"`);
    }
  });

  test("the CLI reads each color's bounds; operators may set them back", () => {
    const operator = Object.values(resourcesOfType(t, 'AWS::IAM::ManagedPolicy'))[0].PolicyDocument as {
      Statement: Statement[];
    };
    const bySid = Object.fromEntries(operator.Statement.map((st) => [st.Sid, st]));
    expect(bySid.ReadScaling).toMatchObject({
      Action: 'application-autoscaling:DescribeScalableTargets',
      Resource: '*',
    });
    expect(bySid.RestoreScaling).toMatchObject({ Action: 'application-autoscaling:RegisterScalableTarget' });
    expect(text(bySid.ReadRecord.Resource)).toContain(`:parameter${names.capacity.green}"`);
  });

  test("the dashboard draws each color's task count (Container Insights, which the cluster enables)", () => {
    const body = text(Object.values(resourcesOfType(t, 'AWS::CloudWatch::Dashboard'))[0].DashboardBody);
    expect(body).toContain('ECS/ContainerInsights');
    expect(body).toContain('RunningTaskCount');
    expect(body).toContain('DesiredTaskCount');
  });
});

describe("scaling on asg: each group's min and max from the record, target tracking on the groups", () => {
  const s = synth({ platform: 'asg', instances: { maxCount: 20 }, scaling: ASG_SCALING });
  const t = s.serviceJson;
  const ami = Object.keys(t.Parameters ?? {}).find((k) => k.includes('al2023'))!;
  const deploy = (live: 'blue' | 'green', blue: string, green: string) =>
    new CfnEvaluator(
      t,
      { ...recordSays(live, blue, green), [ami]: 'ami-0123456789abcdef0' },
      { placeholders: true },
    );
  const group = (color: 'blue' | 'green') => logicalIdOf(s, s.stacks.service.colors[color].asg!.group);
  const policiesOf = (color: 'blue' | 'green') =>
    Object.keys(resourcesOfType(t, 'AWS::AutoScaling::ScalingPolicy')).filter(
      (id) => text(t.Resources[id].Properties!.AutoScalingGroupName) === text({ Ref: group(color) }),
    );

  /** A color's bounds as a deploy renders them: the group's MinSize/MaxSize and its policies' DisableScaleIn. */
  const rendered = (d: CfnEvaluator, color: 'blue' | 'green') => {
    const g = d.resource(group(color));
    expect([g.MinSize, g.MaxSize]).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    const disabled = policiesOf(color).map(
      (id) => (d.resource(id).TargetTrackingConfiguration as { DisableScaleIn: boolean }).DisableScaleIn,
    );
    expect(new Set(disabled).size).toBe(1);
    return { min: Number(g.MinSize), max: Number(g.MaxSize), scaleInSuspended: disabled[0] };
  };

  test.each([
    ['between releases, blue live', 'blue', 'auto', 'auto'],
    ['mid-release: green held at 4..20', 'blue', 'auto', '4,20'],
    ['green live, blue pinned warm at 3', 'green', '3,3', 'auto'],
  ] as const)('%s: the bounds are boundsFor() of the record', (_what, live, blue, green) => {
    const d = deploy(live, blue, green);
    for (const [color, value] of [
      ['blue', blue],
      ['green', green],
    ] as const) {
      expect(rendered(d, color)).toEqual(boundsFor(parseRecordedCapacity(value)!, color === live, SETTINGS));
    }
  });

  test('the groups still have no desired capacity for a deploy to reset', () => {
    for (const color of ['blue', 'green'] as const) {
      expect(deploy('blue', 'auto', 'auto').resource(group(color))).not.toHaveProperty('DesiredCapacity');
    }
  });

  test('a request-count and a CPU policy per group, no cooldowns (EC2 target tracking has none)', () => {
    for (const color of ['blue', 'green'] as const) {
      const configs = policiesOf(color).map((id) => {
        const p = deploy('blue', 'auto', 'auto').resource(id);
        expect(p).toMatchObject({ PolicyType: 'TargetTrackingScaling' });
        expect(p).not.toHaveProperty('Cooldown');
        return p.TargetTrackingConfiguration as {
          PredefinedMetricSpecification: { PredefinedMetricType: string };
          TargetValue: number;
        };
      });
      expect(
        configs.map((c) => [c.PredefinedMetricSpecification.PredefinedMetricType, c.TargetValue]).sort(),
      ).toEqual([
        ['ALBRequestCountPerTarget', 1000],
        ['ASGAverageCPUUtilization', 60],
      ]);
    }
  });

  test("the steps that change a color's capacity may update its group and its policies, by name", () => {
    expect(
      withAction(statementsOf(t, 'ReleaseWorkflowStepsShiftRole'), 'autoscaling:PutScalingPolicy'),
    ).toEqual([]);
    for (const step of ['Deploy', 'Switch', 'Finish', 'Abort', 'Rollback', 'Stopped', 'RollbackFailed']) {
      const statements = statementsOf(t, `ReleaseWorkflowSteps${step}Role`);
      const put = withAction(statements, 'autoscaling:PutScalingPolicy');
      expect(put).toHaveLength(1);
      expect([put[0].Resource].flat()).toHaveLength(2);
      expect(text(put[0].Resource)).toContain(':autoScalingGroupName/shop-blue"');
      expect(text(put[0].Resource)).toContain(':autoScalingGroupName/shop-green"');
      expect(withAction(put, 'autoscaling:UpdateAutoScalingGroup')).toHaveLength(1);
      expect(withAction(statements, 'autoscaling:DescribePolicies')[0].Resource).toBe('*');
    }
  });

  test("the dashboard draws each group's desired and in-service count (group metrics)", () => {
    const body = text(Object.values(resourcesOfType(t, 'AWS::CloudWatch::Dashboard'))[0].DashboardBody);
    expect(body).toContain('GroupDesiredCapacity');
    expect(body).toContain('GroupInServiceInstances');
  });
});

describe('without scaling, nothing of it', () => {
  test.each([
    ['ecs', {}],
    ['asg', { platform: 'asg' as const }],
  ])('%s', (_platform, overrides) => {
    const s = synth(overrides);
    const t = s.serviceJson;
    for (const type of [
      'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      'AWS::AutoScaling::ScalingPolicy',
    ]) {
      expect(resourcesOfType(t, type)).toEqual({});
    }
    expect(Object.keys(t.Parameters ?? {})).not.toContain('RecordBlueCapacity');
    expect(Object.keys(t.Conditions ?? {})).toEqual(['BlueIsLive']);
    expect(text(t)).not.toContain('/capacity"');
    expect(text(s.record.toJSON())).not.toContain('/capacity');
    expect(s.stacks.service.workflow).toBeDefined();
  });
});

describe.each([
  ['ecs', ECS_SCALING, 'application-autoscaling:RegisterScalableTarget'],
  ['asg', ASG_SCALING, 'autoscaling:PutScalingPolicy'],
] as const)(
  'keepIdleWarm with scaling on %s: the idle color follows the live one',
  (platform, scaling, write) => {
    const t = synth({ platform, instances: { maxCount: 20 }, scaling, keepIdleWarm: true }).serviceJson;

    test('a follow-live step, run every minute by a schedule, with the lock, the record and the capacity calls', () => {
      const rules = Object.values(resourcesOfType(t, 'AWS::Events::Rule')).filter(
        (r) => (r as { ScheduleExpression?: string }).ScheduleExpression === 'rate(1 minute)',
      );
      expect(rules).toHaveLength(1);
      const statements = statementsOf(t, 'ReleaseWorkflowStepsFollowLiveRole');
      expect(withAction(statements, write)).toHaveLength(1);
      expect(withAction(statements, 'dynamodb:DeleteItem')).toHaveLength(1);
      expect(withAction(statements, 'ssm:PutParameter')).toHaveLength(1);
      expect(text(withAction(statements, 'ssm:PutParameter')[0].Resource)).toContain('/capacity');
      expect(text(withAction(statements, 'ssm:PutParameter')[0].Resource)).not.toContain('live-color');
    });

    test('without keepIdleWarm (or without scaling), no follower', () => {
      for (const config of [
        { platform, instances: { maxCount: 20 }, scaling },
        { platform, keepIdleWarm: true },
      ]) {
        const plain = synth(config).serviceJson;
        expect(
          Object.keys(resourcesOfType(plain, 'AWS::IAM::Role')).filter((id) => id.includes('FollowLive')),
        ).toEqual([]);
      }
    });
  },
);
