/**
 * A real Redis on a free loopback port, from Debian's redis-server (installed by .ci/run), for the rehearsal and
 * the tests. `startRedis` answers undefined when redis-server is not installed, so callers can say so and skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './fleet';

export interface RunningRedis {
  readonly url: string;
  stop(): Promise<void>;
}

export function redisInstalled(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function startRedis(): Promise<RunningRedis | undefined> {
  if (!redisInstalled()) {
    return undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 5 s')), 5000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(); // already gone (Ctrl-C reaches the whole process group)
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
