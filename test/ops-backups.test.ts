import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { createBackupJob } from '../server/ops/scheduled-backups.js';
import { startMaintenance } from '../server/ops/maintenance.js';
import { writeFileDurable } from '../server/lib/durable-file.js';
import { encodeStoredSongbook } from '../server/model/song.js';
import { pruneBackups, songbooksOf, writeBackup } from '../server/store/backup-files.js';
import { backupDir, backupSongbooks, listBackups, openStore, type BackupEntry, type BackupRecord } from '../server/store/index.js';
import { bearer, buildApp, createSession, durableText, joinAs, requestSong, tempDataDir } from './support/app.js';
import { captureLog, runScript } from './support/ops.js';
import { launchServer, startServer } from './support/processes.js';

const names = async (dataDir: string) => (await listBackups(dataDir)).map((e) => e.name);
const fileOf = (dataDir: string, backup: BackupRecord) => path.join(backupDir(dataDir), backup.name);

describe('backups', () => {
  it('a scheduled backup is exactly the durable state, and an unchanged store is not backed up twice', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app);
    const { log, lines } = captureLog();
    const job = createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() });

    const first = await job.run();
    assert.ok(first.written);
    assert.equal(await fs.readFile(fileOf(app.dataDir, first.written), 'utf8'), await durableText(app.dataDir));
    assert.equal((await fs.stat(fileOf(app.dataDir, first.written))).mode & 0o777, 0o600);
    assert.ok(lines().some((l) => l.msg === 'backup written' && l.backup === first.written!.name));

    assert.equal((await job.run()).written, null);

    const ann = await joinAs(app.app, s.id, 'Ann');
    await requestSong(app.app, s.id, ann.key, 'Song A');
    const third = await job.run();
    assert.ok(third.written);
    assert.match(await fs.readFile(fileOf(app.dataDir, third.written), 'utf8'), /Song A/);
    assert.equal((await names(app.dataDir)).length, 2);
  });

  it('a restarted job compares with the newest backup on disk, not with nothing', async (t) => {
    const app = await buildApp(t);
    await createSession(app.app);
    const { log } = captureLog();
    assert.ok((await createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() }).run()).written);
    assert.equal((await createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() }).run()).written, null);
  });

  it('a new, empty DATA_DIR gets no backup until it holds a session', async (t) => {
    const app = await buildApp(t);
    const { log } = captureLog();
    const job = createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() });
    assert.equal((await job.run()).written, null);
    await createSession(app.app);
    assert.ok((await job.run()).written);
  });

  it('backups are pruned to the newest BACKUP_KEEP, while pre-migration copies are kept', async (t) => {
    const dataDir = await tempDataDir(t);
    const base = Date.parse('2024-05-01T20:00:00.000Z');
    await writeBackup(dataDir, '{"version":1,"sessions":{}}', 'pre-migration-v1', new Date(base - 1000));
    for (let i = 0; i < 5; i += 1) {
      // Written out of order: names, not write order, give the time order.
      await writeBackup(dataDir, `{"n":${4 - i}}`, i === 2 ? 'pre-import' : 'scheduled', new Date(base + (4 - i) * 3_600_000));
    }
    await fs.writeFile(path.join(dataDir, 'backups', 'notes.txt'), 'not a backup');
    await fs.writeFile(path.join(dataDir, 'backups', '.data-x.json.123.abc.tmp'), 'half written');

    const removed = await pruneBackups(dataDir, 2);
    assert.deepEqual(removed.map((e) => e.createdAt.toISOString()), [
      '2024-05-01T20:00:00.000Z',
      '2024-05-01T21:00:00.000Z',
      '2024-05-01T22:00:00.000Z',
    ]);
    assert.deepEqual(await names(dataDir), [
      'data-2024-05-01T19-59-59-000Z-pre-migration-v1.json',
      'data-2024-05-01T23-00-00-000Z-scheduled.json',
      'data-2024-05-02T00-00-00-000Z-scheduled.json',
    ]);
    assert.deepEqual((await fs.readdir(path.join(dataDir, 'backups'))).sort(), [...(await names(dataDir)), 'notes.txt'].sort());
  });

  it('two backups in the same millisecond get two files', async (t) => {
    const dataDir = await tempDataDir(t);
    const at = new Date('2024-05-01T20:00:00.000Z');
    const a = await writeBackup(dataDir, 'a', 'pre-import', at);
    const b = await writeBackup(dataDir, 'b', 'pre-import', at);
    assert.notEqual(a.name, b.name);
    assert.equal(await fs.readFile(a.file, 'utf8'), 'a');
    assert.equal(await fs.readFile(b.file, 'utf8'), 'b');
  });

  it('maintenance backs up at start and again on every BACKUP_INTERVAL, keeping BACKUP_KEEP', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const app = await buildApp(t, { config: { backupIntervalMs: 60_000, backupKeep: 2 } });
    const s = await createSession(app.app);
    const { log } = captureLog();
    const maintenance = startMaintenance({ config: app.config, store: app.store, changes: app.changes, qr: app.qr, log });
    t.after(() => maintenance.stop());
    await maintenance.idle();
    assert.equal((await names(app.dataDir)).length, 1);

    for (const name of ['Ann', 'Bo']) {
      await joinAs(app.app, s.id, name);
      t.mock.timers.tick(60_000);
      await maintenance.idle();
    }
    const kept = await listBackups(app.dataDir);
    assert.equal(kept.length, 2);
    assert.match(await fs.readFile(kept[1]!.file, 'utf8'), /"Bo"/);
    assert.doesNotMatch(await fs.readFile(kept[0]!.file, 'utf8'), /"Bo"/);
  });

  it('BACKUP_INTERVAL_MINUTES=0 turns scheduled backups off and says so', async (t) => {
    const app = await buildApp(t, { config: { backupIntervalMs: 0 } });
    await createSession(app.app);
    const { log, lines } = captureLog();
    const maintenance = startMaintenance({ config: app.config, store: app.store, changes: app.changes, qr: app.qr, log });
    t.after(() => maintenance.stop());
    await maintenance.idle();
    assert.deepEqual(await names(app.dataDir), []);
    assert.ok(lines().some((l) => /backups are off/.test(l.msg)));
  });

  it('backups --restore refuses while a server holds the lock, and restores once it is stopped', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app);
    const { log } = captureLog();
    const { written } = await createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() }).run();
    assert.ok(written);
    await request(app.app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    const dataFile = path.join(app.dataDir, 'data.json');
    const afterDelete = await durableText(app.dataDir);

    const refused = await runScript('local-backups', ['--data-dir', app.dataDir, '--restore', written.name]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /held by another server process \(pid \d+/);
    assert.equal(await durableText(app.dataDir), afterDelete);

    await app.close();
    const done = await runScript('local-backups', ['--data-dir', app.dataDir, '--restore', written.name]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`restored ${written.name} \\(1 session`));
    assert.equal(await fs.readFile(dataFile, 'utf8'), await fs.readFile(fileOf(app.dataDir, written), 'utf8'));
    const replaced = (await listBackups(app.dataDir)).find((e) => e.reason === 'pre-restore');
    assert.ok(replaced);
    assert.equal(await fs.readFile(replaced.file, 'utf8'), afterDelete);

    const reopened = await openStore({ dataDir: app.dataDir });
    t.after(() => reopened.store.close());
    assert.equal(reopened.store.get(s.id)?.name, 'Friday Night');
  });

  it('a backup keeps the songbooks its rooms had, linked and not copied; a restore after the room was deleted brings its songbook back; pruning lets them go', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app);
    const songbookFile = path.join(app.dataDir, 'songbooks', `${s.id}.json`);
    const upload = (csv: string) => request(app.app).put(`/api/sessions/${s.id}/songbook`).set(bearer(s.hostKey)).set('Content-Type', 'text/csv').send(csv).expect(200);
    const { log } = captureLog();
    const job = createBackupJob({ store: app.store, keep: 10, log, now: () => new Date() });
    const entry = async (record: BackupRecord | null): Promise<BackupEntry> => (await listBackups(app.dataDir)).find((e) => e.name === record?.name)!;

    await upload('Artist,Title\nQueen,Bohemian Rhapsody\nABBA,Waterloo\n');
    const songbookA = await fs.readFile(songbookFile);
    const first = await entry((await job.run()).written);
    const keptA = (await backupSongbooks(first)).get(s.id);
    assert.ok(keptA, 'the backup keeps the songbook');
    assert.equal((await fs.stat(keptA)).ino, (await fs.stat(songbookFile)).ino, 'a link, not a copy');

    await upload('Artist,Title\nToto,Africa\n');
    const second = await entry((await job.run()).written);
    assert.deepEqual(await fs.readFile(keptA), songbookA, 'a new upload leaves the older backup its own version');
    assert.deepEqual(await fs.readFile((await backupSongbooks(second)).get(s.id)!), await fs.readFile(songbookFile));

    // A file that is not the version the state names (here, written behind the state's back, and
    // by a rename as the server writes, never in place) is not kept.
    await writeFileDurable(songbookFile, encodeStoredSongbook({ updatedAt: '2020-01-01T00:00:00.000Z', format: 'csv', songs: [] }));
    assert.equal((await backupSongbooks(await entry(await app.store.backup('pre-import')))).size, 0);
    await upload('Artist,Title\nToto,Africa\n');

    await request(app.app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    assert.equal(await fs.stat(songbookFile).catch(() => null), null, 'the room took its songbook with it');
    await app.close();

    const listed = await runScript('local-backups', ['--data-dir', app.dataDir]);
    assert.match(listed.stdout, new RegExp(`${first.name} .*1 session\\(s\\), 1 songbook\\(s\\)`));
    const restored = await runScript('local-backups', ['--data-dir', app.dataDir, '--restore', first.name]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /songbooks: 1 put back from the backup\n/);
    const again = await buildApp(t, { dataDir: app.dataDir });
    const found = await request(again.app).get(`/api/sessions/${s.id}/songs`).query({ q: 'waterloo' }).expect(200);
    assert.deepEqual(found.body.results.map((r: { title: string }) => r.title), ['Waterloo']);
    assert.deepEqual(await fs.readFile(songbookFile), songbookA);

    // A crash between a backup's songbooks and the backup itself leaves a folder no backup owns.
    const orphan = path.join(backupDir(app.dataDir), 'data-2024-05-01T20-00-00-000Z-scheduled.songbooks');
    await fs.mkdir(orphan);
    await fs.writeFile(path.join(orphan, `${s.id}.json`), songbookA);
    const gone = async (p: string) => (await fs.stat(p).catch(() => null)) === null;
    // Oldest first: first, second, pre-import, pre-restore. Keeping three lets the first go.
    assert.deepEqual((await pruneBackups(app.dataDir, 3)).map((e) => e.name), [first.name]);
    assert.ok(await gone(songbooksOf(first.file)), "the pruned backup's songbooks go with it");
    assert.ok(await gone(orphan), 'a folder no backup owns goes');
    const keptB = (await backupSongbooks(second)).get(s.id);
    assert.ok(keptB, 'a kept backup keeps its songbooks');
    assert.match(await fs.readFile(keptB, 'utf8'), /"title":"Africa"/);
    await again.close();
  });

  it('backups lists each backup with its check, and refuses unknown or broken ones without touching data.json', async (t) => {
    const dataDir = await tempDataDir(t);
    const good = await writeBackup(dataDir, '{"version":1,"sessions":{}}', 'scheduled', new Date('2024-05-01T20:00:00Z'));
    const broken = await writeBackup(dataDir, '{"version":1,"sess', 'scheduled', new Date('2024-05-01T21:00:00Z'));
    await fs.writeFile(path.join(dataDir, 'data.json'), 'current');

    const listed = await runScript('local-backups', ['--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${good.name} .*0 session\\(s\\), 0 songbook\\(s\\), schema v1`));
    assert.match(listed.stdout, new RegExp(`${broken.name} .*NOT RESTORABLE: .*not valid JSON`));

    const bad = await runScript('local-backups', ['--data-dir', dataDir, '--restore', broken.name]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not valid JSON/);
    const unknown = await runScript('local-backups', ['--data-dir', dataDir, '--restore', '../data.json']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No backup named "..\/data.json"/);
    assert.equal(await fs.readFile(path.join(dataDir, 'data.json'), 'utf8'), 'current');
    assert.equal((await listBackups(dataDir)).length, 2);

    const usage = await runScript('local-backups', ['--data-dir', dataDir, '--restor', 'x']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--help/);
  });

  it('the recovery path: an unreadable data.json stops the server; backups --restore latest brings it back', async (t) => {
    const dataDir = await tempDataDir(t);
    const first = await startServer(t, dataDir);
    const created = await fetch(`${first.url}/api/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Saved Night' }),
    });
    const { session } = (await created.json()) as { session: { id: string } };
    // The server backs up at start; a second start backs up what the first one wrote.
    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });
    const second = await startServer(t, dataDir);
    assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal((await listBackups(dataDir)).length, 1);

    await fs.writeFile(path.join(dataDir, 'data.json'), '\0'.repeat(512));
    const refused = launchServer(t, dataDir);
    assert.equal((await refused.exited).code, 1);
    assert.match(refused.stderr(), /data\.json is not valid JSON/);

    const restored = await runScript('local-backups', ['--data-dir', dataDir, '--restore', 'latest']);
    assert.equal(restored.code, 0, restored.stderr);
    const third = await startServer(t, dataDir);
    const res = await fetch(`${third.url}/api/sessions/${session.id}`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { name: string }).name, 'Saved Night');
  });

  it('backups --restore run as root refuses a DATA_DIR owned by the server user', { skip: process.getuid?.() !== 0 && 'only root can hit this' }, async (t) => {
    const dataDir = await tempDataDir(t);
    const backup = await writeBackup(dataDir, '{"version":1,"sessions":{}}', 'scheduled');
    await fs.chown(dataDir, 1000, 1000);
    const result = await runScript('local-backups', ['--data-dir', dataDir, '--restore', backup.name]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /belongs to uid 1000, and this runs as root/);
    await assert.rejects(fs.stat(path.join(dataDir, 'data.json')));
  });
});
