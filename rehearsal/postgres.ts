/**
 * A real, throwaway PostgreSQL on a free loopback port, from Debian's packages (installed by .ci/run), for the
 * tests and the rehearsal: initdb into a temporary directory, start, and remove everything on stop. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user the package creates. `startPostgres`
 * answers undefined when PostgreSQL is not installed.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './fleet';

export interface RunningPostgres {
  /** postgres://bluegreen@127.0.0.1:<port>/bluegreen */
  readonly url: string;
  stop(): Promise<void>;
}

/** The directory with initdb, pg_ctl and postgres (Debian keeps them out of PATH), if installed. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    if (existsSync(join(root, v, 'bin', 'initdb'))) {
      return join(root, v, 'bin');
    }
  }
  const which = spawnSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() !== '.' ? which.stdout.trim() : undefined;
}

export function postgresInstalled(): boolean {
  return postgresBin() !== undefined;
}

export async function startPostgres(): Promise<RunningPostgres | undefined> {
  const bin = postgresBin();
  if (!bin) {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bluegreen-pg-'));
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }) : undefined;
  if (asRoot) {
    if (user?.status !== 0) {
      throw new Error('PostgreSQL cannot run as root and there is no "postgres" user to run it as.');
    }
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, Number(user.stdout.trim()), gid);
  }
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) {
      throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };
  const data = join(dir, 'data');
  let port: number;
  try {
    run('initdb', ['-D', data, '-U', 'bluegreen', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    port = await freePort();
    run('pg_ctl', [
      '-D',
      data,
      '-w',
      '-t',
      '30',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
      'start',
    ]);
    run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'bluegreen', 'bluegreen']);
  } catch (e) {
    // A server that did not start leaves nothing behind (it may have started before createdb failed).
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // It was not running.
    }
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `postgres://bluegreen@127.0.0.1:${port}/bluegreen`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}
