// The failure this service exists to avoid: a restart or deploy that comes back with different
// data. A real second process on the same DATA_DIR must serve the same sessions, queues and QR codes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { PublicState } from '../server/sessions/view.js';
import { tempDataDir } from './support/app.js';
import { launchServer, startServer, type RunningServer } from './support/processes.js';

async function call(server: RunningServer, method: string, route: string, body?: unknown, key?: string): Promise<Record<string, any>> {
  const res = await fetch(server.url + route, {
    method,
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(res.status < 300, `${method} ${route} answered ${res.status}: ${await res.clone().text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, any>);
}

/** The public state without what depends on the clock at the moment of the request. */
function timeless(state: PublicState): unknown {
  const { generatedAt: _generatedAt, nowSinging, queue, ...rest } = state;
  return {
    ...rest,
    nowSinging: nowSinging && { ...nowSinging, estimatedEndAt: undefined },
    queue: queue.map(({ estimatedStartAt: _estimatedStartAt, ...r }) => r),
  };
}

interface Recorded {
  states: Map<string, unknown>;
  pngs: Map<string, Buffer>;
}

async function record(server: RunningServer, ids: string[]): Promise<Recorded> {
  const states = new Map<string, unknown>();
  const pngs = new Map<string, Buffer>();
  for (const id of ids) {
    states.set(id, timeless((await call(server, 'GET', `/api/sessions/${id}`)) as PublicState));
    const png = await fetch(`${server.url}/qr-codes/${id}.png`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    pngs.set(id, Buffer.from(await png.arrayBuffer()));
  }
  return { states, pngs };
}

describe('restarts', () => {
  it('a restarted process serves the same sessions, queues and QR PNGs, and a second process is refused meanwhile', async (t) => {
    const dataDir = await tempDataDir(t, 'karaoke-restart-');
    const first = await startServer(t, dataDir);

    const ids: string[] = [];
    for (const name of ['Friday Night', 'Sunday Session']) {
      const created = await call(first, 'POST', '/api/sessions', { name });
      const id = created.session.id as string;
      const hostKey = created.hostKey as string;
      ids.push(id);
      const singers = [];
      for (const singer of ['Ana', 'Bo', 'Chi']) singers.push(await call(first, 'POST', `/api/sessions/${id}/singers`, { name: singer }));
      for (const [i, s] of singers.entries()) {
        await call(first, 'POST', `/api/sessions/${id}/requests`, { title: `Song ${i}a`, artist: 'Band', link: 'https://example.com/a' }, s.guestKey);
        await call(first, 'POST', `/api/sessions/${id}/requests`, { title: `Song ${i}b` }, s.guestKey);
      }
      await call(first, 'POST', `/api/sessions/${id}/requests`, { title: 'Walk-in song', singerName: 'Dee' }, hostKey);
      await call(first, 'POST', `/api/sessions/${id}/next`, { outcome: 'sung' }, hostKey);
      await call(first, 'POST', `/api/sessions/${id}/next`, { outcome: 'skipped' }, hostKey);
      await call(first, 'PATCH', `/api/sessions/${id}`, { rotation: 'fifo', maxQueuedPerSinger: 5 }, hostKey);
    }
    const before = await record(first, ids);

    // A second server on the same DATA_DIR (a platform starting a new machine before the old one stopped).
    const second = launchServer(t, dataDir);
    const refused = await Promise.race([second.exited, second.listening.then(() => 'listening' as const)]);
    assert.notEqual(refused, 'listening', 'a second server must not start on a DATA_DIR another process holds');
    assert.notEqual((refused as { code: number | null }).code, 0, 'the refusal must exit non-zero');
    assert.match(second.stderr(), new RegExp(`held by another server process \\(pid ${first.pid}\\b`), 'the message names the holder');
    const lock = JSON.parse(await readFile(path.join(dataDir, '.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, first.pid, 'the refused process must leave the holder its lock');
    await call(first, 'GET', '/healthz');

    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });
    // Stored, not merely rebuilt on demand by the next process: the files themselves are the same.
    for (const id of ids) {
      const stored = await readFile(path.join(dataDir, 'qr-codes', `${id}.png`));
      assert.ok(stored.equals(before.pngs.get(id)!), `the stored QR PNG of ${id} differs from the one served`);
    }
    const third = await startServer(t, dataDir);
    const after = await record(third, ids);
    for (const id of ids) {
      assert.deepEqual(after.states.get(id), before.states.get(id), `session ${id} differs after the restart`);
      assert.ok(after.pngs.get(id)!.equals(before.pngs.get(id)!), `QR PNG of ${id} differs after the restart`);
    }
    const queue = (after.states.get(ids[0]!) as { queue: unknown[]; history: unknown[] });
    assert.equal(queue.queue.length, 5);
    assert.equal(queue.history.length, 1);
  });
});
