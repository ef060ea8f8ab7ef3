import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import request from 'supertest';
import { QrCodes } from '../server/qr.js';
import { hashKey } from '../server/sessions/auth.js';
import type { StoredSession } from '../server/model/session.js';
import { listBackups, openStore } from '../server/store/index.js';
import { bearer, buildApp, createSession, tempDataDir } from './support/app.js';
import { fixturePath, runScript } from './support/ops.js';
import { readDataFile } from './support/processes.js';

const LEGACY = fixturePath('legacy-app');
const FRIDAY_KEY = 'fridayNightHostKey-2023-keep-me';

const importLegacy = (args: string[]) => runScript('import-legacy', ['--from', LEGACY, ...args]);
const byName = (sessions: Record<string, StoredSession>, name: string) => Object.values(sessions).find((s) => s.name === name);

async function imported(t: TestContext) {
  const dataDir = await tempDataDir(t);
  const result = await importLegacy(['--data-dir', dataDir]);
  assert.equal(result.code, 0, result.stderr);
  return { dataDir, result, data: await readDataFile(dataDir) };
}

describe('legacy import', () => {
  it('import-legacy converts the legacy data.json: hashed keys, ids, singers, queue order, current song and history', async (t) => {
    const { data, result } = await imported(t);
    assert.equal(Object.keys(data.sessions).length, 3);
    const friday = data.sessions.K7MP2Q!;
    assert.equal(friday.name, 'Friday Night');
    assert.equal(friday.hostKeyHash, hashKey(FRIDAY_KEY));
    assert.doesNotMatch(JSON.stringify(data), new RegExp(FRIDAY_KEY), 'no plain key is stored');
    assert.equal(friday.createdAt, new Date(1699644000000).toISOString());
    assert.deepEqual(friday.queue.map((r) => `${r.singer.name}:${r.title}:${r.artist}`), ['Ann:Dancing Queen:ABBA', 'Bo:Africa:Toto', 'Ann:Waterloo:ABBA']);
    assert.equal(friday.queue[1]!.link, 'https://example.com/africa');
    assert.equal(friday.queue[0]!.singer.id, friday.queue[2]!.singer.id, '"ann" and "Ann" are one singer');
    assert.deepEqual(friday.singers.map((s) => [s.name, s.keyHash]), [['Bo', null], ['Eve', null], ['Dee', null], ['Ann', null]]);
    assert.equal(friday.nowSinging?.title, 'Wonderwall');
    assert.equal(friday.nowSinging?.startedAt, '2023-11-10T20:05:00.000Z');
    assert.deepEqual(friday.history.map((h) => `${h.title}:${h.outcome}`), ['Take On Me:sung', 'Zombie:skipped']);
    assert.equal(new Set([...friday.queue, ...friday.history].map((r) => r.id)).size, 5, 'every song has its own id');
    assert.equal(friday.origin, 'http://karaoke.local:3000');
    assert.match(result.stdout, /K7MP2Q "Friday Night": import 3 queued, 1 singing, 2 in history, 4 singers, 1 songs without a title left out/);

    const office = byName(data.sessions, 'Office Party')!;
    assert.notEqual(office.id, 'AB10CD');
    assert.equal(office.status, 'closed');
    assert.equal(office.queue[0]!.link, null, 'a javascript: link is dropped');
    assert.match(result.stdout, new RegExp(`${office.id} "Office Party" \\(legacy code "ab10cd" was not a valid code\\)`));
    assert.equal(byName(data.sessions, 'Birthday Bash')?.id, 'WXYZ23', 'control characters are cleaned from names');
  });

  it('imported sessions work through the API with their old host key; a weak key is replaced by a printed one', async (t) => {
    const { dataDir, result, data } = await imported(t);
    const app = await buildApp(t, { dataDir });
    await request(app.app).patch('/api/sessions/k7mp2q').set(bearer(FRIDAY_KEY)).send({ status: 'paused' }).expect(200);
    const office = byName(data.sessions, 'Office Party')!;
    const key = new RegExp(`/host/${office.id}#key=([A-Za-z0-9_-]{43})`).exec(result.stdout)?.[1];
    assert.ok(key, result.stdout);
    await request(app.app).patch(`/api/sessions/${office.id}`).set(bearer(key)).send({ status: 'open' }).expect(200);
    const res = await request(app.app).post('/api/sessions/K7MP2Q/next').set(bearer(FRIDAY_KEY)).send({}).expect(200);
    assert.equal(res.body.nowSinging.title, 'Dancing Queen');
  });

  it('import-legacy copies the QR PNG of a session that kept its code, and writes new ones otherwise', async (t) => {
    const { dataDir, result, data } = await imported(t);
    const qr = path.join(dataDir, 'qr-codes');
    assert.deepEqual(await fs.readFile(path.join(qr, 'K7MP2Q.png')), await fs.readFile(path.join(LEGACY, 'public/qr-codes/k7mp2q.png')));
    const office = byName(data.sessions, 'Office Party')!;
    const officePng = await fs.readFile(path.join(qr, `${office.id}.png`));
    assert.notDeepEqual(officePng, await fs.readFile(path.join(LEGACY, 'public/qr-codes/ab10cd.png')));
    // The legacy wxyz23.png is not a PNG: it is not copied, a real one is written.
    assert.deepEqual((await fs.readFile(path.join(qr, 'WXYZ23.png'))).subarray(1, 4).toString(), 'PNG');
    assert.deepEqual((await fs.readdir(qr)).sort(), ['K7MP2Q.png', 'WXYZ23.png', `${office.id}.png`].sort(), 'the orphan legacy PNG stays behind');
    assert.match(result.stdout, /imported 3 session\(s\) into .*data\.json \(0 already there\); 1 QR file\(s\) copied, 2 written new/);
  });

  it('import-legacy runs once: a second run is refused and changes nothing', async (t) => {
    const { dataDir } = await imported(t);
    const before = await fs.readFile(path.join(dataDir, 'data.json'), 'utf8');
    const again = await importLegacy(['--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has 3 session\(s\)\. Run with --merge/);
    const merged = await importLegacy(['--data-dir', dataDir, '--merge']);
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /K7MP2Q: already imported from legacy code "k7mp2q"/);
    assert.match(merged.stdout, /: already imported from legacy code "ab10cd"/);
    assert.match(merged.stdout, /imported 0 session\(s\)/);
    assert.equal(await fs.readFile(path.join(dataDir, 'data.json'), 'utf8'), before);
  });

  it('import-legacy --merge adds beside existing sessions without changing them or their files', async (t) => {
    const app = await buildApp(t);
    const mine = await createSession(app.app, 'Current Night');
    // A current session that happens to hold the legacy code K7MP2Q.
    const taken: StoredSession = { ...app.store.get(mine.id)!, id: 'K7MP2Q', name: 'Taken Code' };
    await app.store.put(taken);
    await app.qr.writePng('K7MP2Q', Buffer.from('the current PNG'));
    await app.close();

    const result = await importLegacy(['--data-dir', app.dataDir, '--merge']);
    assert.equal(result.code, 0, result.stderr);
    const data = await readDataFile(app.dataDir);
    assert.equal(Object.keys(data.sessions).length, 5);
    assert.deepEqual(data.sessions.K7MP2Q, taken);
    assert.deepEqual(data.sessions[mine.id], app.store.get(mine.id));
    const friday = byName(data.sessions, 'Friday Night')!;
    assert.notEqual(friday.id, 'K7MP2Q');
    assert.match(result.stdout, /legacy code "k7mp2q" was taken/);
    assert.equal(await fs.readFile(path.join(app.dataDir, 'qr-codes', 'K7MP2Q.png'), 'utf8'), 'the current PNG');
    const backup = (await listBackups(app.dataDir)).find((e) => e.reason === 'pre-legacy-import');
    assert.ok(backup, 'the data before the import is kept as a backup');
  });

  it('import-legacy --dry-run says what it would do and writes nothing', async (t) => {
    const dataDir = path.join(await tempDataDir(t), 'not-yet');
    const result = await importLegacy(['--data-dir', dataDir, '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /K7MP2Q "Friday Night": would import/);
    assert.match(result.stdout, /would copy QR code k7mp2q\.png/);
    assert.match(result.stdout, /dry run: nothing written; would import 3 session\(s\)/);
    await assert.rejects(fs.stat(dataDir));
  });

  it('import-legacy refuses while a server holds the DATA_DIR lock', async (t) => {
    const dataDir = await tempDataDir(t);
    // What a running server holds: the store's lock, and the QR folder main prepares.
    const { store } = await openStore({ dataDir });
    t.after(() => store.close());
    await new QrCodes(dataDir, undefined).prepare();
    const result = await importLegacy(['--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /held by another server process/);
    assert.equal(store.count(), 0);
    assert.deepEqual(await fs.readdir(path.join(dataDir, 'qr-codes')), []);
  });

  it('import-legacy refuses what is not a legacy app folder', async (t) => {
    const dir = await tempDataDir(t);
    const dataDir = await tempDataDir(t);
    const missing = await runScript('import-legacy', ['--from', dir, '--data-dir', dataDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /There is no data\.json in/);
    await fs.writeFile(path.join(dir, 'data.json'), '{"version":1,"sessions":{}}');
    const current = await runScript('import-legacy', ['--from', dir, '--data-dir', dataDir]);
    assert.equal(current.code, 1);
    assert.match(current.stderr, /already in the current layout/);
    await fs.writeFile(path.join(dir, 'data.json'), '{"sessions":[{"id":"x"}]}');
    const shape = await runScript('import-legacy', ['--from', dir, '--data-dir', dataDir]);
    assert.equal(shape.code, 1);
    assert.match(shape.stderr, /is not a legacy data file \(sessions\.0\.name/);
    assert.deepEqual(await fs.readdir(dataDir), []);
  });
});
