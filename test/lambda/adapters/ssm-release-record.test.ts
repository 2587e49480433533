import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { SsmReleaseRecordStore } from '../../../lambda/adapters/ssm-release-record';
import { recordParameterNames } from '../../../lambda/shared/release-record';

const names = recordParameterNames('shop');
const ssm = mockClient(SSMClient);
/** A stack with auto scaling: the record has the colors' capacity parameters. */
const store = new SsmReleaseRecordStore(new SSMClient({}), names, { scaling: true });

function parameters(values: Record<string, string>) {
  return { Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })) };
}

beforeEach(() => ssm.reset());

describe('SsmReleaseRecordStore', () => {
  test('reads the whole record in one GetParameters call, the production weights and capacity with it', async () => {
    ssm.on(GetParametersCommand).resolves(
      parameters({
        [names.liveColor]: 'blue',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v2',
        [names.weights]: '900,100',
        [names.capacity.blue]: '4,20',
        [names.capacity.green]: 'auto',
      }),
    );
    await expect(store.read()).resolves.toEqual({
      liveColor: 'blue',
      images: { blue: 'repo:v1', green: 'repo:v2' },
      weights: { blue: 900, green: 100 },
      capacity: { blue: { min: 4, max: 20 }, green: 'auto' },
    });
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({
      Names: [
        names.liveColor,
        names.image.blue,
        names.image.green,
        names.weights,
        names.capacity.blue,
        names.capacity.green,
      ],
    });
  });

  test("liveSince: the live-color parameter's LastModifiedDate (when the live color was last written)", async () => {
    const written = new Date('2026-11-26T09:00:00Z');
    ssm.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.image.blue, Value: 'repo:v1', LastModifiedDate: new Date('2026-11-20T08:00:00Z') },
        { Name: names.liveColor, Value: 'green', LastModifiedDate: written },
        { Name: names.image.green, Value: 'repo:v2', LastModifiedDate: new Date('2026-11-26T08:50:00Z') },
      ],
    });
    await expect(store.read()).resolves.toMatchObject({
      liveColor: 'green',
      liveSince: written.toISOString(),
    });
  });

  test('without auto scaling the capacity parameters are never named (IAM would deny the whole read), and writeCapacity is refused', async () => {
    const plain = new SsmReleaseRecordStore(new SSMClient({}), names);
    ssm.on(GetParametersCommand).resolves(
      parameters({
        [names.liveColor]: 'blue',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v1',
      }),
    );
    await expect(plain.read()).resolves.toEqual({
      liveColor: 'blue',
      images: { blue: 'repo:v1', green: 'repo:v1' },
      weights: { blue: 100, green: 0 },
    });
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({
      Names: [names.liveColor, names.image.blue, names.image.green, names.weights],
    });
    await expect(plain.writeCapacity('green', 'auto')).rejects.toMatchObject({
      name: 'ScalingNotConfigured',
    });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  test('a record from before gradual shifts (no weights parameter) is all on its live color', async () => {
    ssm.on(GetParametersCommand).resolves({
      ...parameters({
        [names.liveColor]: 'green',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v2',
      }),
      InvalidParameters: [names.weights, names.capacity.blue, names.capacity.green],
    });
    await expect(store.read()).resolves.toEqual({
      liveColor: 'green',
      images: { blue: 'repo:v1', green: 'repo:v2' },
      weights: { blue: 0, green: 100 },
      capacity: { blue: 'auto', green: 'auto' },
    });
  });

  test('a record from before auto scaling (no capacity parameters) reads both colors as auto', async () => {
    ssm.on(GetParametersCommand).resolves({
      ...parameters({
        [names.liveColor]: 'blue',
        [names.image.blue]: 'repo:v1',
        [names.image.green]: 'repo:v1',
        [names.weights]: '100,0',
        [names.capacity.green]: '2,2',
      }),
      InvalidParameters: [names.capacity.blue],
    });
    await expect(store.read()).resolves.toMatchObject({
      capacity: { blue: 'auto', green: { min: 2, max: 2 } },
    });
  });

  test.each(['', 'AUTO', '2', '2,', '3,2', '-1,2', '0,1001', '2, 20', '2;20', '1.5,3'])(
    'capacity that is not "auto" or "<min>,<max>" (0 <= min <= max <= 1000) is RecordInvalid, naming the parameter: "%s"',
    async (value) => {
      ssm.on(GetParametersCommand).resolves(
        parameters({
          [names.liveColor]: 'blue',
          [names.image.blue]: 'repo:v1',
          [names.image.green]: 'repo:v1',
          [names.capacity.blue]: 'auto',
          [names.capacity.green]: value,
        }),
      );
      await expect(store.read()).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringContaining(
          `The release record ${names.capacity.green} holds "${value}", not "auto" or "<min>,<max>"`,
        ),
      });
    },
  );

  test("writeCapacity puts the color's capacity parameter: auto, or the bounds", async () => {
    ssm.on(PutParameterCommand).resolves({});
    await store.writeCapacity('green', { min: 4, max: 20 });
    await store.writeCapacity('blue', 'auto');
    await store.writeCapacity('green', { min: 0, max: 0 });
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: names.capacity.green, Value: '4,20', Type: 'String', Overwrite: true },
      { Name: names.capacity.blue, Value: 'auto', Type: 'String', Overwrite: true },
      { Name: names.capacity.green, Value: '0,0', Type: 'String', Overwrite: true },
    ]);
  });

  test.each([[{ min: 3, max: 2 }], [{ min: -1, max: 2 }], [{ min: 0, max: 1001 }], [{ min: 1.5, max: 3 }]])(
    'writeCapacity refuses bounds the record cannot hold (%j) and writes nothing',
    async (bounds) => {
      ssm.on(PutParameterCommand).resolves({});
      await expect(store.writeCapacity('blue', bounds)).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringMatching(
          /^Refusing to record the scaling bounds ".*" for blue: .* Nothing was written\.$/,
        ),
      });
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    },
  );

  test.each(['', '900', '900;100', '1000,0', '0,0', '-1,100', '90.5,9.5', ' 900,100'])(
    'weights that are not "<blue>,<green>" (0-999, not both 0) are refused, naming the value: "%s"',
    async (value) => {
      ssm.on(GetParametersCommand).resolves(
        parameters({
          [names.liveColor]: 'blue',
          [names.image.blue]: 'repo:v1',
          [names.image.green]: 'repo:v1',
          [names.weights]: value,
        }),
      );
      await expect(store.read()).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringContaining(`${names.weights} holds "${value}", not "<blue>,<green>"`),
      });
    },
  );

  test('writes the image, then the weights, the live color last', async () => {
    ssm.on(PutParameterCommand).resolves({});
    await store.write({
      liveColor: 'blue',
      image: { color: 'green', image: 'repo:v2' },
      weights: { blue: 900, green: 100 },
    });
    expect(
      ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value]),
    ).toEqual([
      [names.image.green, 'repo:v2'],
      [names.weights, '900,100'],
      [names.liveColor, 'blue'],
    ]);
    for (const call of ssm.commandCalls(PutParameterCommand)) {
      expect(call.args[0].input).toMatchObject({ Type: 'String', Overwrite: true });
    }
  });

  test.each([[{ blue: 1000, green: 0 }], [{ blue: 0, green: 0 }], [{ blue: 99.5, green: 0.5 }]])(
    'weights a listener cannot hold (%j) are refused before anything is written',
    async (weights) => {
      ssm.on(PutParameterCommand).resolves({});
      await expect(
        store.write({ liveColor: 'blue', image: { color: 'green', image: 'repo:v2' }, weights }),
      ).rejects.toMatchObject({
        name: 'RecordInvalid',
        message: expect.stringContaining('Nothing was written'),
      });
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    },
  );

  test('a write without weights puts all production traffic on the live color', async () => {
    ssm.on(PutParameterCommand).resolves({});
    await store.write({ liveColor: 'green' });
    expect(
      ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value]),
    ).toEqual([
      [names.weights, '0,100'],
      [names.liveColor, 'green'],
    ]);
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
