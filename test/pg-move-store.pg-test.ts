// `npm run move-store`: a venue's data from DATA_DIR to PostgreSQL and back, as an operator runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, requestSong, tempDataDir, type TestApp } from './support/app.js';
import { freshDatabase, onPostgres, sql } from './support/pg.js';

const MOVE = fileURLToPath(new URL('../scripts/move-store.js', import.meta.url));
const ADMIN = 'q7Vd2LxR9mTe4KpW8sZc3NhJ';

async function move(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MOVE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const exportOf = async (app: TestApp) =>
  (await request(app.app).get('/api/admin/export').set(bearer(ADMIN)).buffer(true).parse((res, done) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString()));
    res.on('end', () => done(null, text));
  }).expect(200)).body as string;

describe('npm run move-store', { skip: !onPostgres }, () => {
  it('moves sessions, nights, songbooks and push keys to PostgreSQL and back, with counts, a dry run and a refusal to overwrite', async (t) => {
    const dataDir = await tempDataDir(t);
    const venue = await buildApp(t, { dataDir, config: { adminToken: ADMIN } });
    const s = await createSession(venue.app, 'Tuesday');
    const ann = await joinAs(venue.app, s.id, 'Ann');
    await requestSong(venue.app, s.id, ann.key, 'Valerie');
    await request(venue.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    await request(venue.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    await request(venue.app).put(`/api/sessions/${s.id}/songbook`).set(bearer(s.hostKey)).set('Content-Type', 'text/csv').send('Artist,Title\nQueen,Bohemian Rhapsody\nABBA,Waterloo\n').expect(200);
    const bob = await joinAs(venue.app, s.id, 'Bob');
    await requestSong(venue.app, s.id, bob.key, 'Tonight');
    await createSession(venue.app, 'Another room');
    const before = await exportOf(venue);
    await venue.close();
    await (await import('node:fs/promises')).writeFile(`${dataDir}/vapid-keys.json`, JSON.stringify({ publicKey: 'pub', privateKey: 'priv' }));

    const db = await freshDatabase(t);
    const dry = await move('--from', dataDir, '--to', db, '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /2 session\(s\), 1 archived night\(s\), 1 songbook\(s\)/);
    assert.match(dry.stdout, /dry run: nothing written/);
    assert.equal(Number((await sql<{ n: string }>('SELECT count(*) AS n FROM sessions', [], db)).rows[0]!.n), 0);

    const moved = await move('--from', dataDir, '--to', db);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /now holds 2 session\(s\), 1 archived night\(s\), 1 songbook\(s\), and the push keys/);
    assert.doesNotMatch(moved.stdout + moved.stderr, /password/i);

    // The database now serves the same venue: tonight's queue, the search, the archive, the export.
    const pgApp = await buildApp(t, { databaseUrl: db, config: { adminToken: ADMIN } });
    assert.equal(await exportOf(pgApp), before);
    const search = (await request(pgApp.app).get(`/api/sessions/${s.id}/songs?q=rhapsody`).expect(200)).body;
    assert.equal(search.results[0].title, 'Bohemian Rhapsody');
    const nights = (await request(pgApp.app).get(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
    assert.equal(nights.length, 1);
    assert.deepEqual((await sql<{ value: unknown }>("SELECT value FROM settings WHERE name = 'vapid_keys'", [], db)).rows[0]!.value, { publicKey: 'pub', privateKey: 'priv' });
    await pgApp.close();

    const again = await move('--from', dataDir, '--to', db);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty .* Run with --force/);

    // And back, to a new folder: the same export again.
    const back = await tempDataDir(t);
    const returned = await move('--from', db, '--to', back);
    assert.equal(returned.code, 0, returned.stderr);
    const home = await buildApp(t, { dataDir: back, config: { adminToken: ADMIN } });
    assert.equal(await exportOf(home), before);
  });
});
