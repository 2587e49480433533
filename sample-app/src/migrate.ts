/**
 * The migration runner the sample app's image carries (`node migrate.js <phase>`): applies the SQL files of one
 * phase (migrations/<phase>/*.sql, in name order) that were not applied before, each in its own transaction
 * together with its record in `bluegreen_migrations`, so a file is applied once or not at all. Runners started
 * at the same time wait for each other (an advisory lock). A file changed after it was applied is an error, not
 * a silent skip.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PHASES = ['expand', 'backfill', 'contract'] as const;
export type Phase = (typeof PHASES)[number];

/** The part of a PostgreSQL client the runner uses (pg's Client). */
export interface Sql {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[] }>;
}

export interface MigrationResult {
  readonly phase: Phase;
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationFailed';
  }
}

const LOCK_KEY = 7_411_234; // any constant: one lock for all bluegreen migration runners of this database

export async function migrate(db: Sql, phase: Phase, directory: string): Promise<MigrationResult> {
  if (!PHASES.includes(phase)) {
    throw new MigrationError(`Unknown phase "${String(phase)}": one of ${PHASES.join(', ')}.`);
  }
  const dir = join(directory, phase);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  // First the lock: even CREATE TABLE IF NOT EXISTS can collide when two runners start at once.
  await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  try {
    await db.query(
      `CREATE TABLE IF NOT EXISTS bluegreen_migrations (
         phase text NOT NULL, name text NOT NULL, checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (phase, name))`,
    );
    const done = new Map(
      (
        await db.query<{ name: string; checksum: string }>(
          'SELECT name, checksum FROM bluegreen_migrations WHERE phase = $1',
          [phase],
        )
      ).rows.map((r) => [r.name, r.checksum]),
    );
    for (const file of files) {
      const sql = readFileSync(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const recorded = done.get(file);
      if (recorded !== undefined) {
        if (recorded !== checksum) {
          throw new MigrationError(
            `${phase}/${file} changed after it was applied (checksum ${recorded.slice(0, 12)} then, ` +
              `${checksum.slice(0, 12)} now): write a new migration instead of editing an applied one.`,
          );
        }
        alreadyApplied.push(file);
        continue;
      }
      await db.query('BEGIN');
      try {
        await db.query(sql);
        await db.query('INSERT INTO bluegreen_migrations (phase, name, checksum) VALUES ($1, $2, $3)', [
          phase,
          file,
          checksum,
        ]);
        await db.query('COMMIT');
      } catch (e) {
        await db.query('ROLLBACK');
        throw new MigrationError(`${phase}/${file} failed and was rolled back: ${(e as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
  return { phase, applied, alreadyApplied };
}

/** `node migrate.js <phase>`: DATABASE_URL (or the PG* variables) says where; exit 0 applied, 1 failed. */
async function main(): Promise<number> {
  const phase = process.argv[2] as Phase;
  const { Client } = await import('pg');
  const client = new Client(process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {});
  await client.connect();
  try {
    const result = await migrate(client, phase, process.env.MIGRATIONS_DIR ?? join(__dirname, 'migrations'));
    console.log(JSON.stringify({ level: 'info', msg: 'migrations', ...result }));
    return 0;
  } catch (e) {
    console.error(JSON.stringify({ level: 'error', msg: 'migrations', phase, error: (e as Error).message }));
    return 1;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
