import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { createSession as newSession } from '../server/sessions/queue.js';
import { storageInfo } from '../server/ops/disk.js';
import { openStore, readStoredData, StoreUnavailableError } from '../server/store/index.js';
import { buildApp, createSession, tempDataDir } from './support/app.js';

const session = (id: string, name = id) =>
  newSession({ id, name, hostKeyHash: 'h', origin: 'http://localhost', now: new Date('2026-11-20T20:00:00Z') });

/**
 * Make DATA_DIR refuse new files and its journal refuse appends, even for root: a real write failure
 * without a special mount.
 */
function setImmutable(dir: string, on: boolean): void {
  execFileSync('chattr', [on ? '+i' : '-i', path.join(dir, 'data.journal'), dir]);
}

/** Run with the folder immutable; always made writable again, before the temp folder is removed. */
async function withImmutable<T>(dir: string, run: () => Promise<T>): Promise<T> {
  setImmutable(dir, true);
  try {
    return await run();
  } finally {
    setImmutable(dir, false);
  }
}

describe('store', () => {
  it('group commit: concurrent changes share flushes and each resolves only once it is on disk', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    t.after(() => store.close());
    const ids = Array.from({ length: 200 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    await Promise.all(
      ids.map(async (id) => {
        await store.put(session(id));
        const onDisk = await readStoredData(dataDir);
        assert.ok(onDisk.sessions[id], `${id} is on disk when its put resolves`);
      }),
    );
    const stats = store.stats();
    assert.equal(stats.changesFlushed, 200);
    assert.ok(stats.flushes < 20, `200 changes took ${stats.flushes} flushes`);
  });

  it('a failed write rejects its callers with StoreUnavailableError (503 over HTTP), hides the change from readers and keeps data.json; then recovers', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    t.after(() => store.close());
    const file = path.join(dataDir, 'data.json');
    await store.put(session('AAAAAA', 'kept'));
    const before = await readFile(file, 'utf8');

    await withImmutable(dataDir, async () => {
      const failed = await Promise.allSettled([store.put(session('BBBBBB')), store.put(session('AAAAAA', 'changed'))]);
      for (const result of failed) {
        assert.equal(result.status, 'rejected');
        // The store speaks no HTTP: errors.ts maps this to 503 storage_unavailable (tested below).
        assert.ok((result as PromiseRejectedResult).reason instanceof StoreUnavailableError);
      }
      assert.equal(store.get('BBBBBB'), undefined);
      assert.equal(store.latest('BBBBBB'), undefined, 'undone for writers too');
      assert.equal(store.get('AAAAAA')?.name, 'kept');
      assert.equal(store.latest('AAAAAA')?.name, 'kept');
      assert.equal(await readFile(file, 'utf8'), before, 'the previous data.json is intact');
      assert.equal((await storageInfo(dataDir)).writable, false);
    });

    await store.put(session('CCCCCC'));
    const after = await readStoredData(dataDir);
    assert.deepEqual(Object.keys(after.sessions).sort(), ['AAAAAA', 'CCCCCC']);
    assert.equal((await storageInfo(dataDir)).writable, true);
  });

  it('answers 503 storage_unavailable over HTTP and /healthz reports it, until the disk works again', async (t) => {
    const built = await buildApp(t);
    const s = await createSession(built.app);
    await withImmutable(built.dataDir, async () => {
      const res = await request(built.app).post(`/api/sessions/${s.id}/singers`).send({ name: 'Ann' });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'storage_unavailable');
      const state = await request(built.app).get(`/api/sessions/${s.id}`).expect(200);
      assert.equal(state.body.singerCount, 0, 'the failed join is not visible');
      const health = await request(built.app).get('/healthz');
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'unavailable');
    });
    await request(built.app).post(`/api/sessions/${s.id}/singers`).send({ name: 'Ann' }).expect(201);
    await request(built.app).get('/healthz').expect(200);
  });
});
