/** `npm start` as a user meets it: Ctrl-C stops everything and frees the ports; a taken port is a clear error. */
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
    const timer = setTimeout(() => reject(new Error(`no release started: ${output}`)), 60_000);
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
}, 90_000);

test('a port already in use is a clear error, not a stack trace', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [...MAIN, '--port', String(port), '--test-port', '0'], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
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
}, 60_000);
