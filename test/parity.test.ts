import { CfnResource, Stack } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Color } from '../lambda/shared/release-record';
import type { BluegreenStack } from '../lib/bluegreen-stack';
import { synth, type CfnTemplate } from './support/synth';

/**
 * The resources of one color, keyed by their path inside the color's construct, with every mention of the
 * color (its logical ids, names, tags) replaced by a placeholder. Two colors built the same way give equal maps.
 */
function normalizedColor(stack: BluegreenStack, template: CfnTemplate, color: Color): Map<string, string> {
  const root = stack.colors[color];
  const resources = root.node
    .findAll()
    .filter((c): c is CfnResource => c instanceof CfnResource)
    .map((r) => ({
      logicalId: Stack.of(r).resolve(r.logicalId) as string,
      path: r.node.path.slice(root.node.path.length),
    }));
  const byLongestId = [...resources].sort((a, b) => b.logicalId.length - a.logicalId.length);
  const Color = color === 'blue' ? 'Blue' : 'Green';
  const normalized = new Map<string, string>();
  for (const { logicalId, path } of resources) {
    let json = JSON.stringify(template.Resources[logicalId]);
    for (const other of byLongestId) {
      json = json.split(`"${other.logicalId}"`).join(`"<${other.path}>"`);
    }
    // "bluegreen" (the product's name, in tags and paths) contains both colors: keep it out of the way.
    json = json
      .replace(/bluegreen/g, '<product>')
      .split(Color)
      .join('<Color>')
      .split(color)
      .join('<color>');
    json = json.replace(/<product>/g, 'bluegreen');
    // CDK tags some resources with a hash of their construct path: a name, not a setting.
    json = json.replace(/"Key":"aws-cdk:id","Value":"[^"]*"/g, '"Key":"aws-cdk:id","Value":"<path hash>"');
    normalized.set(path, json);
  }
  return normalized;
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
        },
      },
    ],
  ])('%s: identical resources apart from names and color tags', (_what, overrides) => {
    const { stacks, serviceJson } = synth(overrides);
    const blue = normalizedColor(stacks.service, serviceJson, 'blue');
    const green = normalizedColor(stacks.service, serviceJson, 'green');

    // The comparison covers the whole environment of a color, not a sample of it.
    expect([...blue.keys()].sort()).toEqual(
      expect.arrayContaining([
        '/Logs/Resource',
        '/TaskDefinition/Resource',
        '/Service/Service',
        '/TargetGroup/Resource',
        '/TaskSecurityGroup/Resource',
        '/Http5xxAlarm/Resource',
        '/LatencyP99Alarm/Resource',
        '/UnhealthyHostsAlarm/Resource',
      ]),
    );
    expect(differences(blue, green)).toEqual([]);
    // And the names really are per color (the placeholders replaced something).
    expect(blue.get('/Service/Service')).toContain('"ServiceName":"shop-<color>"');
  });

  test('a difference between the colors is caught (the check is not vacuous)', () => {
    const { stacks, serviceJson } = synth({}, (s) => {
      const green = s.service.colors.green.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
      green.memory = '1024';
    });
    const blue = normalizedColor(stacks.service, serviceJson, 'blue');
    const green = normalizedColor(stacks.service, serviceJson, 'green');
    expect(differences(blue, green)).toEqual(['/TaskDefinition/Resource']);
  });
});
