import { join } from 'node:path';
import { FileReleaseRecord } from '../../rehearsal/local-ports';
import { tempDir } from '../support/temp';

describe('FileReleaseRecord (the rehearsal’s release record)', () => {
  test('keeps the production weights a gradual shift writes; a write without them means all on the live color', async () => {
    const images = { blue: 'repo:v1', green: 'repo:v1' };
    const record = FileReleaseRecord.create(join(tempDir('bluegreen-record-'), 'record.json'), {
      liveColor: 'blue',
      images,
    });
    await record.write({
      liveColor: 'blue',
      image: { color: 'green', image: 'repo:v2' },
      weights: { blue: 900, green: 100 },
    });
    expect(await record.read()).toEqual({
      liveColor: 'blue',
      images: { blue: 'repo:v1', green: 'repo:v2' },
      weights: { blue: 900, green: 100 },
    });
    await record.write({ liveColor: 'green' });
    expect(await record.read()).toEqual({
      liveColor: 'green',
      images: { blue: 'repo:v1', green: 'repo:v2' },
    });
  });
});
