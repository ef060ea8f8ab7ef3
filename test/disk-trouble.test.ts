// Volumes fill up and get remounted read-only after I/O errors. A change that cannot be saved must
// say so (503 storage_unavailable), change nothing anyone can see, leave data.json as it was, and
// the server must carry on by itself once the disk is back. (On a full disk, a change that still fits
// in the journal's last allocated block is saved: that is not a failure.)
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { readDataFile, sh, startServer, type RunningServer } from './support/processes.js';

/** A small tmpfs as DATA_DIR, so the test can fill it or make it read-only without touching anything else. */
async function smallDisk(t: TestContext): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'karaoke-disk-'));
  const mountPoint = path.join(work, 'data');
  await mkdir(mountPoint);
  try {
    await sh('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', mountPoint]);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw new Error(`the disk-trouble test needs root and mount (e.g. a privileged CI runner): ${(err as Error).message}`);
  }
  t.after(async () => {
    // Lazily if the server still has it open: it is gone once the last user exits.
    await sh('umount', [mountPoint]).catch(() => sh('umount', ['-l', mountPoint]).catch(() => {}));
    await rm(work, { recursive: true, force: true });
  });
  return mountPoint;
}

/** Write a filler file until the filesystem answers ENOSPC. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

interface Answer {
  status: number;
  body: any;
}

async function call(server: RunningServer, method: string, route: string, body?: unknown, key?: string): Promise<Answer> {
  const res = await fetch(server.url + route, {
    method,
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** What a reader sees of a session, without the clock-dependent estimates. */
async function visible(server: RunningServer, id: string): Promise<unknown> {
  const { body } = await call(server, 'GET', `/api/sessions/${id}`);
  return { name: body.name, version: body.version, singerCount: body.singerCount, queue: body.queue.map((r: { title: string }) => r.title) };
}

async function survivesBrokenDisk(t: TestContext, breakDisk: (dir: string) => Promise<void>, fixDisk: (dir: string) => Promise<void>) {
  const dataDir = await smallDisk(t);
  const server = await startServer(t, dataDir);
  const created = await call(server, 'POST', '/api/sessions', { name: 'Friday Night' });
  assert.equal(created.status, 201);
  const id = created.body.session.id as string;
  const hostKey = created.body.hostKey as string;
  const singer = await call(server, 'POST', `/api/sessions/${id}/singers`, { name: 'Ana' });
  assert.equal(singer.status, 201);
  const guestKey = singer.body.guestKey as string;
  assert.equal((await call(server, 'POST', `/api/sessions/${id}/requests`, { title: 'Before' }, guestKey)).status, 201);

  await breakDisk(dataDir);
  // Joins until the first refusal: on a full disk the journal's last block may still have room.
  let saved = 0;
  for (;;) {
    const join = await call(server, 'POST', `/api/sessions/${id}/singers`, { name: `Early ${saved}` });
    if (join.status !== 201) break;
    saved += 1;
    assert.ok(saved < 50, 'the disk never refused a change');
  }
  const seenBefore = await visible(server, id);
  const fileBefore = await readFile(path.join(dataDir, 'data.json'));
  const failing = {
    request: await call(server, 'POST', `/api/sessions/${id}/requests`, { title: 'During' }, guestKey),
    join: await call(server, 'POST', `/api/sessions/${id}/singers`, { name: 'Bo' }),
    rename: await call(server, 'PATCH', `/api/sessions/${id}`, { name: 'Renamed' }, hostKey),
    next: await call(server, 'POST', `/api/sessions/${id}/next`, {}, hostKey),
    create: await call(server, 'POST', '/api/sessions', { name: 'Another Night' }),
  };
  for (const [change, answer] of Object.entries(failing)) {
    assert.equal(answer.status, 503, `${change}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error.code, 'storage_unavailable', change);
  }
  assert.deepEqual(await visible(server, id), seenBefore, 'a change that failed must not be visible');
  assert.ok((await readFile(path.join(dataDir, 'data.json'))).equals(fileBefore), 'data.json must stay as it was');
  assert.deepEqual((await readdir(dataDir)).filter((n) => n.endsWith('.tmp')), [], 'no temp file may be left behind');
  const sick = await call(server, 'GET', '/healthz');
  assert.equal(sick.status, 503);
  assert.equal(sick.body.status, 'unavailable');

  await fixDisk(dataDir);
  assert.equal((await call(server, 'GET', '/healthz')).status, 200, 'health must recover with the disk');
  assert.equal((await call(server, 'POST', `/api/sessions/${id}/requests`, { title: 'During' }, guestKey)).status, 201);
  assert.equal((await call(server, 'POST', '/api/sessions', { name: 'Another Night' })).status, 201);
  assert.deepEqual(await visible(server, id), {
    name: 'Friday Night',
    version: (seenBefore as { version: number }).version + 1,
    singerCount: 1 + saved,
    queue: ['Before', 'During'],
  });
  const onDisk = (await readDataFile(dataDir)).sessions[id]!;
  assert.deepEqual(onDisk.queue.map((r) => r.title), ['Before', 'During']);
  assert.equal(Object.keys((await readDataFile(dataDir)).sessions).length, 2);
}

describe('a full or read-only disk', () => {
  it('a full disk answers 503 storage_unavailable, keeps data.json and recovers when space is freed', async (t) => {
    await survivesBrokenDisk(
      t,
      async (dir) => fill(path.join(dir, 'filler')),
      async (dir) => rm(path.join(dir, 'filler')),
    );
  });

  it('a read-only disk answers 503 storage_unavailable, keeps data.json and recovers when remounted read-write', async (t) => {
    await survivesBrokenDisk(
      t,
      async (dir) => void (await sh('mount', ['-o', 'remount,ro', dir])),
      async (dir) => void (await sh('mount', ['-o', 'remount,rw', dir])),
    );
  });
});
