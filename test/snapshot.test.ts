import { synth } from './support/synth';

/**
 * One snapshot per stack (asset hashes masked by test/support/asset-hash-serializer.js): any change to what
 * CloudFormation would receive shows up in review as a snapshot diff. Update with `npx jest -u` when intended.
 */
describe('templates', () => {
  const { stacks, app } = synth();
  const assembly = app.synth();

  test.each([
    ['release record stack', stacks.record.stackName],
    ['service stack', stacks.service.stackName],
  ])('%s', (_what, stackName) => {
    expect(assembly.getStackByName(stackName).template).toMatchSnapshot();
  });
});
