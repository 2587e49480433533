/**
 * The database migration phases in the local rehearsal: what ECS RunTask does in AWS (run the release's image
 * with `node migrate.js <phase>`) done with a local process, against the throwaway PostgreSQL. Each image has
 * the migrations its version ships: v1 only created the table; later versions add the old_preference →
 * new_preference rename (expand, backfill, contract), as in sample-app/migrations.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { MigrationRecord, MigrationState } from '../lambda/shared/ports';
import type { LocalTasks } from './workflow-runner';

const MIGRATIONS = join(__dirname, '..', 'sample-app', 'migrations');

/** Bundles the sample app's migration runner into one file (what its Dockerfile also does). */
export function buildMigrationRunner(outfile: string): string {
  buildSync({
    entryPoints: [join(__dirname, '..', 'sample-app', 'src', 'migrate.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'error',
    external: ['pg-native'],
  });
  return outfile;
}

/**
 * The migrations each image ships, laid out under `dir`: the first version only has the table; every later one
 * has all of sample-app/migrations.
 */
export function migrationsPerImage(dir: string, firstImage: string): (image: string) => string {
  const first = join(dir, 'migrations-first');
  mkdirSync(join(first, 'expand'), { recursive: true });
  cpSync(
    join(MIGRATIONS, 'expand', '001-preferences-table.sql'),
    join(first, 'expand', '001-preferences-table.sql'),
  );
  return (image) => (image === firstImage ? first : MIGRATIONS);
}

export interface LocalMigrationsOptions {
  readonly runner: string;
  readonly databaseUrl: string;
  /** The image a task definition (a fleet revision) runs. */
  readonly imageOf: (taskDefinition: string) => string | undefined;
  /** The migrations directory inside an image. */
  readonly migrationsOf: (image: string) => string;
  readonly log: (line: string) => void;
}

/** ECS RunTask .sync, locally: `node migrate.js <phase>` with the image's migrations; its output to the log. */
export class LocalMigrations implements LocalTasks {
  readonly runs: { phase: string; image: string; exitCode: number; ms: number }[] = [];

  constructor(private readonly options: LocalMigrationsOptions) {}

  async run(task: { taskDefinition: string; command: readonly string[] }): Promise<{ exitCode: number }> {
    const image = this.options.imageOf(task.taskDefinition);
    const phase = task.command[task.command.length - 1] ?? '';
    if (!image) {
      return { exitCode: 1 };
    }
    return this.runPhase(image, phase);
  }

  /** Runs one phase of an image's migrations (also used for the first version's own expand). */
  async runPhase(image: string, phase: string): Promise<{ exitCode: number }> {
    const started = Date.now();
    const exitCode = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [this.options.runner, phase], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: this.options.databaseUrl,
          MIGRATIONS_DIR: this.options.migrationsOf(image),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out = (d: Buffer) => {
        for (const line of d.toString().trim().split('\n').filter(Boolean)) {
          this.options.log(`    migrate ${phase} (${image.split(':').pop()}): ${summarize(line)}`);
        }
      };
      child.stdout.on('data', out);
      child.stderr.on('data', out);
      child.on('exit', (code) => resolve(code ?? 1));
      child.on('error', () => resolve(1));
    });
    this.runs.push({ phase, image, exitCode, ms: Date.now() - started });
    return { exitCode };
  }
}

/** The runner's JSON log line, shortened to what was applied. */
function summarize(line: string): string {
  try {
    const j = JSON.parse(line) as { applied?: string[]; alreadyApplied?: string[]; error?: string };
    if (j.error) {
      return `failed: ${j.error}`;
    }
    const applied = j.applied?.length ? `applied ${j.applied.join(', ')}` : 'nothing new to apply';
    return `${applied}${j.alreadyApplied?.length ? ` (${j.alreadyApplied.length} applied before)` : ''}`;
  } catch {
    return line;
  }
}

/** The migration record, in memory (SSM in AWS). */
export class MemoryMigrationRecord implements MigrationRecord {
  state: MigrationState = {};

  read(): Promise<MigrationState> {
    return Promise.resolve(structuredClone(this.state));
  }

  write(state: MigrationState): Promise<void> {
    this.state = structuredClone(state);
    return Promise.resolve();
  }
}
