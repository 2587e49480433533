import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { SsmReleaseRecordStore } from '../../../lambda/adapters/ssm-release-record';
import { recordParameterNames } from '../../../lambda/shared/release-record';

const names = recordParameterNames('shop');
const ssm = mockClient(SSMClient);
const store = new SsmReleaseRecordStore(new SSMClient({}), names);

function parameters(values: Record<string, string>) {
  return { Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })) };
}

beforeEach(() => ssm.reset());

describe('SsmReleaseRecordStore', () => {
  test('reads the whole record in one GetParameters call', async () => {
    ssm.on(GetParametersCommand).resolves(
      parameters({
        [names.liveColor]: 'green',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v2',
      }),
    );
    await expect(store.read()).resolves.toEqual({
      liveColor: 'green',
      images: { blue: 'repo:v1', green: 'repo:v2' },
    });
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({
      Names: [names.liveColor, names.image.blue, names.image.green],
    });
  });

  test('a missing parameter is a named error that says what to deploy', async () => {
    ssm
      .on(GetParametersCommand)
      .resolves(parameters({ [names.liveColor]: 'blue', [names.image.blue]: 'repo:v1' }));
    await expect(store.read()).rejects.toMatchObject({
      name: 'RecordInvalid',
      message: expect.stringContaining(`${names.image.green} not found in SSM`),
    });
  });

  test('a live color that is neither blue nor green is refused, naming the value', async () => {
    ssm.on(GetParametersCommand).resolves(
      parameters({
        [names.liveColor]: 'purple',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v1',
      }),
    );
    await expect(store.read()).rejects.toMatchObject({
      name: 'RecordInvalid',
      message: expect.stringContaining('holds "purple", not "blue" or "green"'),
    });
  });
});
