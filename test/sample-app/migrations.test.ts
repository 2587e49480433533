/**
 * The sample app's migrations against a real PostgreSQL (Debian's, started for these tests): the runner applies
 * each file once and only once, and the dual-write code reads and writes correctly before, during and after the
 * three phases, side by side with the code of the version before the rename.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { postgresInstalled, startPostgres, type RunningPostgres } from '../../rehearsal/postgres';
import { migrate } from '../../sample-app/src/migrate';
import { dualPreferences, legacyPreferences } from '../../sample-app/src/preferences';
import { tempDir } from '../support/temp';

const MIGRATIONS = join(__dirname, '..', '..', 'sample-app', 'migrations');

// PostgreSQL comes from Debian's packages (.ci/run installs them); without it these tests cannot run at all.
if (!postgresInstalled()) {
  throw new Error('PostgreSQL is not installed: apt-get install postgresql (the CI script does)');
}

let pg: RunningPostgres;
const clients: Client[] = [];
async function connect(): Promise<Client> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  pg = (await startPostgres())!;
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await pg.stop();
});
beforeEach(async () => {
  const db = await connect();
  await db.query('DROP TABLE IF EXISTS preferences, bluegreen_migrations');
});

describe('migration runner', () => {
  test('applies each file of a phase once, in order, and records it; a second run applies nothing', async () => {
    const db = await connect();
    await expect(migrate(db, 'expand', MIGRATIONS)).resolves.toEqual({
      phase: 'expand',
      applied: ['001-preferences-table.sql', '002-add-new-preference.sql'],
      alreadyApplied: [],
    });
    await expect(migrate(db, 'expand', MIGRATIONS)).resolves.toEqual({
      phase: 'expand',
      applied: [],
      alreadyApplied: ['001-preferences-table.sql', '002-add-new-preference.sql'],
    });
    const recorded = await db.query('SELECT phase, name FROM bluegreen_migrations ORDER BY name');
    expect(recorded.rows).toEqual([
      { phase: 'expand', name: '001-preferences-table.sql' },
      { phase: 'expand', name: '002-add-new-preference.sql' },
    ]);
  });

  test('runners started together apply each file once (they wait for each other)', async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const results = await Promise.all([a, b, c].map((db) => migrate(db, 'expand', MIGRATIONS)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual([
      '001-preferences-table.sql',
      '002-add-new-preference.sql',
    ]);
    expect((await a.query('SELECT count(*)::int AS n FROM bluegreen_migrations')).rows[0]).toEqual({ n: 2 });
  });

  test('a failing file is rolled back and not recorded; the ones before it stay applied', async () => {
    const dir = tempDir('bluegreen-migrations-');
    cpSync(MIGRATIONS, dir, { recursive: true });
    writeFileSync(
      join(dir, 'expand', '003-broken.sql'),
      'ALTER TABLE preferences ADD COLUMN x int;\nSELECT * FROM nowhere;',
    );
    const db = await connect();
    await expect(migrate(db, 'expand', dir)).rejects.toMatchObject({
      name: 'MigrationFailed',
      message: expect.stringContaining(
        'expand/003-broken.sql failed and was rolled back: relation "nowhere" does not exist',
      ),
    });
    const columns = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'preferences' ORDER BY 1`,
    );
    expect(columns.rows.map((r: { column_name: string }) => r.column_name)).toEqual([
      'new_preference',
      'old_preference',
      'user_id',
    ]);
    expect((await db.query('SELECT name FROM bluegreen_migrations ORDER BY 1')).rows).toHaveLength(2);
  });

  test('an applied file that was edited afterwards is an error, not a silent skip', async () => {
    const dir = tempDir('bluegreen-migrations-');
    cpSync(MIGRATIONS, dir, { recursive: true });
    const db = await connect();
    await migrate(db, 'expand', dir);
    writeFileSync(
      join(dir, 'expand', '002-add-new-preference.sql'),
      'ALTER TABLE preferences ADD COLUMN new_preference varchar(10);',
    );
    await expect(migrate(db, 'expand', dir)).rejects.toMatchObject({
      name: 'MigrationFailed',
      message: expect.stringContaining('expand/002-add-new-preference.sql changed after it was applied'),
    });
  });
});

describe('renaming a column with expand, backfill and contract', () => {
  test('old and new code read and write correctly before, during and after the three phases', async () => {
    const db = await connect();
    // Before the release: the table as the old version created it, and its data.
    await db.query('CREATE TABLE preferences (user_id text PRIMARY KEY, old_preference text)');
    const legacy = legacyPreferences(db);
    await legacy.set('alice', 'dark');

    // Expand (before the new version is deployed): the old code is unaffected.
    await migrate(db, 'expand', MIGRATIONS);
    const dual = dualPreferences(await connect());
    expect(await legacy.get('alice')).toBe('dark');
    // Both versions run: the new code reads the old rows (fallback), and what it writes the old code sees.
    expect(await dual.get('alice')).toBe('dark');
    await dual.set('bob', 'light');
    expect(await legacy.get('bob')).toBe('light');
    await legacy.set('carol', 'solarized'); // the old color still takes writes until the switch
    expect(await dual.get('carol')).toBe('solarized');

    // Backfill (after validation, before the switch): every row has the new column.
    await migrate(db, 'backfill', MIGRATIONS);
    const rows = await db.query('SELECT user_id, new_preference FROM preferences ORDER BY user_id');
    expect(rows.rows).toEqual([
      { user_id: 'alice', new_preference: 'dark' },
      { user_id: 'bob', new_preference: 'light' },
      { user_id: 'carol', new_preference: 'solarized' },
    ]);

    // Contract (once the old color cannot take traffic back): the running new code carries on, no restart.
    await migrate(db, 'contract', MIGRATIONS);
    expect(await dual.get('alice')).toBe('dark');
    await dual.set('dave', 'high-contrast');
    expect(await dual.get('dave')).toBe('high-contrast');
    await dual.set('alice', 'light');
    expect(await dual.get('alice')).toBe('light');
    // …and the old code can no longer work: that is why contract waits for the old color to be gone.
    await expect(legacy.get('alice')).rejects.toThrow(/old_preference/);
  });
});
