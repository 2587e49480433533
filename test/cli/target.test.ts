/**
 * Which app and region the CLI acts on: the standard AWS order (--region, AWS_REGION, the profile's region) before
 * the config file's aws.region, the config file chosen by --config or BLUEGREEN_CONFIG, and a note whenever the
 * region chosen is not the config file's (an app deployed in two regions).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveApp, sdkProfileRegion, type ProfileRegion } from '../../cli/target';
import { tempDir } from '../support/temp';

const dir = tempDir('bluegreen-cli-target-');
writeFileSync(
  join(dir, 'bluegreen.config.json'),
  JSON.stringify({ appName: 'shop', aws: { region: 'us-east-1' } }),
);
writeFileSync(join(dir, 'eu.json'), JSON.stringify({ appName: 'shop-eu', aws: { region: 'eu-west-1' } }));

/** Profiles and their regions, as the shared config files would have them. */
const profiles: ProfileRegion = (profile) =>
  Promise.resolve(({ eu: 'eu-west-1', us: 'us-east-1' } as Record<string, string>)[profile ?? 'default']);

async function resolved(options: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const notes: string[] = [];
  const result = await resolveApp(options, { env, cwd: dir }, profiles, (l) => notes.push(l));
  return { ...result, notes };
}

describe('the region the CLI acts in', () => {
  test("the profile's region wins over the config file's aws.region, and the CLI says so", async () => {
    expect(await resolved({ profile: 'eu' })).toEqual({
      app: 'shop',
      region: 'eu-west-1',
      regionSource: 'the profile "eu"',
      notes: [
        'Note: working on shop in eu-west-1 (from the profile "eu"), not in us-east-1 (aws.region in ' +
          'bluegreen.config.json). Pass --region to choose.',
      ],
    });
    // AWS_PROFILE is the same as --profile.
    expect(await resolved({}, { AWS_PROFILE: 'eu' })).toMatchObject({ region: 'eu-west-1' });
  });

  test('--region, then AWS_REGION, then the profile, then the config file', async () => {
    expect(
      await resolved({ region: 'ap-south-1', profile: 'eu' }, { AWS_REGION: 'sa-east-1' }),
    ).toMatchObject({
      region: 'ap-south-1',
      regionSource: '--region',
      notes: [], // chosen by name: nothing to point out
    });
    expect(await resolved({ profile: 'eu' }, { AWS_REGION: 'sa-east-1' })).toMatchObject({
      region: 'sa-east-1',
      regionSource: 'AWS_REGION',
    });
    expect(await resolved({ profile: 'none' })).toEqual({
      app: 'shop',
      region: 'us-east-1',
      regionSource: 'aws.region in bluegreen.config.json',
      notes: [],
    });
    expect(await resolved({ profile: 'us' })).toMatchObject({ region: 'us-east-1', notes: [] });
  });
});

describe('the config file the CLI reads', () => {
  test('BLUEGREEN_CONFIG (or --config) chooses it, as it does for cdk synth', async () => {
    expect(await resolved({ profile: 'none' }, { BLUEGREEN_CONFIG: 'eu.json' })).toMatchObject({
      app: 'shop-eu',
      region: 'eu-west-1',
      regionSource: 'aws.region in eu.json',
    });
    expect(await resolved({ profile: 'none', config: join(dir, 'eu.json') })).toMatchObject({
      app: 'shop-eu',
    });
  });

  test('one chosen by name that is missing, or a file that is not JSON, is a usage error (exit 2)', async () => {
    await expect(resolved({}, { BLUEGREEN_CONFIG: 'nope.json' })).rejects.toMatchObject({
      name: 'ConfigNotFound',
      exitCode: 2,
      message: 'BLUEGREEN_CONFIG nope.json: cannot be read (ENOENT).',
    });
    writeFileSync(join(dir, 'broken.json'), '{\n  "appName": "shop",\n}\n');
    await expect(resolved({ config: 'broken.json' })).rejects.toMatchObject({
      name: 'ConfigInvalid',
      exitCode: 2,
      message: expect.stringMatching(/^broken\.json: line 3, column 1: not valid JSON: /),
    });
  });
});

test("sdkProfileRegion reads a profile's region from the shared config file, as the SDK does", async () => {
  const config = join(dir, 'aws-config');
  writeFileSync(
    config,
    '[default]\nregion = ca-central-1\n[profile eu]\nregion = eu-west-1\n[profile bare]\n',
  );
  const saved = { ...process.env };
  try {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = config;
    expect(await sdkProfileRegion('eu')).toBe('eu-west-1');
    expect(await sdkProfileRegion(undefined)).toBe('ca-central-1');
    expect(await sdkProfileRegion('bare')).toBeUndefined();
  } finally {
    process.env = saved;
  }
});
