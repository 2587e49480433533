/**
 * The package bin as users run it: the CLI bundled the way `npm run build:cli` bundles it (npm ci runs it), run in
 * a fresh Node process with the real AWS SDK and no credentials.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  // The environment of a user's shell: nothing set for the SDK's sake (its Node version warning included).
  const env = {
    PATH: process.env.PATH,
    NODE_PATH: join(root, 'node_modules'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [outfile, ...args], { cwd: root, encoding: 'utf8', env, timeout: 30_000 });

  test('is what package.json installs, built by npm ci (prepare)', () => {
    expect(pkg.bin.bluegreen).toBe('dist/bluegreen.cjs');
    expect(pkg.scripts.prepare).toBe('npm run build:cli');
    expect(pkg.scripts['build:cli']).toContain('--outfile=dist/bluegreen.cjs');
  });

  test('--help exits 0 and lists the commands', () => {
    const run = cli('--help');
    expect(run.status).toBe(0);
    for (const command of [
      'release',
      'status',
      'rollback',
      'promote',
      'approve',
      'reject',
      'history',
      'report',
    ]) {
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
    // Only the CLI's own line: not the SDK's 8-line Node version warning before it (on Node 20).
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  test("with --profile, the profile's region is where the calls go (signed for it), not the config file's", async () => {
    // A stand-in CloudFormation endpoint that records the region each request was signed for, and answers as
    // CloudFormation does for a stack that is not there.
    const signedFor: string[] = [];
    const server = createServer((req, res) => {
      signedFor.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '?');
      req.resume();
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>' +
          '<Message>Stack with id shop does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = tempDir('bluegreen-bin-');
    const awsConfig = join(dir, 'config');
    writeFileSync(
      awsConfig,
      '[profile eu]\nregion = eu-west-1\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n',
    );
    try {
      // cwd: the project, whose bluegreen.config.json says us-east-1.
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [outfile, 'status', '--profile', 'eu'], {
          cwd: root,
          env: {
            ...env,
            AWS_CONFIG_FILE: awsConfig,
            AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      expect(signedFor).toEqual(['eu-west-1']);
      expect(run.stderr.trim().split('\n')).toEqual([
        'Note: working on shop in eu-west-1 (from the profile "eu"), not in us-east-1 (aws.region in ' +
          'bluegreen.config.json). Pass --region to choose.',
        expect.stringMatching(/^AppNotFound: No stack "shop" in eu-west-1: deploy the app first/),
      ]);
      expect(run.code).toBe(2);
    } finally {
      server.close();
    }
  }, 60_000);
});
