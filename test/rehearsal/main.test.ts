/**
 * `npm start` as a user meets it: Ctrl-C stops everything and frees the ports; a taken port, a bad flag or a bad
 * value is one clear line and exit 2, before anything starts; --help lists every option.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../rehearsal/fleet';

const ROOT = join(__dirname, '..', '..');
const MAIN = ['--import', 'tsx', 'rehearsal/main.ts'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

test('Ctrl-C in the middle of a release stops every process it started and frees the ports', async () => {
  const [port, testPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...MAIN,
      '--scenario',
      '1',
      '--port',
      String(port),
      '--test-port',
      String(testPort),
      '--report',
      join(ROOT, 'cdk.out', 'interrupted'),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    // A deadline for a broken start only: synthesizing the app takes a minute or more on a busy 2-core machine.
    const timer = setTimeout(() => reject(new Error(`no release started: ${output}`)), 240_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('▶ Deploy to idle color')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Everything it started: the sample apps (and Redis, if installed) are its children.
  const started = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((pid) => pid > 0);
  expect(started.length).toBeGreaterThanOrEqual(2);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
  expect(exitCode).toBe(130);
  expect(output).toContain('SIGINT: stopping the sample apps, the load balancer and Redis');
  // Gone (allowing a moment for the kernel to reap them).
  for (let i = 0; i < 20 && started.some(alive); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(started.filter(alive)).toEqual([]);
  expect(await canListen(port)).toBe(true);
  expect(await canListen(testPort)).toBe(true);
}, 300_000);

test('a port already in use is a clear error, not a stack trace', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const testPort = await freePort();
  try {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [...MAIN, '--port', String(port), '--test-port', String(testPort)],
        {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `bluegreen rehearsal: port ${port} on 127.0.0.1 is already in use (another rehearsal?): choose another one (--port, --test-port)`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  } finally {
    blocker.close();
  }
}, 180_000);

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...MAIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a bad flag or value: one line on stderr naming it and what is accepted, exit 2, nothing started', async () => {
  const cases: [string[], string][] = [
    [['--hlep'], 'bluegreen rehearsal: unknown option --hlep (npm start -- --help lists the options)'],
    [
      ['--scenario', '10'],
      'bluegreen rehearsal: --scenario must be one of 1, 2, 3, 4, 5, 6, 7, 8, 9 (got "10")',
    ],
    [['--bake', 'abc'], 'bluegreen rehearsal: --bake must be a whole number from 0 to 300 (got "abc")'],
    [['--port', '80800'], 'bluegreen rehearsal: --port must be a whole number from 1 to 65535 (got "80800")'],
    [
      ['--concurrency'],
      'bluegreen rehearsal: --concurrency needs a value (npm start -- --help lists the options)',
    ],
    [
      ['--migrations=yes'],
      'bluegreen rehearsal: --migrations takes no value (npm start -- --help lists the options)',
    ],
    [
      ['2'],
      'bluegreen rehearsal: unexpected argument "2": every option is a --flag (npm start -- --help lists them)',
    ],
  ];
  const runs = await Promise.all(cases.map(([args]) => runMain(args)));
  expect(runs.map((r) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr }))).toEqual(
    cases.map(([, line]) => ({ code: 2, stdout: '', stderr: `${line}\n` })),
  );
}, 180_000);

test('--help lists every option with its default, and exits 0 without starting anything', async () => {
  const run = await runMain(['--help']);
  expect(run.code).toBe(0);
  expect(run.stderr).toBe('');
  for (const option of [
    '--scenario N',
    '--bake SECONDS',
    '--interval SECONDS',
    '--concurrency N',
    '--report PATH',
    '--port N',
    '--test-port N',
    '--approve-after SECONDS',
    '--migrations',
  ]) {
    expect(run.stdout).toMatch(
      new RegExp(`^ {2}(-h, )?${option.replace(/[-]/g, '\\-')}\\s+\\S.*\\(default`, 'm'),
    );
  }
  expect(run.stdout).toMatch(/^ {2}-h, --help\s+show this help$/m);
  expect(run.stdout).not.toContain('Redis');
}, 180_000);
