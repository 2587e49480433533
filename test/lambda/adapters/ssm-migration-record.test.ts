import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { parseMigrationState, SsmMigrationRecord } from '../../../lambda/adapters/ssm-migration-record';
import type { MigrationState } from '../../../lambda/shared/ports';
import { migrationParameterName } from '../../../lambda/shared/release-record';

const NAME = migrationParameterName('shop');
const ssm = mockClient(SSMClient);
const record = new SsmMigrationRecord(new SSMClient({}), NAME);

const STATE: MigrationState = {
  contracted: { image: 'repo:v1', release: 'release-1', at: '2026-11-25T10:00:00.000Z' },
  contractPending: {
    image: 'repo:v2',
    release: 'release-2',
    taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:7',
    since: '2026-11-26T10:00:00.000Z',
  },
};

const holds = (value: string) =>
  ssm.on(GetParameterCommand, { Name: NAME }).resolves({ Parameter: { Name: NAME, Value: value } });

beforeEach(() => ssm.reset());

describe('SsmMigrationRecord', () => {
  test('the parameter is /bluegreen/<app>/migrations', () => {
    expect(NAME).toBe('/bluegreen/shop/migrations');
  });

  test('a missing parameter is an empty record (no migration ran yet)', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    await expect(record.read()).resolves.toEqual({});
  });

  test('a ParameterNotFound error by name only (another SDK copy) is an empty record too', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    await expect(record.read()).resolves.toEqual({});
  });

  test('reads and parses the JSON of its own parameter', async () => {
    holds(JSON.stringify(STATE));
    await expect(record.read()).resolves.toEqual(STATE);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: NAME }]);
  });

  test('"{}" is an empty record', async () => {
    holds('{}');
    await expect(record.read()).resolves.toEqual({});
  });

  test('other errors propagate (no silent empty record)', async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(record.read()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  test('a value that is not JSON is RecordInvalid, naming the parameter and the value', async () => {
    holds('contracted: v1');
    await expect(record.read()).rejects.toMatchObject({
      name: 'RecordInvalid',
      message: expect.stringMatching(/\/bluegreen\/shop\/migrations is not JSON: contracted: v1/),
    });
  });

  test('write replaces the parameter with the JSON (String, Overwrite)', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    await record.write(STATE);
    const calls = ssm.commandCalls(PutParameterCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toEqual({ Name: NAME, Value: JSON.stringify(STATE), Type: 'String', Overwrite: true });
    expect(JSON.parse(input.Value!)).toEqual(STATE);
  });

  test('write errors propagate', async () => {
    ssm
      .on(PutParameterCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(record.write({})).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test('what write writes, read reads back', async () => {
    let stored: string | undefined;
    ssm.on(PutParameterCommand).callsFake((input: { Value: string }) => {
      stored = input.Value;
      return {};
    });
    ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Value: stored } }));
    await record.write(STATE);
    await expect(record.read()).resolves.toEqual(STATE);
  });
});

describe('parseMigrationState', () => {
  const where = '/bluegreen/shop/migrations';

  test.each([
    ['a string', '"contracted"'],
    ['null', 'null'],
    ['a number', '42'],
    // An array would read as an empty record and lose `contracted`: a rollback could cross a contract.
    ['an array', '[{"contracted": {"image": "repo:v2", "release": "r", "at": "t"}}]'],
  ])('%s is not a record', (_what, text) => {
    expect(() => parseMigrationState(text, where)).toThrow(
      expect.objectContaining({
        name: 'RecordInvalid',
        message: expect.stringContaining(`The migration record ${where}`),
      }),
    );
  });

  test('a section that is not an object is named', () => {
    expect(() => parseMigrationState('{"contracted": "repo:v1"}', where)).toThrow(
      expect.objectContaining({
        name: 'RecordInvalid',
        message: expect.stringContaining('contracted must be an object'),
      }),
    );
  });

  test('each missing or wrong field is named, in both sections', () => {
    let error: Error | undefined;
    try {
      parseMigrationState(
        JSON.stringify({
          contracted: { image: 'repo:v1', release: 'release-1' },
          contractPending: { image: 'repo:v2', release: 7, taskDefinition: 'td', since: 'now' },
        }),
        where,
      );
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('RecordInvalid');
    expect(error?.message).toContain('contracted.at must be a string');
    expect(error?.message).toContain('contractPending.release must be a string');
    expect(error?.message).not.toContain('contractPending.image');
    expect(error?.message).toContain('set it to {}');
  });

  test('a pending contract without its task definition is refused', () => {
    expect(() =>
      parseMigrationState(
        JSON.stringify({ contractPending: { image: 'repo:v2', release: 'release-2', since: 'now' } }),
        where,
      ),
    ).toThrow(/contractPending\.taskDefinition must be a string/);
  });

  test('a valid record is returned as it is', () => {
    expect(parseMigrationState(JSON.stringify(STATE), where)).toEqual(STATE);
    expect(parseMigrationState(JSON.stringify({ contracted: STATE.contracted }), where)).toEqual({
      contracted: STATE.contracted,
    });
  });
});
