// The change journal beside data.json: commits append to it, checkpoints fold it into data.json,
// and a start after an unclean stop replays it. "An unclean stop" here is a copy of DATA_DIR's files
// taken while the store is open, which is what a restart after a crash finds on disk.
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createSession as newSession } from '../server/sessions/queue.js';
import { writeBackup } from '../server/store/backup-files.js';
import { listBackups, openStore, readStoredData, restoreBackup, serializeData, UnreadableDataError } from '../server/store/index.js';
import fc from 'fast-check';
import request from 'supertest';
import { applyPatch, diffSession } from '../server/store/session-patch.js';
import { bearer, buildApp, createSession, joinAs, requestSong, tempDataDir } from './support/app.js';
import { startServer } from './support/processes.js';

const session = (id: string, name = id) =>
  newSession({ id, name, hostKeyHash: 'h', origin: 'http://localhost', now: new Date('2026-11-20T20:00:00Z') });

const journalOf = (dir: string) => path.join(dir, 'data.journal');
const dataOf = (dir: string) => path.join(dir, 'data.json');
const sessionIds = async (dir: string) => Object.keys(JSON.parse(await readFile(dataOf(dir), 'utf8')).sessions).sort();

/** The files a restart would find if the machine stopped now. */
async function crashCopy(t: TestContext, dataDir: string): Promise<string> {
  const copy = await tempDataDir(t, 'karaoke-crash-');
  await mkdir(copy, { recursive: true });
  await copyFile(dataOf(dataDir), dataOf(copy));
  await copyFile(journalOf(dataDir), journalOf(copy));
  return copy;
}

async function openFor(t: TestContext, dataDir: string, checkpointMinBytes?: number) {
  const opened = await openStore({ dataDir, checkpointMinBytes });
  t.after(() => opened.store.close());
  return opened;
}

describe('journal', () => {
  it('a commit is appended to the journal, and a clean close folds it into data.json', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    await store.put(session('AAAAAA'));
    await Promise.all([store.put(session('BBBBBB')), store.put(session('CCCCCC'))]);
    await store.remove('AAAAAA');

    assert.deepEqual(await sessionIds(dataDir), [], 'data.json is not rewritten for each commit');
    const lines = (await readFile(journalOf(dataDir), 'utf8')).split('\n').filter(Boolean);
    assert.equal(lines.length, 3, 'one journal line per commit');
    assert.match(lines[2]!, /^[0-9a-f]{8} \{"sessions":\{"AAAAAA":null\}\}$/);
    assert.deepEqual(Object.keys((await readStoredData(dataDir)).sessions).sort(), ['BBBBBB', 'CCCCCC']);
    assert.equal(store.stats().checkpoints, 0);

    await store.close();
    assert.deepEqual(await sessionIds(dataDir), ['BBBBBB', 'CCCCCC']);
    assert.equal((await stat(journalOf(dataDir))).size, 0, 'the journal is empty after a clean close');
  });

  it('data.json is rewritten once the journal has grown as big as it', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir, 1);
    await store.put(session('AAAAAA'));
    assert.equal(store.stats().checkpoints, 0, 'the first commit is appended');
    await store.put(session('BBBBBB'));
    assert.equal(store.stats().checkpoints, 1, 'the journal outgrew the empty data.json');
    assert.deepEqual(await sessionIds(dataDir), ['AAAAAA', 'BBBBBB']);
    assert.equal((await stat(journalOf(dataDir))).size, 0);
    await store.put(session('AAAAAA', 'renamed'));
    assert.equal((await readStoredData(dataDir)).sessions.AAAAAA?.name, 'renamed');
  });

  it('a start after an unclean stop replays the journal, then starts from a complete data.json', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    await store.put(session('BBBBBB'));
    await store.put(session('AAAAAA', 'renamed'));
    await store.remove('BBBBBB');
    const copy = await crashCopy(t, dataDir);

    const reopened = await openFor(t, copy);
    assert.deepEqual(reopened.replayed, { records: 4, tornBytes: 0, damaged: null });
    assert.equal(reopened.store.get('AAAAAA')?.name, 'renamed');
    assert.equal(reopened.store.get('BBBBBB'), undefined);
    assert.deepEqual(await sessionIds(copy), ['AAAAAA'], 'the replayed state is written to data.json at once');
    assert.equal((await stat(journalOf(copy))).size, 0);
  });

  it('replaying a journal that a checkpoint already holds changes nothing', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA', 'first'));
    await store.put(session('AAAAAA', 'second'));
    const journal = await readFile(journalOf(dataDir));
    await store.close();
    // A crash after the checkpoint's data.json was written but before the journal was emptied.
    await writeFile(journalOf(dataDir), journal);
    const reopened = await openFor(t, dataDir);
    assert.equal(reopened.replayed.records, 2);
    assert.equal(reopened.store.get('AAAAAA')?.name, 'second');
  });

  it('a torn last append (never acknowledged) is dropped; the records before it are kept', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    const copy = await crashCopy(t, dataDir);
    await store.put(session('BBBBBB'));
    const whole = await readFile(journalOf(dataDir));
    const first = whole.indexOf('\n') + 1;
    await appendFile(journalOf(copy), whole.subarray(first, first + 40));

    const reopened = await openFor(t, copy);
    assert.deepEqual(reopened.replayed, { records: 1, tornBytes: 40, damaged: null });
    assert.deepEqual([...reopened.store.sessions()].map((s) => s.id), ['AAAAAA']);
  });

  it('a whole last record that fails its CRC is damage, not a torn write: reported, and the journal kept', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    await store.put(session('BBBBBB'));
    const copy = await crashCopy(t, dataDir);
    const original = await readFile(journalOf(copy));
    const damaged = Buffer.from(original);
    const second = damaged.indexOf('\n') + 1;
    damaged[second + 30] = damaged[second + 30]! ^ 0x01; // one flipped bit inside the last, newline-terminated record
    await writeFile(journalOf(copy), damaged);

    const reopened = await openFor(t, copy);
    const report = reopened.replayed;
    assert.equal(report.records, 1);
    assert.equal(report.tornBytes, 0, 'a terminated line is never torn');
    assert.deepEqual({ ...report.damaged, copy: undefined }, { offset: second, bytes: damaged.length - second, copy: undefined });
    assert.match(String(report.damaged?.copy), /data\.journal\.damaged-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    assert.ok((await readFile(report.damaged!.copy!)).equals(damaged), 'the damaged journal is kept byte for byte');
    assert.deepEqual([...reopened.store.sessions()].map((s) => s.id), ['AAAAAA']);
  });

  it('a server started on a damaged journal logs an error line and /healthz says degraded, with the reason for the admin', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    const copy = await crashCopy(t, dataDir);
    const damaged = await readFile(journalOf(copy));
    damaged[20] = damaged[20]! ^ 0x01;
    await writeFile(journalOf(copy), damaged);
    const token = 'Wq5tN8kR2zH7mX4cV9bL3pJd';
    const server = await startServer(t, copy, { ADMIN_TOKEN: token });
    const line = server.stdout().split('\n').find((l) => l.includes('data.journal was damaged'));
    assert.ok(line, server.stdout());
    assert.equal(JSON.parse(line).level, 50, 'an error-level line');
    const open = (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>;
    assert.equal(open.status, 'degraded');
    assert.equal(open.reason, undefined, 'the public sees only the status');
    const admin = (await (await fetch(`${server.url}/healthz`, { headers: { Authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    assert.equal(admin.status, 'degraded');
    assert.match(String(admin.reason), /^data\.journal was damaged at byte 0 \(\d+ bytes not replayed\); a copy is in .*data\.journal\.damaged-.*See docs\/operations\.md/);
  });

  it('damage before records that were saved after it stops the start and changes no file', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    await store.put(session('BBBBBB'));
    const copy = await crashCopy(t, dataDir);
    const damaged = await readFile(journalOf(copy));
    damaged[20] = damaged[20]! ^ 0x01;
    await writeFile(journalOf(copy), damaged);
    const dataBefore = await readFile(dataOf(copy));

    await assert.rejects(openStore({ dataDir: copy }), (err: Error) => {
      assert.ok(err instanceof UnreadableDataError);
      assert.match(err.message, /data\.journal is damaged at byte 0, before changes that were saved after it/);
      return true;
    });
    assert.ok((await readFile(journalOf(copy))).equals(damaged));
    assert.ok((await readFile(dataOf(copy))).equals(dataBefore));
  });

  it('a journal without its data.json stops the start', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openFor(t, dataDir);
    await store.put(session('AAAAAA'));
    const copy = await crashCopy(t, dataDir);
    await rm(dataOf(copy));
    await assert.rejects(openStore({ dataDir: copy }), /data\.journal holds changes but .*data\.json is missing/);
  });

  it('a restore keeps the journal-replayed state as its pre-restore backup and empties the journal', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    await store.put(session('PASTPA'));
    await store.close();
    await writeBackup(dataDir, await readFile(dataOf(dataDir)), 'scheduled', new Date('2026-11-20T21:00:00Z'));

    const reopened = await openStore({ dataDir });
    await reopened.store.put(session('NEWWWW'));
    const crashed = await crashCopy(t, dataDir);
    await reopened.store.close();
    await mkdir(path.join(crashed, 'backups'));
    for (const b of await listBackups(dataDir)) await copyFile(b.file, path.join(crashed, 'backups', b.name));

    const result = await restoreBackup(crashed, 'latest', new Date('2026-11-20T22:00:00Z'));
    assert.ok(result.previous);
    const previous = await readFile(result.previous.file, 'utf8');
    assert.equal(previous, serializeData(await readStoredData(dataDir)).toString(), 'the state a restart would have loaded');
    assert.deepEqual(Object.keys(JSON.parse(previous).sessions).sort(), ['NEWWWW', 'PASTPA']);
    await assert.rejects(stat(journalOf(crashed)), 'the journal is gone, so nothing is replayed onto the restored file');
    assert.deepEqual(Object.keys((await readStoredData(crashed)).sessions), ['PASTPA']);
  });
});

describe('journal records that cost what the change is', () => {
  /** A night with `singers` guests who have each sung one song, through the API as the server makes it. */
  async function bigNight(t: TestContext, singers: number) {
    const app = await buildApp(t, { store: 'json', config: { nightsKeep: 2 } });
    const s = await createSession(app.app);
    await request(app.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ rotation: 'fifo' }).expect(200);
    for (let i = 0; i < singers; i += 1) {
      const guest = await joinAs(app.app, s.id, `Guest ${i}`);
      await requestSong(app.app, s.id, guest.key, `Song ${i}`, 'Some Band');
    }
    for (let i = 0; i < singers; i += 1) await request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    return { app, s };
  }

  const lastLine = async (dir: string) => (await readFile(journalOf(dir), 'utf8')).split('\n').filter(Boolean).at(-1)!;

  it('a join to a big night and a song sung write what changed, not the night again; a crash replays them exactly', async (t) => {
    const { app, s } = await bigNight(t, 120);
    const sessionBytes = JSON.stringify(app.store.get(s.id)).length;
    await joinAs(app.app, s.id, 'Late Arrival');
    const join = await lastLine(app.dataDir);
    assert.ok(join.length < 2000, `a join wrote ${join.length} bytes for a ${sessionBytes}-byte session`);
    assert.match(join, /"parts":\{"[A-Z0-9]{6}":\{"from":\d+,"to":\d+/);
    const late = await joinAs(app.app, s.id, 'Later Still');
    await requestSong(app.app, s.id, late.key, 'One More');
    await request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    const next = await lastLine(app.dataDir);
    assert.ok(next.length < 4000, `a next wrote ${next.length} bytes for a ${sessionBytes}-byte session`);

    const copy = await crashCopy(t, app.dataDir);
    const reopened = await openFor(t, copy);
    assert.deepEqual(reopened.store.get(s.id), app.store.get(s.id), 'the replayed night is the acknowledged one');
  });

  it('patches that data.json already holds (a crash between a checkpoint and the journal reset) are skipped', async (t) => {
    const { app, s } = await bigNight(t, 5);
    await joinAs(app.app, s.id, 'After');
    const journal = await readFile(journalOf(app.dataDir));
    const wanted = app.store.get(s.id);
    await app.close();
    // The clean close checkpointed; put the old journal back beside the new data.json.
    await writeFile(journalOf(app.dataDir), journal);
    const reopened = await openFor(t, app.dataDir);
    assert.deepEqual(reopened.store.get(s.id), wanted);
  });

  it('a patch that does not follow from the version in data.json stops the start, naming the session', async (t) => {
    const { app, s } = await bigNight(t, 3);
    await joinAs(app.app, s.id, 'After');
    const join = `${await lastLine(app.dataDir)}\n`;
    await app.close();
    // data.json goes back to an older version of the session: the join's patch no longer follows from it.
    const data = JSON.parse(await readFile(dataOf(app.dataDir), 'utf8'));
    data.sessions[s.id].version -= 5;
    await writeFile(dataOf(app.dataDir), JSON.stringify(data));
    await writeFile(journalOf(app.dataDir), join);
    await assert.rejects(openStore({ dataDir: app.dataDir }), (err: Error) => err instanceof UnreadableDataError && err.message.includes(s.id) && /from version/.test(err.message));
  });
});

describe('session patches', () => {
  it('applied to the JSON of the old session, any patch gives exactly the JSON of the new one', () => {
    // Arrays of shared items changed as the queue logic changes them: items moved, removed,
    // inserted anywhere, dropped at the front, added at the end; fields replaced or removed.
    const item = fc.record({ id: fc.string({ maxLength: 4 }), n: fc.integer() });
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: item }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('move' as const), from: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant('shift' as const) }),
      fc.record({ kind: fc.constant('push' as const), value: item }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), fc.array(edit, { maxLength: 6 }), fc.boolean(), fc.boolean(), (list, edits, rename, drop) => {
        const before = { id: 'AAAAAA', version: 3, name: 'Night', list, other: [...list], extra: { a: 1 } };
        const after: Record<string, unknown> = { ...before, version: 4 };
        const next = [...list];
        for (const e of edits) {
          const at = (n: number) => (next.length === 0 ? 0 : n % (next.length + 1));
          if (e.kind === 'insert') next.splice(at(e.at), 0, e.value);
          else if (e.kind === 'remove' && next.length > 0) next.splice(e.at % next.length, 1);
          else if (e.kind === 'move' && next.length > 0) next.splice(e.to % next.length, 0, ...next.splice(e.from % next.length, 1));
          else if (e.kind === 'shift') next.shift();
          else if (e.kind === 'push') next.push(e.value);
        }
        after.list = next;
        if (rename) after.name = 'Renamed';
        if (drop) delete after.extra;
        const patch = diffSession(before, after)!;
        const sessions: Record<string, unknown> = { AAAAAA: JSON.parse(JSON.stringify(before)) };
        applyPatch(sessions, 'AAAAAA', JSON.parse(JSON.stringify(patch)), 'data.journal');
        assert.deepEqual(sessions.AAAAAA, JSON.parse(JSON.stringify(after)));
        // Applied again (a journal replayed onto a checkpoint that holds it): nothing changes.
        applyPatch(sessions, 'AAAAAA', patch, 'data.journal');
        assert.deepEqual(sessions.AAAAAA, JSON.parse(JSON.stringify(after)));
      }),
      { numRuns: 500 },
    );
  });

  it('a move writes the stretch that moved, an undo of a song sung writes the song, not the whole list', () => {
    const songs = Array.from({ length: 100 }, (_, i) => ({ id: `s${i}` }));
    const before = { version: 1, queue: songs, history: songs };
    const moved = [...songs.slice(0, 10), songs[50]!, ...songs.slice(10, 50), ...songs.slice(51)];
    const patch = diffSession(before, { version: 2, queue: moved, history: songs.slice(0, -1) })!;
    assert.deepEqual(patch.splices?.queue?.slice(0, 2), [10, 49]);
    assert.deepEqual(patch.splices?.history, [99, 0, []]);
    assert.ok(JSON.stringify(patch).length < 1000);
  });
});
