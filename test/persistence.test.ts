import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { LockHeldError, openStore, SCHEMA_VERSION, UnreadableDataError } from '../server/store/index.js';
import { bearer, buildApp, createSession, joinAs, requestSong, tempDataDir } from './support/app.js';
import { decodeQr } from './support/qr-decode.js';

/** The state minus what depends on the clock at the moment it was read. */
function stable(state: Record<string, unknown>): Record<string, unknown> {
  const { generatedAt: _g, ...rest } = state;
  return JSON.parse(JSON.stringify(rest, (k, v) => (k === 'estimatedStartAt' || k === 'estimatedEndAt' ? undefined : v)));
}

describe('persistence', () => {
  it('a fresh app on the same DATA_DIR finds sessions, queues, history, keys and QR codes again', async (t) => {
    const dataDir = await tempDataDir(t);
    const first = await buildApp(t, { dataDir });
    const s = await createSession(first.app);
    const ann = await joinAs(first.app, s.id, 'Ann');
    const bob = await joinAs(first.app, s.id, 'Bob');
    await requestSong(first.app, s.id, ann.key, 'One');
    await requestSong(first.app, s.id, bob.key, 'Two');
    await requestSong(first.app, s.id, ann.key, 'Three');
    await request(first.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    const before = (await request(first.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    const png = await readFile(path.join(dataDir, 'qr-codes', `${s.id}.png`));
    await first.close();

    const second = await buildApp(t, { dataDir });
    const after = (await request(second.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.deepEqual(stable(after), stable(before));
    const served = await request(second.app).get(`/qr-codes/${s.id}.png`).buffer(true).expect(200);
    assert.deepEqual(served.body, png);
    assert.equal(decodeQr(served.body as Buffer), s.joinUrl);
    // Keys still work after the restart: the guest keeps their place, the host keeps control.
    await requestSong(second.app, s.id, bob.key, 'Four');
    await request(second.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
  });

  it('the data file is compact JSON with a schema version, holding no keys', async (t) => {
    const built = await buildApp(t);
    const { app, dataDir } = built;
    const s = await createSession(app);
    const guest = await joinAs(app, s.id, 'Ann');
    const journal = await readFile(path.join(dataDir, 'data.journal'), 'utf8');
    assert.ok(!journal.includes(s.hostKey) && !journal.includes(guest.key));
    await built.close();
    const text = await readFile(path.join(dataDir, 'data.json'), 'utf8');
    const data = JSON.parse(text);
    assert.equal(data.version, SCHEMA_VERSION);
    assert.ok(data.sessions[s.id]);
    assert.ok(!text.includes('\n  '), 'compact, not indented');
    assert.ok(!text.includes(s.hostKey) && !text.includes(guest.key));
  });

  it('refuses to open an empty, broken or newer data.json and leaves it untouched', async (t) => {
    for (const contents of ['', '{"version":1,"sessions":', '\u0000\u0000\u0000', '{"version":99,"sessions":{}}', '[]', '{"version":1,"sessions":{"A":{"id":1}}}']) {
      const dataDir = await tempDataDir(t);
      const file = path.join(dataDir, 'data.json');
      await writeFile(file, contents);
      await assert.rejects(openStore({ dataDir }), (err: Error) => {
        assert.ok(err instanceof UnreadableDataError, String(err));
        assert.ok(err.message.includes(file), 'names the file');
        return true;
      });
      assert.equal(await readFile(file, 'utf8'), contents, 'never overwritten');
      // The lock was released: once the file is fixed, the store opens.
      await rm(file);
      const { store } = await openStore({ dataDir });
      await store.close();
    }
  });

  it('one process per DATA_DIR: a second store is refused while the first holds the lock', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    // In-process, the pid matches ours; a lock from our own pid counts as stale, so fake another live holder.
    await store.close();
    const lockFile = path.join(dataDir, '.lock');
    const { spawn } = await import('node:child_process');
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    t.after(() => holder.kill());
    const statText = await readFile(`/proc/${holder.pid}/stat`, 'utf8');
    const start = statText.slice(statText.lastIndexOf(')') + 2).split(' ')[19];
    const os = await import('node:os');
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    await writeFile(lockFile, JSON.stringify({ pid: holder.pid, hostname: os.hostname(), bootId, processStart: start, startedAt: 'then' }));
    await assert.rejects(openStore({ dataDir }), (err: Error) => err instanceof LockHeldError && err.message.includes(String(holder.pid)));
    // When the holder dies (as in a machine restart), its lock no longer blocks.
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const reopened = await openStore({ dataDir });
    await reopened.store.close();
  });

  it('removes temp files left by an interrupted write', async (t) => {
    const dataDir = await tempDataDir(t);
    await writeFile(path.join(dataDir, '.data.json.123.abcdef.tmp'), '{"half');
    const opened = await openStore({ dataDir });
    t.after(() => opened.store.close());
    assert.deepEqual(opened.removedTempFiles, ['.data.json.123.abcdef.tmp']);
  });
});
