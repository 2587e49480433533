/**
 * IAM scoping the synthesized policies must keep: what a launch through the release steps' (and the operators')
 * RunInstances may use, and the initial-capacity custom resource's rights, by ARN rather than by tag.
 */
import { resourcesOfType, synth, type CfnTemplate } from './support/synth';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function statementsOf(t: CfnTemplate, role: string): Statement[] {
  return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Roles).includes(role))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
}

const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => [s.Action].flat().includes(action));
const text = (v: unknown) => JSON.stringify(v);

describe('asg: ec2:RunInstances launches only what the launch templates say', () => {
  const { serviceJson } = synth({ platform: 'asg', instances: { type: 'm7g.large' } });

  test.each([
    'ReleaseWorkflowStepsDeployRole',
    'ReleaseWorkflowStepsRollbackRole',
    'ReleaseWorkflowStepsAbortRole',
  ])('%s', (role) => {
    const run = withAction(statementsOf(serviceJson, role), 'ec2:RunInstances');
    expect(run.length).toBeGreaterThan(1);
    // No statement allows RunInstances on every resource.
    for (const s of run) {
      expect([s.Resource].flat()).not.toContain('*');
    }
    const on = (fragment: string) => run.filter((s) => text(s.Resource).includes(fragment));
    // The templates themselves; every other resource only when launched from one of them.
    expect(on(':launch-template/')).toHaveLength(1);
    for (const s of run.filter((s) => !text(s.Resource).includes(':launch-template/'))) {
      expect(s.Condition?.ArnLike?.['ec2:LaunchTemplate']).toEqual(expect.any(Array));
    }
    // A caller cannot override the instance type or the image.
    const [instances] = on(':instance/*');
    expect(instances.Condition?.StringEquals).toEqual({ 'ec2:InstanceType': ['m7g.large'] });
    const [images] = on('::image/*');
    expect(images.Condition?.StringEquals).toEqual({ 'ec2:Owner': 'amazon' });
    // Security groups: the colors' instance groups, by id; nothing else.
    const groups = on(':security-group/');
    expect(groups).toHaveLength(1);
    expect(text(groups[0].Resource)).toContain('BlueInstanceSecurityGroup');
    expect(text(groups[0].Resource)).toContain('GreenInstanceSecurityGroup');
    expect(text(groups[0].Resource)).not.toContain('security-group/*');
  });
});

test("asg: the initial capacity sets the desired count of each color's group by ARN, not of any group with a tag", () => {
  const { serviceJson } = synth({ platform: 'asg' });
  const policies = Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Policy')).filter(([id]) =>
    id.includes('InitialCapacityCustomResourcePolicy'),
  );
  expect(policies).toHaveLength(2);
  for (const [id, p] of policies) {
    const color = id.startsWith('Blue') ? 'blue' : 'green';
    const [statement] = (p.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statement.Action).toBe('autoscaling:SetDesiredCapacity');
    expect(statement.Condition).toBeUndefined();
    // Each color's resource: its own group, by name.
    expect([statement.Resource].flat()).toHaveLength(1);
    expect(text(statement.Resource)).toContain(`:autoScalingGroup:*:autoScalingGroupName/shop-${color}"`);
  }
});

test('every policy that reads or writes the release record covers the production weights too', () => {
  // The record store reads all its parameters in one GetParameters call (denied as a whole if one name is not
  // allowed) and writes the weights with the live color.
  const { serviceJson } = synth();
  const statements = Object.values({
    ...resourcesOfType(serviceJson, 'AWS::IAM::Policy'),
    ...resourcesOfType(serviceJson, 'AWS::IAM::ManagedPolicy'),
  }).flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  const onRecord = statements.filter(
    (s) =>
      [s.Action].flat().some((a) => a === 'ssm:GetParameters' || a === 'ssm:PutParameter') &&
      text(s.Resource).includes(':parameter/bluegreen/shop/live-color'),
  );
  // The workflow's steps, the stopped step, the rechecks, the widget and the operators' policy.
  expect(onRecord.length).toBeGreaterThan(5);
  for (const s of onRecord) {
    expect(text(s.Resource)).toContain(':parameter/bluegreen/shop/production-weights"');
  }
});
