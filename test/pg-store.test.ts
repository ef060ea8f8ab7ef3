// The PostgreSQL store's own guarantees, with two app instances on one database schema in this
// process: a change through one reaches the other's streams, concurrent changes lose nothing, the
// listening connection comes back by itself, QR codes and VAPID keys agree across instances.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { SseClient, type SseEvent } from '../scripts/bench/sse-client.js';
import { settingPushKeys, resolveVapidKeys } from '../server/push/keys.js';
import { renderQrPng } from '../server/qr.js';
import { openPgStore, type PgSessionStore } from '../server/store/index.js';
import { bearer, buildApp, createSession, joinAs, listen, requestSong } from './support/app.js';
import { freshSchema, onPostgres, openTestPgStore, PG_SKIP, sql, TEST_DATABASE_URL } from './support/pg.js';

const ADMIN = 'q7Vd2LxR9mTe4KpW8sZc3NhJ';

/** The next `state` event's data, skipping anything else. */
async function nextState(client: SseClient): Promise<{ version: number; queue: { title: string }[]; singerCount: number }> {
  for (;;) {
    const event: SseEvent | null = await client.next();
    if (event === null) throw new Error('the stream ended');
    if (event.event === 'state') return JSON.parse(event.data);
  }
}

describe('the PostgreSQL store', { skip: onPostgres ? false : PG_SKIP }, () => {
  it('a change through one instance reaches the event streams of another', async (t) => {
    const schema = await freshSchema(t);
    const a = await buildApp(t, { schema });
    const b = await buildApp(t, { schema });
    const { url: urlB } = await listen(t, b);
    const s = await createSession(a.app);
    // B learns of the new session from the database, not from a request of its own.
    await waitFor(() => b.store.get(s.id) !== undefined);
    const client = new SseClient(`${urlB}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    const first = await nextState(client);
    const ann = await joinAs(a.app, s.id, 'Ann');
    await requestSong(a.app, s.id, ann.key, 'Valerie');
    let state = await nextState(client);
    while (state.queue.length === 0) state = await nextState(client);
    assert.deepEqual(state.queue.map((r) => r.title), ['Valerie']);
    assert.ok(state.version > first.version);
    // A removal through A ends B's streams.
    await request(a.app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    for (;;) {
      const event = await client.next();
      if (event === null || event.event === 'deleted') break;
    }
    await request(b.app).get(`/api/sessions/${s.id}`).expect(404);
  });

  it('concurrent changes to one session through two instances lose nothing, one version each', async (t) => {
    const schema = await freshSchema(t);
    const a = await buildApp(t, { schema });
    const b = await buildApp(t, { schema });
    const s = await createSession(a.app);
    await waitFor(() => b.store.get(s.id) !== undefined);
    const before = a.store.get(s.id)!.version;
    const names = Array.from({ length: 40 }, (_, i) => `Singer ${i}`);
    const answers = await Promise.all(names.map((name, i) => request((i % 2 ? a : b).app).post(`/api/sessions/${s.id}/singers`).send({ name })));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [201]);
    const { rows } = await sql<{ data: { singers: { name: string }[]; version: number } }>(`SELECT data FROM ${schema}.sessions WHERE id = $1`, [s.id]);
    const stored = rows[0]!.data;
    assert.deepEqual(stored.singers.map((x) => x.name).sort(), [...names].sort());
    assert.equal(stored.version, before + names.length, 'every change is one version');
  });

  it('a change that conflicts is made again on the newer state, not lost and not doubled', async (t) => {
    const schema = await freshSchema(t);
    const a = await buildApp(t, { schema });
    const b = await buildApp(t, { schema });
    const s = await createSession(a.app);
    const ann = await joinAs(a.app, s.id, 'Ann');
    await waitFor(() => b.store.get(s.id)?.singers.length === 1);
    // Both instances hold the same state; each makes a change on it at the same moment.
    const [one, two] = await Promise.all([
      request(a.app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'One' }),
      request(b.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ name: 'Renamed' }),
    ]);
    assert.deepEqual([one.status, two.status], [201, 200]);
    await waitFor(() => a.store.get(s.id)?.name === 'Renamed' && b.store.get(s.id)?.queue.length === 1);
    const state = (await request(b.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.name, 'Renamed');
    assert.deepEqual(state.queue.map((r: { title: string }) => r.title), ['One']);
  });

  it('the listening connection killed from the database comes back, and no stream misses a state', async (t) => {
    const schema = await freshSchema(t);
    const a = await buildApp(t, { schema });
    // B's store reconnects fast, for the test; its app is built on it like any other.
    const b = await buildApp(t, { schema });
    const { url: urlB } = await listen(t, b);
    const s = await createSession(a.app);
    await waitFor(() => b.store.get(s.id) !== undefined);
    const client = new SseClient(`${urlB}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    await nextState(client);
    const storeB = b.store as PgSessionStore;
    const killed = await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [storeB.listenName]);
    assert.ok((killed.rowCount ?? 0) >= 1);
    await waitFor(() => !storeB.listening);
    // Changed while B hears nothing: B's stream must still get it once B listens again.
    const ann = await joinAs(a.app, s.id, 'Ann');
    await requestSong(a.app, s.id, ann.key, 'While away');
    let state = await nextState(client);
    while (state.queue.length === 0) state = await nextState(client);
    assert.deepEqual(state.queue.map((r) => r.title), ['While away']);
    assert.ok(storeB.listening);
  });

  it('every instance serves the same QR PNG, byte for byte the one the JSON store keeps on disk', async (t) => {
    const schema = await freshSchema(t);
    const a = await buildApp(t, { schema });
    const b = await buildApp(t, { schema });
    const s = await createSession(a.app);
    await waitFor(() => b.store.get(s.id) !== undefined);
    const png = async (app: typeof a) => (await request(app.app).get(`/qr-codes/${s.id}.png`).buffer(true).expect(200)).body as Buffer;
    const [fromA, fromB] = [await png(a), await png(b)];
    assert.deepEqual(fromA, fromB);
    assert.deepEqual(fromA, await renderQrPng(s.joinUrl));
    // The JSON store's file for the same session, moved there by the admin export and import.
    const json = await buildApp(t, { store: 'json', config: { adminToken: ADMIN } });
    const pgAdmin = await buildApp(t, { schema, config: { adminToken: ADMIN } });
    const exported = await request(pgAdmin.app).get('/api/admin/export').set(bearer(ADMIN)).buffer(true).parse(text).expect(200);
    await request(json.app).post('/api/admin/import').set(bearer(ADMIN)).set('Content-Type', 'application/json').send(exported.body as string).expect(200);
    assert.deepEqual(await png(json), fromA);
  });

  it('instances starting together migrate once and agree on one VAPID key pair', async (t) => {
    const schema = await freshSchema(t);
    const stores = await Promise.all([1, 2, 3].map(() => openTestPgStore(t, { schema })));
    const { rows } = await sql<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(rows.map((r) => r.version), [1]);
    const push = { publicKey: undefined, privateKey: undefined, subject: 'mailto:ops@example.org', allowLocalEndpoints: false };
    const keys = await Promise.all(stores.map((store) => resolveVapidKeys(push, settingPushKeys(store))));
    assert.equal(new Set(keys.map((k) => k.keys.publicKey)).size, 1);
    const again = await resolveVapidKeys(push, settingPushKeys(stores[0]!));
    assert.equal(again.source, 'stored');
    assert.equal(again.keys.publicKey, keys[0]!.keys.publicKey);
  });

  it('what a user typed reaches SQL only as a parameter', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app, "Bobby'); DROP TABLE sessions; --");
    const ann = await joinAs(app.app, s.id, "O'Brien \\ $1 %s");
    await requestSong(app.app, s.id, ann.key, "'; SELECT pg_sleep(10); --");
    const state = (await request(app.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.name, "Bobby'); DROP TABLE sessions; --");
    assert.equal(state.queue[0].title, "'; SELECT pg_sleep(10); --");
    const { rows } = await sql<{ n: string }>(`SELECT count(*) AS n FROM ${app.schema}.sessions`);
    assert.equal(Number(rows[0]!.n), 1);
  });

  it('health names the store and the database, never its password, and probes with a write', async (t) => {
    const app = await buildApp(t, { config: { adminToken: ADMIN } });
    const brief = (await request(app.app).get('/healthz').expect(200)).body;
    assert.deepEqual(Object.keys(brief).sort(), ['startedAt', 'status', 'uptimeSeconds']);
    const details = (await request(app.app).get('/healthz').set(bearer(ADMIN)).expect(200)).body;
    assert.equal(details.store, 'postgres');
    assert.match(details.database, /^postgres:\/\/[^:@]*@127\.0\.0\.1:\d+\//);
    assert.equal(details.storage.writable, true);
    const { rows } = await sql<{ at: Date }>(`SELECT at FROM ${app.schema}.health_probe`);
    assert.equal(rows.length, 1);
  });

  it('keeps backups in the database: an unchanged state writes none, pruning keeps the newest', async (t) => {
    const app = await buildApp(t);
    await createSession(app.app, 'Backed up');
    const first = await app.store.backup('scheduled', { unlessUnchanged: true, at: new Date('2026-12-01T20:00:00Z') });
    assert.ok(first);
    assert.equal(await app.store.backup('scheduled', { unlessUnchanged: true, at: new Date('2026-12-01T21:00:00Z') }), null);
    await createSession(app.app, 'Another');
    const second = await app.store.backup('scheduled', { unlessUnchanged: true, at: new Date('2026-12-01T22:00:00Z') });
    assert.ok(second);
    const { rows } = await sql<{ data: Buffer }>(`SELECT data FROM ${app.schema}.backups WHERE name = $1`, [second.name]);
    assert.equal(Object.keys(JSON.parse(rows[0]!.data.toString()).sessions).length, 2);
    assert.deepEqual((await app.store.pruneBackups(1)).map((b) => b.name), [first.name]);
  });

  it('asks for TLS when the URL says sslmode=require', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.searchParams.set('sslmode', 'require');
    // The test cluster has no certificate: a store that asked for TLS is refused, never silently in clear.
    await assert.rejects(openPgStore({ connectionString: url.toString() }), /SSL/);
  });

  it('an unreachable database at start is one clear error', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.port = '1';
    await assert.rejects(openPgStore({ connectionString: url.toString(), connectTimeoutMs: 2000 }), /ECONNREFUSED|connect/);
  });
});

const text = (res: request.Response, done: (err: Error | null, body: string) => void) => {
  let body = '';
  const stream = res as unknown as NodeJS.ReadableStream;
  stream.on('data', (c: Buffer) => (body += c.toString()));
  stream.on('end', () => done(null, body));
};

/** Poll a condition another instance makes true (its notification arrives in a few milliseconds). */
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the other instance');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
