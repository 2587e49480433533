import { Match } from 'aws-cdk-lib/assertions';
import { recordParameterNames } from '../lambda/shared/release-record';
import { synth } from './support/synth';

describe('release record stack', () => {
  const { record, stacks } = synth();
  const names = recordParameterNames('shop');

  test('creates the live color, one image parameter per color and the production weights, with their first values', () => {
    const expected = [
      [names.liveColor, 'blue'],
      [names.image.blue, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v1'],
      [names.image.green, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v1'],
      // All on the first live color, blue: "<blue>,<green>".
      [names.weights, '100,0'],
    ];
    for (const [name, value] of expected) {
      record.hasResourceProperties('Custom::BluegreenRecordParameter', {
        Create: Match.serializedJson(
          Match.objectLike({
            service: 'SSM',
            action: 'putParameter',
            parameters: Match.objectLike({ Name: name, Value: value, Type: 'String' }),
            ignoreErrorCodesMatching: 'ParameterAlreadyExists',
          }),
        ),
      });
    }
    expect(stacks.record.names).toEqual(names);
  });

  test('the values are never template properties, so no later deploy can write them', () => {
    // No AWS::SSM::Parameter resource: its Value would be re-applied by any update that touches it.
    record.resourceCountIs('AWS::SSM::Parameter', 0);
    // Create only: no other event makes an SDK call.
    const initializers = record.findResources('Custom::BluegreenRecordParameter');
    expect(Object.keys(initializers)).toHaveLength(4);
    for (const r of Object.values(initializers)) {
      expect(r.Properties).toHaveProperty('Create');
      // No Update (a changed config, a CDK upgrade) and no Delete (a destroyed stack, a renamed construct).
      expect(r.Properties).not.toHaveProperty('Update');
      expect(r.Properties).not.toHaveProperty('Delete');
      // Without Overwrite, PutParameter refuses to replace a value that is already there.
      expect(JSON.parse(r.Properties.Create as string).parameters).not.toHaveProperty('Overwrite');
    }
  });

  test('the initializer may only create these four parameters', () => {
    const statements = Object.values(record.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown[] }[],
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect([...statement.Action].sort()).toEqual(['ssm:AddTagsToResource', 'ssm:PutParameter']);
      expect(statement.Resource).toHaveLength(4);
      expect(statement.Resource).toEqual(
        expect.arrayContaining(
          [names.liveColor, names.image.blue, names.image.green, names.weights].map((n) => ({
            'Fn::Join': ['', ['arn:aws:ssm:eu-west-1:', { Ref: 'AWS::AccountId' }, `:parameter${n}`]],
          })),
        ),
      );
    }
  });

  test('an image digest is recorded as repository@digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const withDigest = synth({ image: { initialTag: digest } });
    withDigest.record.hasResourceProperties('Custom::BluegreenRecordParameter', {
      Create: Match.serializedJson(
        Match.objectLike({
          parameters: Match.objectLike({
            Name: names.image.green,
            Value: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@${digest}`,
          }),
        }),
      ),
    });
  });
});
