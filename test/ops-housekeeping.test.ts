import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { runHousekeeping } from '../server/ops/housekeeping.js';
import { startMaintenance } from '../server/ops/maintenance.js';
import { renderQrPng } from '../server/qr.js';
import { bearer, buildApp, createSession, joinAs, listen } from './support/app.js';
import { captureLog } from './support/ops.js';
import { readDataFile } from './support/processes.js';
import { SseClient } from '../scripts/bench/sse-client.js';

const DAY = 24 * 60 * 60_000;
const T0 = Date.parse('2024-03-01T20:00:00.000Z');

/** An app whose clock the test moves. */
async function appWithClock(t: Parameters<typeof buildApp>[0]) {
  let clock = T0;
  const app = await buildApp(t, { now: () => new Date(clock) });
  return { app, setClock: (ms: number) => (clock = ms) };
}

describe('housekeeping', () => {
  it('housekeeping removes sessions idle longer than the TTL, with their QR PNGs, and logs each', async (t) => {
    const { app, setClock } = await appWithClock(t);
    const old = await createSession(app.app, 'Old Night');
    const active = await createSession(app.app, 'Active Night');
    setClock(T0 + 29 * DAY);
    // Activity moves updatedAt: the TTL counts from the last change, not from creation.
    await joinAs(app.app, active.id, 'Ann');
    assert.ok(await app.qr.exists(old.id));

    const { log, lines } = captureLog();
    const result = await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30, log, now: () => new Date(T0 + 31 * DAY) });

    assert.deepEqual(result.expired, [old.id]);
    await request(app.app).get(`/api/sessions/${old.id}`).expect(404);
    await request(app.app).get(`/api/sessions/${active.id}`).expect(200);
    assert.equal(await app.qr.exists(old.id), false);
    assert.equal(await app.qr.exists(active.id), true);
    const onDisk = await readDataFile(app.dataDir);
    assert.deepEqual(Object.keys(onDisk.sessions), [active.id]);
    const line = lines().find((l) => l.sessionId === old.id);
    assert.ok(line, 'the removal is logged');
    assert.match(line.msg, /idle for more than 30 days/);
  });

  it('a night that is over is put away: the code then shows an empty room, the host keeps the night in the archive', async (t) => {
    const { app, setClock } = await appWithClock(t);
    const closed = await createSession(app.app, 'Closed Night');
    const open = await createSession(app.app, 'Open Night');
    const empty = await createSession(app.app, 'Empty Room');
    for (const s of [closed, open]) {
      const ann = await joinAs(app.app, s.id, 'Ann Example');
      await request(app.app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'Valerie' }).expect(201);
      await request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
      await request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    }
    await request(app.app).patch(`/api/sessions/${closed.id}`).set(bearer(closed.hostKey)).send({ status: 'closed' }).expect(200);
    const emptyVersion = app.store.get(empty.id)!.version;
    const { log } = captureLog();
    const run = (ms: number) => runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30, nightIdleHours: 12, log, now: () => new Date(ms) });

    // Half an hour after closing: the guests still see the end screen and the setlist (with their key).
    assert.deepEqual((await run(T0 + 30 * 60_000)).nightsPutAway, []);
    const closedAt = (await request(app.app).get(`/api/sessions/${closed.id}/history`).set(bearer(closed.hostKey)).expect(200)).body;
    assert.equal(closedAt.history[0].singer.name, 'Ann Example');

    // Two hours on, the closed night is over; the open one only after 12 idle hours.
    assert.deepEqual((await run(T0 + 2 * 60 * 60_000)).nightsPutAway, [closed.id]);
    setClock(T0 + 13 * 60 * 60_000);
    assert.deepEqual((await run(T0 + 13 * 60 * 60_000)).nightsPutAway, [open.id]);
    for (const s of [closed, open]) {
      const state = (await request(app.app).get(`/api/sessions/${s.id}`).expect(200)).body;
      assert.equal(JSON.stringify(state).includes('Ann Example'), false, 'a viewer without a key no longer sees who sang');
      assert.deepEqual([state.night, state.historyCount, state.singerCount, state.status], [2, 0, 0, 'open']);
      assert.equal(state.joinUrl, s.joinUrl, 'the same code and QR');
      const nights = (await request(app.app).get(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
      assert.deepEqual(nights.map((n: { night: number; songs: number }) => [n.night, n.songs]), [[1, 1]]);
    }
    assert.equal(app.store.get(empty.id)!.version, emptyVersion, 'an empty room is left alone');
  });

  it('the TTL is configurable: a shorter one removes what the default keeps', async (t) => {
    const { app } = await appWithClock(t);
    const s = await createSession(app.app);
    const { log } = captureLog();
    const now = () => new Date(T0 + 3 * DAY);
    assert.deepEqual((await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30, log, now })).expired, []);
    assert.deepEqual((await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 2, log, now })).expired, [s.id]);
  });

  it('a session with a change still being saved is not removed', async (t) => {
    const { app } = await appWithClock(t);
    const s = await createSession(app.app);
    const current = app.store.latest(s.id)!;
    const saving = app.store.put({ ...current, version: current.version + 1, updatedAt: new Date(T0 + 40 * DAY).toISOString() });
    const { log } = captureLog();
    const result = await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30, log, now: () => new Date(T0 + 41 * DAY) });
    await saving;
    assert.deepEqual(result.expired, []);
    assert.ok(app.store.get(s.id));
  });

  it('QR files without a session are removed, but not one young enough to belong to a session being created', async (t) => {
    const { app } = await appWithClock(t);
    const kept = await createSession(app.app);
    const png = await renderQrPng('http://localhost/s/ZZZZZZ');
    await app.qr.writePng('ZZZZZZ', png);
    await app.qr.writePng('YYYYYY', png);
    const hourAgo = new Date(Date.now() - 60 * 60_000);
    await fs.utimes(path.join(app.qr.dir, 'ZZZZZZ.png'), hourAgo, hourAgo);
    await fs.writeFile(path.join(app.qr.dir, 'README.txt'), 'not ours');

    const { log, lines } = captureLog();
    const result = await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30000, log, now: () => new Date() });

    assert.deepEqual(result.orphanQrFiles, ['ZZZZZZ.png']);
    assert.deepEqual((await fs.readdir(app.qr.dir)).sort(), [`${kept.id}.png`, 'README.txt', 'YYYYYY.png'].sort());
    assert.ok(lines().some((l) => /1 QR file\(s\) without a session/.test(l.msg)));
  });

  it('an open stream of a removed session is told it is gone', async (t) => {
    const { app } = await appWithClock(t);
    const s = await createSession(app.app);
    const { url } = await listen(t, app);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    assert.equal((await client.next())?.event, 'state');

    const { log } = captureLog();
    await runHousekeeping({ store: app.store, changes: app.changes, qr: app.qr, ttlDays: 30, log, now: () => new Date(T0 + 31 * DAY) });
    const event = await client.next();
    assert.equal(event?.event, 'deleted');
    assert.equal(JSON.parse(event.data).id, s.id);
  });

  it('maintenance runs housekeeping at start', async (t) => {
    const { app } = await appWithClock(t);
    const s = await createSession(app.app);
    const { log } = captureLog();
    const maintenance = startMaintenance({
      config: { ...app.config, backupIntervalMs: 0, sessionTtlDays: 30 },
      store: app.store,
      changes: app.changes,
      qr: app.qr,
      log,
      now: () => new Date(T0 + 31 * DAY),
    });
    t.after(() => maintenance.stop());
    await maintenance.idle();
    assert.equal(app.store.get(s.id), undefined);
  });
});
