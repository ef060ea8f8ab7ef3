import type pg from 'pg';

/**
 * The PostgreSQL schema, one step per entry: entry n takes a database at schema n to n + 1. Steps
 * are never edited once released; a change is a new step. `json`, not `jsonb`: jsonb reorders
 * object keys, and a session's maps of singers keep the order they were made in.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     id text PRIMARY KEY,
     version integer NOT NULL,
     data json NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE songbooks (
     session_id text PRIMARY KEY,
     data bytea NOT NULL
   );
   CREATE TABLE nights (
     session_id text NOT NULL,
     night integer NOT NULL,
     data json NOT NULL,
     PRIMARY KEY (session_id, night)
   );
   CREATE TABLE backups (
     name text PRIMARY KEY,
     created_at timestamptz NOT NULL,
     reason text NOT NULL,
     data bytea NOT NULL
   );
   CREATE TABLE settings (
     name text PRIMARY KEY,
     value json NOT NULL
   );
   CREATE TABLE health_probe (
     id integer PRIMARY KEY,
     at timestamptz NOT NULL
   );`,
];

/** Any constant both instances agree on: the advisory lock that lets one migrate at a time. */
const MIGRATION_LOCK = 7_365_201;

/**
 * Bring the database to the newest schema in one transaction, under an advisory lock, so two
 * instances starting together do not both migrate: the second waits, then finds nothing to do.
 * Returns the schema version before and after.
 */
export async function migratePg(client: pg.ClientBase): Promise<{ from: number; to: number }> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const from = rows[0]?.v ?? 0;
    if (from > PG_MIGRATIONS.length) {
      throw new Error(`the database has schema version ${from}, newer than this server understands (${PG_MIGRATIONS.length}): run the newer release`);
    }
    for (let v = from; v < PG_MIGRATIONS.length; v += 1) {
      await client.query(PG_MIGRATIONS[v]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
    return { from, to: PG_MIGRATIONS.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
