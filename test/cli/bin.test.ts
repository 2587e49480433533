/**
 * The package bin as users run it: the CLI bundled the way `npm run build:cli` bundles it (npm ci runs it), run in
 * a fresh Node process with the real AWS SDK and no credentials.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { tempDir } from '../support/temp';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

describe('the bluegreen bin', () => {
  const outfile = join(tempDir('bluegreen-bin-'), 'bluegreen.cjs');
  beforeAll(() => {
    buildSync({
      entryPoints: [join(root, 'cli', 'main.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      outfile,
      banner: { js: '#!/usr/bin/env node' },
      logLevel: 'warning',
      absWorkingDir: root,
    });
  });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [outfile, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(root, 'node_modules'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 30_000,
    });

  test('is what package.json installs, built by npm ci (prepare)', () => {
    expect(pkg.bin.bluegreen).toBe('dist/bluegreen.cjs');
    expect(pkg.scripts.prepare).toBe('npm run build:cli');
    expect(pkg.scripts['build:cli']).toContain('--outfile=dist/bluegreen.cjs');
  });

  test('--help exits 0 and lists the commands', () => {
    const run = cli('--help');
    expect(run.status).toBe(0);
    for (const command of ['release', 'status', 'rollback', 'approve', 'reject', 'history']) {
      expect(run.stdout).toContain(command);
    }
  });

  test('without AWS credentials: one line saying so, exit 2', () => {
    // The app and region come from ./bluegreen.config.json (appName shop, us-east-1).
    const run = cli('status');
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^CredentialsProviderError: No usable AWS credentials \(set AWS_PROFILE/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
