import { CfnResource, Stack } from 'aws-cdk-lib';
import type * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Color } from '../lambda/shared/release-record';
import type { BluegreenStack } from '../lib/bluegreen-stack';
import { synth, type CfnTemplate } from './support/synth';

interface ColorResources {
  /** Logical id → path inside the color's construct. */
  readonly ids: Map<string, string>;
  readonly color: Color;
}

function colorResources(stack: BluegreenStack, color: Color): ColorResources {
  const root = stack.colors[color];
  const ids = new Map<string, string>();
  for (const r of root.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource)) {
    ids.set(Stack.of(r).resolve(r.logicalId) as string, r.node.path.slice(root.node.path.length));
  }
  return { ids, color };
}

/** A resource's JSON with every mention of the color (its logical ids, names, tags) replaced by a placeholder. */
function normalize(resource: unknown, { ids, color }: ColorResources): string {
  let json = JSON.stringify(resource);
  for (const [logicalId, path] of [...ids].sort((a, b) => b[0].length - a[0].length)) {
    json = json.split(`"${logicalId}"`).join(`"<${path}>"`);
  }
  const Color = color === 'blue' ? 'Blue' : 'Green';
  // "bluegreen" (the product's name, in tags and paths) contains both colors: keep it out of the way.
  json = json
    .replace(/bluegreen/g, '<product>')
    .split(Color)
    .join('<Color>')
    .split(color)
    .join('<color>')
    .replace(/<product>/g, 'bluegreen');
  // CDK tags some resources with a hash of their construct path, and names some (policy names) after their
  // logical id, which ends in such a hash: names, not settings.
  return json
    .replace(/"Key":"aws-cdk:id","Value":"[^"]*"/g, '"Key":"aws-cdk:id","Value":"<path hash>"')
    .replace(/(<Color>[A-Za-z]+)[0-9A-F]{8}\b/g, '$1<path hash>');
}

/** The color construct's resources, normalized, keyed by their path inside the construct. */
function normalizedColor(stack: BluegreenStack, template: CfnTemplate, color: Color): Map<string, string> {
  const own = colorResources(stack, color);
  return new Map([...own.ids].map(([id, path]) => [path, normalize(template.Resources[id], own)]));
}

/**
 * Resources outside the color constructs that belong to one color only (they reference its resources and none of
 * the other's: the load balancer's egress rule to its tasks, Redis's ingress rule from them), normalized and
 * sorted. The initial-capacity setters are left out on purpose: their count depends on which color is live.
 */
function attachedToOneColor(stack: BluegreenStack, template: CfnTemplate, color: Color): string[] {
  const own = colorResources(stack, color);
  const other = colorResources(stack, color === 'blue' ? 'green' : 'blue');
  const mentions = (json: string, c: ColorResources) =>
    [...c.ids.keys()].some((id) => json.includes(`"${id}"`));
  return Object.entries(template.Resources)
    .filter(
      ([id, r]) => !own.ids.has(id) && !other.ids.has(id) && r.Type !== 'Custom::BluegreenInitialCapacity',
    )
    .map(([, r]) => [r, JSON.stringify(r)] as const)
    .filter(([, json]) => mentions(json, own) && !mentions(json, other))
    .map(([r]) => normalize(r, own))
    .sort();
}

/** Paths whose normalized resources differ; set PARITY_DEBUG=1 to print both sides. */
function differences(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const differing = [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
  if (process.env.PARITY_DEBUG) {
    for (const k of differing) {
      console.log(`${k}\n  blue:  ${a.get(k)}\n  green: ${b.get(k)}`);
    }
  }
  return differing;
}

describe('blue and green are the same environment', () => {
  test.each([
    ['the default configuration', {}],
    [
      'Redis, HTTPS and a warm idle color',
      {
        redis: { enabled: true },
        keepIdleWarm: true,
        listeners: {
          certificateArn:
            'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
          domainName: 'shop.example.com',
        },
      },
    ],
    [
      'the asg platform (EC2 Auto Scaling groups), with Redis',
      { platform: 'asg' as const, redis: { enabled: true } },
    ],
    [
      'auto scaling on every target (ecs)',
      {
        scaling: {
          minCount: 2,
          maxCount: 20,
          targets: { requestsPerTarget: 1000, cpuPercent: 60, memoryPercent: 70 },
        },
      },
    ],
    [
      'auto scaling (asg)',
      {
        platform: 'asg' as const,
        instances: { maxCount: 20 },
        scaling: { minCount: 2, maxCount: 20, targets: { requestsPerTarget: 1000, cpuPercent: 60 } },
      },
    ],
  ])('%s: identical resources apart from names and color tags', (_what, overrides) => {
    const { stacks, serviceJson } = synth(overrides);
    const blue = normalizedColor(stacks.service, serviceJson, 'blue');
    const green = normalizedColor(stacks.service, serviceJson, 'green');
    const asg = (overrides as { platform?: string }).platform === 'asg';
    const scaling = 'scaling' in overrides;

    // The comparison covers the whole environment of a color, not a sample of it.
    const compute = asg
      ? [
          '/LaunchTemplate/Resource',
          '/Group/ASG',
          '/InstanceRole/Resource',
          '/InstanceSecurityGroup/Resource',
        ]
      : ['/TaskDefinition/Resource', '/Service/Service', '/TaskSecurityGroup/Resource'];
    // With scaling: the scalable target (ECS) and one policy per target, in each color.
    const scalingPaths = !scaling
      ? []
      : [
          ...(asg ? [] : ['/Service/TaskCount/Target/Resource', '/Scaling/Memory/Resource']),
          '/Scaling/Requests/Resource',
          '/Scaling/Cpu/Resource',
        ];
    expect([...blue.keys()].sort()).toEqual(
      expect.arrayContaining([
        '/Logs/Resource',
        ...compute,
        ...scalingPaths,
        '/TargetGroup/Resource',
        '/Http5xxAlarm/Resource',
        '/LatencyP99Alarm/Resource',
        '/UnhealthyHostsAlarm/Resource',
      ]),
    );
    expect(differences(blue, green)).toEqual([]);
    // What other parts of the stack attach to each color is the same too.
    const attachedBlue = attachedToOneColor(stacks.service, serviceJson, 'blue');
    expect(attachedBlue.length).toBeGreaterThan(0);
    expect(attachedBlue).toEqual(attachedToOneColor(stacks.service, serviceJson, 'green'));
    // And the names really are per color (the placeholders replaced something).
    expect(asg ? blue.get('/Group/ASG') : blue.get('/Service/Service')).toContain(
      asg ? '"AutoScalingGroupName":"shop-<color>"' : '"ServiceName":"shop-<color>"',
    );
  });

  test("a difference in one color's scaling is caught too", () => {
    const { stacks, serviceJson } = synth(
      { scaling: { minCount: 2, maxCount: 20, targets: { cpuPercent: 60 } } },
      (s) => {
        const cpu = s.service.colors.green.scaling!.node.findChild('Cpu').node
          .defaultChild as appscaling.CfnScalingPolicy;
        cpu.addPropertyOverride('TargetTrackingScalingPolicyConfiguration.TargetValue', 70);
      },
    );
    const blue = normalizedColor(stacks.service, serviceJson, 'blue');
    const green = normalizedColor(stacks.service, serviceJson, 'green');
    expect(differences(blue, green)).toEqual(['/Scaling/Cpu/Resource']);
  });

  test('a difference between the colors is caught (the check is not vacuous)', () => {
    const { stacks, serviceJson } = synth({}, (s) => {
      const green = s.service.colors.green.ecs!.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
      green.memory = '1024';
    });
    const blue = normalizedColor(stacks.service, serviceJson, 'blue');
    const green = normalizedColor(stacks.service, serviceJson, 'green');
    expect(differences(blue, green)).toEqual(['/TaskDefinition/Resource']);
  });
});
