import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { readStoredData } from '../server/store/index.js';
import { bearer, buildApp, createSession, joinAs, queueOf, requestSong } from './support/app.js';

type Res = { status: number; body: { error?: { code: string; message: string } } };
function expectError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code);
}

/** A clock the test moves. */
function clock() {
  let ms = Date.parse('2026-11-20T20:00:00Z');
  return { now: () => new Date(ms), advance: (seconds: number) => void (ms += seconds * 1000) };
}

describe('POST /api/sessions/:id/undo', () => {
  it('undoes the host\'s next, keeping a guest\'s request made meanwhile, then answers 409 nothing_to_undo', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    const cat = await joinAs(app, s.id, 'Cat');
    await requestSong(app, s.id, ann.key, 'One');
    await requestSong(app, s.id, bob.key, 'Two');
    await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}).expect(200);
    const next = await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}).expect(200);
    assert.equal(next.body.undo.label, 'next');
    await requestSong(app, s.id, cat.key, 'Three');

    const undone = await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)).expect(200);
    assert.equal(undone.body.nowSinging.title, 'One');
    assert.deepEqual(undone.body.queue.map((r: { title: string }) => r.title), ['Two', 'Three']);
    assert.equal(undone.body.undo.label, 'start with Ann');
    await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)).expect(200);
    expectError(await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)), 409, 'nothing_to_undo');
  });

  it('undoes a remove with the same request id, and the stack survives a restart', async (t) => {
    const first = await buildApp(t, { store: 'json' });
    const s = await createSession(first.app);
    const ann = await joinAs(first.app, s.id, 'Ann');
    const bob = await joinAs(first.app, s.id, 'Bob');
    await requestSong(first.app, s.id, ann.key, 'One');
    const two = await requestSong(first.app, s.id, bob.key, 'Two');
    await request(first.app).delete(`/api/sessions/${s.id}/requests/${two.id}`).set(bearer(s.hostKey)).expect(204);
    await first.close();
    assert.equal((await readStoredData(first.dataDir)).sessions[s.id]?.undo.at(-1)?.label, 'remove “Two”');

    const second = await buildApp(t, { dataDir: first.dataDir });
    const res = await request(second.app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)).expect(200);
    assert.deepEqual(res.body.queue.map((r: { id: string }) => r.id).at(-1), two.id);
    assert.deepEqual(await queueOf(second.app, s.id), ['Ann:One', 'Bob:Two']);
  });

  it("lets a guest undo their own cancel for 30 seconds, not the host's actions", async (t) => {
    const time = clock();
    const { app } = await buildApp(t, { now: time.now });
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    const one = await requestSong(app, s.id, ann.key, 'One');
    await requestSong(app, s.id, bob.key, 'Two');
    await request(app).delete(`/api/sessions/${s.id}/requests/${one.id}`).set(bearer(ann.key)).expect(204);
    expectError(await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(bob.key)), 409, 'nothing_to_undo');
    time.advance(10);
    const res = await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(ann.key)).expect(200);
    assert.deepEqual(res.body.queue.map((r: { id: string }) => r.id)[0], one.id);

    await request(app).delete(`/api/sessions/${s.id}/requests/${one.id}`).set(bearer(ann.key)).expect(204);
    time.advance(31);
    expectError(await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(ann.key)), 409, 'nothing_to_undo');
  });

  it('needs a key: 401 without one, 404 for an unknown session', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    expectError(await request(app).post(`/api/sessions/${s.id}/undo`), 401, 'unauthorized');
    expectError(await request(app).post('/api/sessions/ZZZZZZ/undo').set(bearer(s.hostKey)), 404, 'session_not_found');
  });
});

describe('POST and DELETE /api/sessions/:id/singers/:singerId/hold', () => {
  it('puts a guest on hold: songs stay, marked, passed over by next, ETA null; back where they were', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    await requestSong(app, s.id, ann.key, 'One');
    await requestSong(app, s.id, bob.key, 'Two');
    const held = await request(app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ann.key)).expect(200);
    assert.deepEqual(held.body.queue.map((r: { onHold: boolean; estimatedStartAt: string | null }) => [r.onHold, r.estimatedStartAt === null]), [
      [true, true],
      [false, false],
    ]);
    // Holding twice changes nothing.
    const again = await request(app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ann.key)).expect(200);
    assert.equal(again.body.version, held.body.version);
    const next = await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}).expect(200);
    assert.equal(next.body.nowSinging.title, 'Two');
    assert.deepEqual(next.body.queue.map((r: { title: string }) => r.title), ['One']);
    const back = await request(app).delete(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(s.hostKey)).expect(200);
    assert.equal(back.body.queue[0].onHold, false);
    assert.ok(back.body.queue[0].estimatedStartAt);
  });

  it('refuses a guest holding someone else (403 forbidden) and an unknown singer (404 singer_not_found)', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    expectError(await request(app).post(`/api/sessions/${s.id}/singers/${bob.id}/hold`).set(bearer(ann.key)), 403, 'forbidden');
    expectError(await request(app).post(`/api/sessions/${s.id}/singers/nobodyHere/hold`).set(bearer(s.hostKey)), 404, 'singer_not_found');
    expectError(await request(app).post(`/api/sessions/${s.id}/singers/..%2F/hold`).set(bearer(s.hostKey)), 404, 'singer_not_found');
    expectError(await request(app).delete(`/api/sessions/${s.id}/singers/${ann.id}/hold`), 401, 'unauthorized');
  });

  it('answers 409 queue_empty when nobody sings and every queued singer is on hold', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    await requestSong(app, s.id, ann.key, 'One');
    await request(app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(s.hostKey)).expect(200);
    expectError(await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}), 409, 'queue_empty');
  });
});
