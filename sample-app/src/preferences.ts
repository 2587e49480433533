/**
 * The column rename of the blue/green guide (old_preference → new_preference), as application code. Two
 * versions of the app run against one database during a release, so each version's code must work with every
 * schema it can meet:
 *
 * - `legacy` (the app before the rename): reads and writes old_preference only.
 * - `dual` (the app released with the expand migration): writes both columns while old_preference exists, reads
 *   new_preference and falls back to old_preference (rows only the legacy code wrote, before the backfill). After
 *   the contract drops old_preference it carries on with new_preference alone, without a restart.
 */
import type { Sql } from './migrate';

export type PreferencesCode = 'legacy' | 'dual';

export interface Preferences {
  get(user: string): Promise<string | undefined>;
  set(user: string, value: string): Promise<void>;
}

const UNDEFINED_COLUMN = '42703';

export function legacyPreferences(db: Sql): Preferences {
  return {
    get: async (user) =>
      (
        await db.query<{ v: string | null }>(
          'SELECT old_preference AS v FROM preferences WHERE user_id = $1',
          [user],
        )
      ).rows[0]?.v ?? undefined,
    set: async (user, value) => {
      await db.query(
        `INSERT INTO preferences (user_id, old_preference) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET old_preference = EXCLUDED.old_preference`,
        [user, value],
      );
    },
  };
}

export function dualPreferences(db: Sql): Preferences {
  // Whether old_preference still exists; learnt again when the database says a column is gone.
  let hasOld: boolean | undefined;
  const oldColumnExists = async () =>
    (hasOld ??=
      (
        await db.query(
          `SELECT 1 FROM information_schema.columns WHERE table_name = 'preferences' AND column_name = 'old_preference'`,
        )
      ).rows.length > 0);
  const retryWithoutOld = async <T>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (e) {
      if ((e as { code?: string }).code !== UNDEFINED_COLUMN || hasOld === false) {
        throw e;
      }
      hasOld = false; // contracted while we ran
      return action();
    }
  };
  return {
    get: (user) =>
      retryWithoutOld(async () => {
        const old = await oldColumnExists();
        const row = (
          await db.query<{ n: string | null; o: string | null }>(
            `SELECT new_preference AS n, ${old ? 'old_preference' : 'NULL'} AS o FROM preferences WHERE user_id = $1`,
            [user],
          )
        ).rows[0];
        return row ? (row.n ?? row.o ?? undefined) : undefined;
      }),
    set: (user, value) =>
      retryWithoutOld(async () => {
        const old = await oldColumnExists();
        await db.query(
          old
            ? `INSERT INTO preferences (user_id, new_preference, old_preference) VALUES ($1, $2, $2)
               ON CONFLICT (user_id) DO UPDATE SET new_preference = EXCLUDED.new_preference, old_preference = EXCLUDED.old_preference`
            : `INSERT INTO preferences (user_id, new_preference) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET new_preference = EXCLUDED.new_preference`,
          [user, value],
        );
      }),
  };
}
