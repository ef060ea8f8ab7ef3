import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import request from 'supertest';
import { renderQrPng } from '../server/qr.js';
import { listBackups } from '../server/store/index.js';
import { bearer, buildApp, createSession, durableText, joinAs, listen, queueOf, requestSong } from './support/app.js';
import { readDataFile } from './support/processes.js';
import { SseClient } from '../scripts/bench/sse-client.js';

const TOKEN = 'Hf3kQ9tZ2wLm8RvX5cBn7JdP';
const admin = () => bearer(TOKEN);

async function adminApp(t: TestContext) {
  // The export is checked against data.json and the backups folder.
  return buildApp(t, { store: 'json', config: { adminToken: TOKEN } });
}

const exportOf = async (app: Awaited<ReturnType<typeof adminApp>>) =>
  (await request(app.app).get('/api/admin/export').set(admin()).buffer(true).parse((res, done) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => done(null, text));
  }).expect(200)).body as string;

const importText = (app: Awaited<ReturnType<typeof adminApp>>, text: string) =>
  request(app.app).post('/api/admin/import').set(admin()).set('Content-Type', 'application/json').send(text);

describe('admin export and import', () => {
  it('without ADMIN_TOKEN the admin routes do not exist (404)', async (t) => {
    const app = await buildApp(t);
    const res = await request(app.app).get('/api/admin/export').set(admin()).expect(404);
    assert.equal(res.body.error.code, 'not_found');
    await request(app.app).post('/api/admin/import').set(admin()).send({ version: 1, sessions: {} }).expect(404);
  });

  it('admin routes answer 401 without the token, with a wrong one, or with one of another length', async (t) => {
    const app = await adminApp(t);
    for (const headers of [{}, bearer(`${TOKEN.slice(0, -1)}x`), bearer('short'), { Authorization: TOKEN }]) {
      const res = await request(app.app).get('/api/admin/export').set(headers).expect(401);
      assert.equal(res.body.error.code, 'unauthorized');
    }
    await request(app.app).post('/api/admin/import').set('Content-Type', 'application/json').send('{}').expect(401);
  });

  it('GET /api/admin/export is the durable state, as a download', async (t) => {
    const app = await adminApp(t);
    const s = await createSession(app.app);
    const ann = await joinAs(app.app, s.id, 'Ann');
    await requestSong(app.app, s.id, ann.key, 'Song A');
    const res = await request(app.app).get('/api/admin/export').set(admin()).expect(200);
    assert.match(res.headers['content-disposition'] ?? '', /^attachment; filename="karaoke-export-[0-9TZ-]+\.json"$/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(await exportOf(app), await durableText(app.dataDir));
  });

  it('POST /api/admin/import restores an export: changed sessions come back, later ones go, a backup keeps what was replaced', async (t) => {
    const app = await adminApp(t);
    const kept = await createSession(app.app, 'Kept Night');
    const changed = await createSession(app.app, 'Changed Night');
    const deleted = await createSession(app.app, 'Deleted Night');
    const ann = await joinAs(app.app, changed.id, 'Ann');
    await requestSong(app.app, changed.id, ann.key, 'Song A');
    const exported = await exportOf(app);
    const versionAtExport = app.store.get(changed.id)!.version;

    await requestSong(app.app, changed.id, ann.key, 'Song B');
    await request(app.app).delete(`/api/sessions/${deleted.id}`).set(bearer(deleted.hostKey)).expect(204);
    const later = await createSession(app.app, 'Later Night');
    const beforeImport = await durableText(app.dataDir);
    const versionBefore = app.store.get(changed.id)!.version;

    const res = await importText(app, exported).expect(200);
    assert.deepEqual(res.body.imported, { sessions: 3, added: 1, updated: 1, removed: 1, unchanged: 1 });

    assert.deepEqual(await queueOf(app.app, changed.id), ['Ann:Song A']);
    const restored = app.store.get(changed.id)!;
    assert.ok(restored.version > versionBefore, 'the version keeps rising');
    const { version: _a, ...restoredRest } = restored;
    const { version: _b, ...exportedRest } = JSON.parse(exported).sessions[changed.id];
    assert.deepEqual(restoredRest, exportedRest);
    assert.ok(versionAtExport < restored.version);
    await request(app.app).get(`/api/sessions/${deleted.id}`).expect(200);
    await request(app.app).get(`/qr-codes/${deleted.id}.png`).expect(200);
    await request(app.app).get(`/api/sessions/${later.id}`).expect(404);
    assert.equal(await app.qr.exists(later.id), false);
    assert.deepEqual(app.store.get(kept.id), JSON.parse(exported).sessions[kept.id]);

    // Durable, and the replaced state is in the volume's backups.
    assert.deepEqual(Object.keys((await readDataFile(app.dataDir)).sessions).sort(), [kept.id, changed.id, deleted.id].sort());
    const backup = (await listBackups(app.dataDir)).find((e) => e.name === res.body.backup);
    assert.ok(backup);
    assert.equal(backup.reason, 'pre-import');
    assert.equal(await fs.readFile(backup.file, 'utf8'), beforeImport);
  });

  it('POST /api/admin/import refuses anything that is not a valid export, and changes nothing', async (t) => {
    const app = await adminApp(t);
    const s = await createSession(app.app);
    const valid = JSON.parse(await exportOf(app));
    const session = valid.sessions[s.id];
    const before = await durableText(app.dataDir);
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['{"version":1,"sessions":', /not valid JSON/],
      ['[]', /JSON object/],
      ['{"sessions":{}}', /version/],
      ['{"version":99,"sessions":{}}', /newer than this server/],
      [JSON.stringify({ version: 1, sessions: { [s.id]: { ...session, queue: 'none' } } }), /expected shape/],
      [JSON.stringify({ version: 1, sessions: { '../../etc': { ...session, id: '../../etc' } } }), /not a valid session code/],
      [JSON.stringify({ version: 1, sessions: { AAAAAA: session } }), /not a valid session code/],
    ];
    for (const [body, message] of bad) {
      const res = await importText(app, body).expect(400);
      assert.equal(res.body.error.code, 'invalid_export', body);
      assert.match(res.body.error.message, message, body);
    }
    const wrongType = await request(app.app).post('/api/admin/import').set(admin()).set('Content-Type', 'text/plain').send('{}').expect(400);
    assert.equal(wrongType.body.error.code, 'invalid_export');
    assert.equal(await durableText(app.dataDir), before);
    assert.deepEqual(await listBackups(app.dataDir), []);
  });

  it('an export far above the API body limit imports', async (t) => {
    const app = await adminApp(t);
    const s = await createSession(app.app);
    const template = JSON.parse(await exportOf(app)).sessions[s.id];
    const sessions: Record<string, unknown> = {};
    for (let i = 0; i < 200; i += 1) {
      const digits = '23456789ABCDEFGH';
      const id = `KMN${[i >> 8, (i >> 4) & 15, i & 15].map((d) => digits[d]).join('')}`;
      sessions[id] = { ...template, id, name: `Night ${i}` };
    }
    const text = JSON.stringify({ version: 1, sessions });
    assert.ok(text.length > app.config.bodyLimitBytes * 4);
    const res = await importText(app, text).expect(200);
    assert.equal(res.body.imported.sessions, Object.keys(sessions).length);
    assert.equal(app.store.count(), Object.keys(sessions).length);
  });

  it('an open stream of a restored session receives the restored state', async (t) => {
    const app = await adminApp(t);
    const s = await createSession(app.app);
    const ann = await joinAs(app.app, s.id, 'Ann');
    const exported = await exportOf(app);
    await requestSong(app.app, s.id, ann.key, 'After Export');
    const { url } = await listen(t, app);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    const first = await client.next();
    assert.equal(JSON.parse(first!.data).queue.length, 1);

    await importText(app, exported).expect(200);
    const event = await client.next();
    assert.equal(event?.event, 'state');
    const state = JSON.parse(event.data);
    assert.equal(state.queue.length, 0);
    assert.ok(Number(event.id) > Number(first!.id), 'the restored state has a higher version than the one the client saw');
  });

  it('a restored session from another origin gets a QR PNG for its own join URL', async (t) => {
    const app = await adminApp(t);
    const s = await createSession(app.app);
    await request(app.app).get(`/qr-codes/${s.id}.png`).expect(200);
    const exported = JSON.parse(await exportOf(app));
    exported.sessions[s.id] = { ...exported.sessions[s.id], origin: 'https://karaoke.example' };
    await importText(app, JSON.stringify(exported)).expect(200);
    const png = await request(app.app).get(`/qr-codes/${s.id}.png`).expect(200);
    assert.deepEqual(png.body, await renderQrPng(`https://karaoke.example/s/${s.id}`));
  });
});
