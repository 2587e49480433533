/**
 * "A stack update must never undo a release."
 *
 * GIVEN a release that switched traffic to green and gave green a new image (the workflow wrote the listener,
 * the ECS service and the release record), WHEN a later `cdk deploy` ships an unrelated change, THEN the
 * listener still forwards to green, green still runs its new image, and neither service's task count moves.
 *
 * CloudFormation only rewrites what the template says. These tests check, on the synthesized template, that
 * everything a release changes is either read from the record at deploy time or not in the template at all.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { recordParameterNames } from '../lambda/shared/release-record';
import { CfnEvaluator } from './support/cfn-evaluate';
import { resourcesOfType, synth, type CfnTemplate } from './support/synth';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop';
const names = recordParameterNames('shop');

/**
 * Deploy-time parameter values: what the record holds when `cdk deploy` runs. The production weights, as the
 * workflow wrote them ("<blue>,<green>"), default to all on the live color (between releases).
 */
function recordSays(
  live: 'blue' | 'green',
  blueImage: string,
  greenImage: string,
  weights = live === 'blue' ? '100,0' : '0,100',
): Record<string, string> {
  return {
    RecordLiveColor: live,
    RecordBlueImage: blueImage,
    RecordGreenImage: greenImage,
    RecordProductionWeights: weights,
  };
}

function idOf(t: CfnTemplate, type: string, predicate: (props: Record<string, unknown>) => boolean): string {
  const match = Object.entries(resourcesOfType(t, type)).find(([, p]) => predicate(p));
  if (!match) {
    throw new Error(`no ${type} matches`);
  }
  return match[0];
}

type Forward = {
  ForwardConfig: { TargetGroups: { TargetGroupArn: { Ref: string }; Weight: number | string }[] };
};

/**
 * Target group logical id → weight, for a resolved forward action. A weight taken from a parameter resolves to a
 * string ("900"), which ALB's integer Weight accepts when it is a whole number; anything else fails here.
 */
function weights(actions: unknown): Record<string, number> {
  const [forward] = actions as Forward[];
  return Object.fromEntries(
    forward.ForwardConfig.TargetGroups.map((g) => {
      expect(String(g.Weight)).toMatch(/^\d+$/);
      return [g.TargetGroupArn.Ref, Number(g.Weight)];
    }),
  );
}

describe('a stack update never undoes a release', () => {
  const { serviceJson: t, stacks } = synth();
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stacks.service.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;
  const blueTg = logicalId(stacks.service.colors.blue.targetGroup);
  const greenTg = logicalId(stacks.service.colors.green.targetGroup);
  const production = logicalId(stacks.service.traffic.productionListener);
  const testRule = logicalId(stacks.service.traffic.testRule);

  test('the record is read from SSM at every deploy, not baked into the template', () => {
    expect(t.Parameters).toMatchObject({
      RecordLiveColor: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.liveColor },
      RecordBlueImage: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.image.blue },
      RecordGreenImage: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.image.green },
      RecordProductionWeights: { Type: 'AWS::SSM::Parameter::Value<String>', Default: names.weights },
    });
  });

  test('a deploy during a canary (blue live, green 10%) writes exactly the split the record holds', () => {
    const deploy = new CfnEvaluator(t, recordSays('blue', `${REPO}:v1`, `${REPO}:v2`, '900,100'));
    expect(weights(deploy.resource(production).DefaultActions)).toEqual({ [blueTg]: 900, [greenTg]: 100 });
    // The test listener keeps following the live color: to the idle one, green.
    expect(weights(deploy.resource(testRule).Actions)).toEqual({ [blueTg]: 0, [greenTg]: 100 });
    expect(deploy.failedRules()).toEqual([]);
  });

  test('with stickiness configured, a deploy keeps it on while the record holds a split, off once it does not', () => {
    const sticky = synth({ release: { analysis: { stickySeconds: 900 } } }).serviceJson;
    const stickiness = (recorded: string, live: 'blue' | 'green') =>
      (
        new CfnEvaluator(sticky, recordSays(live, `${REPO}:v1`, `${REPO}:v2`, recorded)).resource(production)
          .DefaultActions as { ForwardConfig: { TargetGroupStickinessConfig: unknown } }[]
      )[0].ForwardConfig.TargetGroupStickinessConfig;
    expect(stickiness('900,100', 'blue')).toEqual({ Enabled: true, DurationSeconds: 900 });
    expect(stickiness('250,750', 'green')).toEqual({ Enabled: true, DurationSeconds: 900 });
    expect(stickiness('100,0', 'blue')).toEqual({ Enabled: false, DurationSeconds: 900 });
    expect(stickiness('0,100', 'green')).toEqual({ Enabled: false, DurationSeconds: 900 });
    // Without stickiness configured, the template has none (the workflow switches it off in every change).
    const plain = new CfnEvaluator(t, recordSays('blue', `${REPO}:v1`, `${REPO}:v2`, '900,100'));
    const action = (plain.resource(production).DefaultActions as { ForwardConfig: object }[])[0];
    expect(action.ForwardConfig).not.toHaveProperty('TargetGroupStickinessConfig.Enabled', true);
  });

  test('each step of a linear shift from green to blue, and its end, is what a deploy writes', () => {
    for (const [recorded, blue, green] of [
      ['250,750', 250, 750],
      ['500,500', 500, 500],
      ['999,1', 999, 1],
    ] as const) {
      const deploy = new CfnEvaluator(t, recordSays('green', `${REPO}:v3`, `${REPO}:v2`, recorded));
      expect(weights(deploy.resource(production).DefaultActions)).toEqual({
        [blueTg]: blue,
        [greenTg]: green,
      });
      expect(deploy.failedRules()).toEqual([]);
    }
    // The final switch wrote "100,0", then the live color blue.
    const after = new CfnEvaluator(t, recordSays('blue', `${REPO}:v3`, `${REPO}:v2`, '100,0'));
    expect(weights(after.resource(production).DefaultActions)).toEqual({ [blueTg]: 100, [greenTg]: 0 });
    expect(weights(after.resource(testRule).Actions)).toEqual({ [blueTg]: 0, [greenTg]: 100 });
  });

  test('weights that are not two numbers fail the listener update (Fn::Select out of bounds is a stack error)', () => {
    // Rules cannot split a string, so the shape is not checked before the deploy; CloudFormation fails the
    // listener's update instead and rolls back. (The record store refuses to read or write such a value.)
    const deploy = new CfnEvaluator(t, recordSays('blue', `${REPO}:v1`, `${REPO}:v1`, '900'));
    expect(deploy.failedRules()).toEqual([]);
    expect(() => deploy.resource(production)).toThrow('Fn::Select: index 1 out of bounds of ["900"]');
  });

  test.each([
    ['green', '100,0', 'says green is live, but'],
    ['green', '0,0', 'says green is live, but'],
    ['blue', '0,100', 'says blue is live, but'],
    ['blue', '0,0', 'says blue is live, but'],
  ] as const)(
    'a record whose weights give its live color nothing (%s, "%s") stops the deploy, saying how to fix it',
    (live, recorded, says) => {
      const deploy = new CfnEvaluator(t, recordSays(live, `${REPO}:v1`, `${REPO}:v1`, recorded));
      const [failed, ...others] = deploy.failedRules();
      expect(others).toEqual([]);
      expect(failed).toContain(
        `${names.liveColor} ${says} ${names.weights} gives ${live} no production traffic`,
      );
      expect(failed).toContain(`aws ssm put-parameter --overwrite --name ${names.weights} --value`);
    },
  );

  test('after a release to green, a deploy writes the listeners as the record says: production → green', () => {
    const deploy = new CfnEvaluator(t, recordSays('green', `${REPO}:v1`, `${REPO}:v2`));
    expect(weights(deploy.resource(production).DefaultActions)).toEqual({ [blueTg]: 0, [greenTg]: 100 });
    // and the test listener to the idle color, now blue
    expect(weights(deploy.resource(testRule).Actions)).toEqual({ [blueTg]: 100, [greenTg]: 0 });
    expect(deploy.failedRules()).toEqual([]);
  });

  test('before any release (record says blue), production → blue and test → green', () => {
    const deploy = new CfnEvaluator(t, recordSays('blue', `${REPO}:v1`, `${REPO}:v1`));
    expect(weights(deploy.resource(production).DefaultActions)).toEqual({ [blueTg]: 100, [greenTg]: 0 });
    expect(weights(deploy.resource(testRule).Actions)).toEqual({ [blueTg]: 0, [greenTg]: 100 });
  });

  test("each color's task definition carries the image the record holds for it", () => {
    const deploy = new CfnEvaluator(t, recordSays('green', `${REPO}:v1`, `${REPO}:v2`));
    const image = (family: string) => {
      const id = idOf(t, 'AWS::ECS::TaskDefinition', (p) => p.Family === family);
      return (deploy.resource(id).ContainerDefinitions as { Image: string }[])[0].Image;
    };
    expect(image('shop-green')).toBe(`${REPO}:v2`);
    expect(image('shop-blue')).toBe(`${REPO}:v1`);
  });

  test('the services follow the latest task definition revision and have no desired count to reset', () => {
    const services = resourcesOfType(t, 'AWS::ECS::Service');
    expect(Object.values(services).map((s) => s.TaskDefinition)).toEqual(['shop-blue', 'shop-green']);
    for (const s of Object.values(services)) {
      expect(s).not.toHaveProperty('DesiredCount');
    }
  });

  test('the initial task counts are set once, at creation, from the record (never on update)', () => {
    const initializers = resourcesOfType(t, 'Custom::BluegreenInitialCapacity');
    expect(Object.keys(initializers)).toHaveLength(2);
    for (const props of Object.values(initializers)) {
      expect(props).toHaveProperty('Create');
      expect(props).not.toHaveProperty('Update');
    }
    const desired = (live: 'blue' | 'green') => {
      const deploy = new CfnEvaluator(t, recordSays(live, `${REPO}:v1`, `${REPO}:v1`), {
        placeholders: true,
      });
      return Object.values(initializers).map((p) => {
        const call = JSON.parse(deploy.value(p.Create) as string) as {
          action: string;
          parameters: { service: string; desiredCount: number };
        };
        expect(call.action).toBe('updateService');
        return `${call.parameters.service.replace(/^<(Blue|Green)Service\w+\.Name>$/, '$1')}=${call.parameters.desiredCount}`;
      });
    };
    // The live color gets container.desiredCount tasks, the idle one none (keepIdleWarm: false).
    expect(desired('blue')).toEqual(['Blue=2', 'Green=0']);
    expect(desired('green')).toEqual(['Blue=0', 'Green=2']);
  });

  test('a corrupted record stops the deploy before it changes anything', () => {
    const deploy = new CfnEvaluator(t, recordSays('purple' as 'blue', `${REPO}:v1`, `${REPO}:v1`));
    expect(deploy.failedRules()).toEqual([
      expect.stringContaining(`${names.liveColor} must be "blue" or "green"`),
    ]);
  });

  test('an update that does rewrite the listeners and services still writes what the record says', () => {
    // Adding HTTPS rewrites the production listener; a new grace period rewrites both services.
    const touched = synth({
      listeners: {
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
        domainName: 'shop.example.com',
      },
      healthCheck: { gracePeriodSeconds: 90 },
    });
    const t2 = touched.serviceJson;
    expect(resourcesOfType(t2, 'AWS::ECS::Service')).not.toEqual(resourcesOfType(t, 'AWS::ECS::Service'));
    const deploy = new CfnEvaluator(t2, recordSays('green', `${REPO}:v1`, `${REPO}:v2`));
    const https = idOf(t2, 'AWS::ElasticLoadBalancingV2::Listener', (p) => p.Port === 443);
    expect(weights(deploy.resource(https).DefaultActions)).toEqual({ [blueTg]: 0, [greenTg]: 100 });
    for (const service of Object.keys(resourcesOfType(t2, 'AWS::ECS::Service'))) {
      const props = deploy.resource(service);
      expect(props).not.toHaveProperty('DesiredCount');
      expect(props.TaskDefinition).toMatch(/^shop-(blue|green)$/);
    }
  });

  test('an unrelated change (alarm thresholds, log retention) leaves listeners, services and tasks untouched', () => {
    const changed = synth({
      alarms: { http5xxCount: 50, p99LatencyMs: 2500 },
      logRetentionDays: 90,
    }).serviceJson;
    const releaseCritical = [
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::ECS::Service',
      'AWS::ECS::TaskDefinition',
    ];
    for (const type of releaseCritical) {
      expect(resourcesOfType(changed, type)).toEqual(resourcesOfType(t, type));
    }
    // The change itself did land.
    expect(resourcesOfType(changed, 'AWS::CloudWatch::Alarm')).not.toEqual(
      resourcesOfType(t, 'AWS::CloudWatch::Alarm'),
    );
  });
});

describe('a stack update never undoes a release (asg platform)', () => {
  const { serviceJson: t, stacks } = synth({ platform: 'asg' });
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stacks.service.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;
  // The AMI is a deploy-time parameter too (Amazon Linux 2023's public SSM parameter).
  const ami = Object.keys(t.Parameters ?? {}).find((k) => k.includes('al2023'))!;
  const deployWith = (values: Record<string, string>, options?: { placeholders: boolean }) =>
    new CfnEvaluator(t, { ...values, [ami]: 'ami-0123456789abcdef0' }, options);
  const userData = (deploy: CfnEvaluator, color: 'blue' | 'green') => {
    const template = deploy.resource(logicalId(stacks.service.colors[color].asg!.launchTemplate)) as {
      LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } };
    };
    return String(template.LaunchTemplateData.UserData['Fn::Base64']);
  };

  test('after a release to green, a deploy renders each launch template with the image the record names', () => {
    const deploy = deployWith(recordSays('green', `${REPO}:v1`, `${REPO}:v2`), { placeholders: true });
    expect(userData(deploy, 'green')).toContain(`BLUEGREEN_IMAGE='${REPO}:v2'\n`);
    expect(userData(deploy, 'blue')).toContain(`BLUEGREEN_IMAGE='${REPO}:v1'\n`);
  });

  test('groups: no desired count, fixed min and max, the launch template version CloudFormation made last', () => {
    const deploy = deployWith(recordSays('green', `${REPO}:v1`, `${REPO}:v2`), { placeholders: true });
    for (const color of ['blue', 'green'] as const) {
      const group = deploy.resource(logicalId(stacks.service.colors[color].asg!.group));
      expect(group).not.toHaveProperty('DesiredCapacity');
      expect(group).toMatchObject({ MinSize: '0', MaxSize: '10' });
      // A version the release workflow created stays until CloudFormation itself changes the template (and then
      // the new version carries the recorded image, as above).
      expect(group.LaunchTemplate).toMatchObject({ Version: expect.stringMatching(/LatestVersionNumber>$/) });
    }
  });

  test('an unrelated change leaves listeners, target groups, groups and launch templates untouched', () => {
    const changed = synth({
      platform: 'asg',
      alarms: { http5xxCount: 50 },
      logRetentionDays: 90,
    }).serviceJson;
    for (const type of [
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::EC2::LaunchTemplate',
    ]) {
      expect(resourcesOfType(changed, type)).toEqual(resourcesOfType(t, type));
    }
  });
});

describe.each(['ecs', 'asg'] as const)(
  'a stack update never undoes a release: scaling bounds (%s)',
  (platform) => {
    const scaling = (minCount: number, maxCount: number) => ({
      platform,
      instances: { maxCount: 30 },
      container: { desiredCount: minCount },
      scaling: { minCount, maxCount, targets: { cpuPercent: 60 } },
    });
    const configured = synth(scaling(2, 20));
    const ami = (t: CfnTemplate) => Object.keys(t.Parameters ?? {}).find((k) => k.includes('al2023'));
    /** What a deploy writes for `color`'s bounds, with the record holding `blue` and `green` capacity values. */
    const bounds = (
      s: ReturnType<typeof synth>,
      live: 'blue' | 'green',
      capacity: { blue: string; green: string },
      color: 'blue' | 'green',
    ) => {
      const t = s.serviceJson;
      const values: Record<string, string> = {
        ...recordSays(live, `${REPO}:v1`, `${REPO}:v2`),
        RecordBlueCapacity: capacity.blue,
        RecordGreenCapacity: capacity.green,
      };
      const amiParameter = ami(t);
      if (amiParameter) {
        values[amiParameter] = 'ami-0123456789abcdef0';
      }
      const deploy = new CfnEvaluator(t, values);
      expect(deploy.failedRules()).toEqual([]);
      const c = s.stacks.service.colors[color];
      if (platform === 'ecs') {
        const id = s.stacks.service.resolve(c.scaling!.scalableTarget!.logicalId) as string;
        const target = deploy.resource(id);
        return `${String(target.MinCapacity)}..${String(target.MaxCapacity)}${
          (target.SuspendedState as { DynamicScalingInSuspended: boolean }).DynamicScalingInSuspended
            ? ' held'
            : ''
        }`;
      }
      const group = deploy.resource(
        s.stacks.service.resolve((c.asg!.group.node.defaultChild as CfnElement).logicalId) as string,
      );
      const policy = c.scaling!.policies[0].node.defaultChild as CfnElement;
      const disabled = (
        deploy.resource(s.stacks.service.resolve(policy.logicalId) as string).TargetTrackingConfiguration as {
          DisableScaleIn: boolean;
        }
      ).DisableScaleIn;
      return `${String(group.MinSize)}..${String(group.MaxSize)}${disabled ? ' held' : ''}`;
    };

    test('mid-release (green held at 4..20, blue live and auto), a deploy writes exactly those bounds', () => {
      const record = { blue: 'auto', green: '4,20' };
      expect(bounds(configured, 'blue', record, 'green')).toBe('4..20 held');
      expect(bounds(configured, 'blue', record, 'blue')).toBe('2..20');
    });

    test('between releases, the idle color ("auto") is held at 0..0 and the live one scales freely', () => {
      expect(bounds(configured, 'green', { blue: 'auto', green: 'auto' }, 'blue')).toBe('0..0');
      expect(bounds(configured, 'green', { blue: 'auto', green: 'auto' }, 'green')).toBe('2..20');
      // Pinned warm (keepIdleWarm, or left running by a stopped release): its count, scale-in suspended.
      expect(bounds(configured, 'green', { blue: '6,6', green: 'auto' }, 'blue')).toBe('6..6 held');
    });

    test('a config change of min and max does not reset a held color; the live "auto" one takes the new bounds', () => {
      const changed = synth(scaling(3, 30));
      const record = { blue: 'auto', green: '4,20' };
      expect(bounds(changed, 'blue', record, 'green')).toBe('4..20 held');
      expect(bounds(changed, 'blue', record, 'blue')).toBe('3..30');
    });

    test('an unrelated change leaves the scaling resources untouched', () => {
      const changed = synth({
        ...scaling(2, 20),
        alarms: { http5xxCount: 50 },
        logRetentionDays: 90,
      }).serviceJson;
      for (const type of [
        'AWS::ApplicationAutoScaling::ScalableTarget',
        'AWS::ApplicationAutoScaling::ScalingPolicy',
        'AWS::AutoScaling::ScalingPolicy',
        'AWS::AutoScaling::AutoScalingGroup',
      ]) {
        expect(resourcesOfType(changed, type)).toEqual(resourcesOfType(configured.serviceJson, type));
      }
    });

    test.each([
      ['blue', { blue: '0,0', green: 'auto' }],
      ['green', { blue: 'auto', green: '0,0' }],
    ] as const)(
      'a record that pins the live color (%s) at "0,0" stops the deploy, saying how to fix it',
      (live, capacity) => {
        const t = configured.serviceJson;
        const values: Record<string, string> = {
          ...recordSays(live, `${REPO}:v1`, `${REPO}:v1`),
          RecordBlueCapacity: capacity.blue,
          RecordGreenCapacity: capacity.green,
        };
        const amiParameter = ami(t);
        if (amiParameter) {
          values[amiParameter] = 'ami-0123456789abcdef0';
        }
        const [failed, ...others] = new CfnEvaluator(t, values).failedRules();
        expect(others).toEqual([]);
        expect(failed).toContain(
          `${names.liveColor} says ${live} is live, but ${names.capacity[live]} is "0,0"`,
        );
        expect(failed).toContain(
          `aws ssm put-parameter --overwrite --name ${names.capacity[live]} --value auto`,
        );
        // The idle color at "0,0" is fine.
        const idle = live === 'blue' ? 'green' : 'blue';
        expect(bounds(configured, live, { blue: 'auto', green: 'auto', [idle]: '0,0' }, idle)).toBe(
          '0..0 held',
        );
      },
    );
  },
);
