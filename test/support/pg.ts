// The store under test: the JSON store, or PostgreSQL when TEST_DATABASE_URL names a database
// (`npm run test:pg` starts a throw-away cluster and sets it). One suite runs against either.
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { openPgStore, type PgSessionStore, type PgStoreOptions } from '../../server/store/index.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const onPostgres = TEST_DATABASE_URL !== undefined;
export const PG_SKIP = 'PostgreSQL tests not run: `npm run test:pg` runs them on a throw-away cluster (needs Debian\'s postgresql package), or set TEST_DATABASE_URL';

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A schema of the test's own in the test database, dropped after the test. */
export async function freshSchema(t: TestContext, url = TEST_DATABASE_URL!): Promise<string> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await admin(url, (c) => c.query(`CREATE SCHEMA ${schema}`));
  t.after(() => admin(url, (c) => c.query(`DROP SCHEMA ${schema} CASCADE`)).catch(() => {}));
  return schema;
}

/** A database of the test's own (for server processes, which take a plain DATABASE_URL), dropped after the test. */
export async function freshDatabase(t: TestContext, url = TEST_DATABASE_URL!): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(url, (c) => c.query(`CREATE DATABASE ${name}`));
  t.after(() => admin(url, (c) => c.query(`DROP DATABASE ${name} WITH (FORCE)`)).catch(() => {}));
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A PostgreSQL store on a schema of the test's own. */
export async function openTestPgStore(t: TestContext, options: Partial<PgStoreOptions> & { schema?: string } = {}): Promise<PgSessionStore> {
  const schema = options.schema ?? (await freshSchema(t));
  const store = await openPgStore({ connectionString: TEST_DATABASE_URL!, poolMax: 4, ...options, schema });
  t.after(() => store.close());
  return store;
}

/** Run SQL on the test database (or another URL). */
export function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = [], url = TEST_DATABASE_URL!): Promise<pg.QueryResult<T>> {
  return admin(url, (c) => c.query<T>(text, params));
}
