/**
 * The rehearsal's release record (a JSON file) keeps the production weights as the SSM record does: written with
 * the live color, absent on write = all on the live color, and a file from before gradual shifts reads that way.
 * Each color's scaling bounds likewise: `auto` unless written, kept by every other write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileReleaseRecord } from '../../rehearsal/local-ports';
import { tempDir } from '../support/temp';

const images = { blue: 'repo:v1', green: 'repo:v1' };
const auto = { blue: 'auto', green: 'auto' } as const;

test('a shift step records its split, the final switch all on the new live color', async () => {
  const file = join(tempDir(), 'release-record.json');
  const record = FileReleaseRecord.create(file, { liveColor: 'blue', images });

  await record.write({ liveColor: 'blue', weights: { blue: 900, green: 100 } });
  expect(await record.read()).toEqual({
    liveColor: 'blue',
    images,
    weights: { blue: 900, green: 100 },
    capacity: auto,
  });

  await record.write({ liveColor: 'green', image: { color: 'green', image: 'repo:v2' } });
  expect(await record.read()).toEqual({
    liveColor: 'green',
    images: { blue: 'repo:v1', green: 'repo:v2' },
    weights: { blue: 0, green: 100 },
    capacity: auto,
  });
  // What is on disk, not only what read() makes of it.
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ weights: { blue: 0, green: 100 } });
});

test('a file without weights (written before gradual shifts) reads as all on its live color', async () => {
  const file = join(tempDir(), 'release-record.json');
  writeFileSync(file, JSON.stringify({ liveColor: 'green', images }));
  expect(await new FileReleaseRecord(file).read()).toEqual({
    liveColor: 'green',
    images,
    weights: { blue: 0, green: 100 },
    capacity: auto,
  });
});

test("a color's bounds are written alone, and kept by the writes of the live color, images and weights", async () => {
  const file = join(tempDir(), 'release-record.json');
  const record = FileReleaseRecord.create(file, { liveColor: 'blue', images, capacity: auto });
  await record.writeCapacity('green', { min: 4, max: 20 });
  await record.writeCapacity('blue', { min: 4, max: 20 });
  await record.write({ liveColor: 'green', image: { color: 'green', image: 'repo:v2' } });
  await record.writeCapacity('green', 'auto');
  expect(await record.read()).toEqual({
    liveColor: 'green',
    images: { blue: 'repo:v1', green: 'repo:v2' },
    weights: { blue: 0, green: 100 },
    capacity: { blue: { min: 4, max: 20 }, green: 'auto' },
  });
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
    capacity: { blue: { min: 4, max: 20 }, green: 'auto' },
  });
});
