import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import webpush from 'web-push';
import { loadConfig, type NightLimits } from '../server/config.js';
import { DEFAULT_LIMITS } from '../server/sessions/limits.js';
import { bearer, buildApp, createSession, joinAs, queueOf, requestSong, tempDataDir } from './support/app.js';
import { browserSubscription } from './support/push-service.js';

type Res = { status: number; body: { error?: { code: string; message: string; field?: string; name?: string; singer?: { id: string; name: string } } } };
function expectError(res: Res, code: string, status = 409): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code);
}

const limited = (t: TestContext, limits: Partial<NightLimits>, dataDir?: string) =>
  buildApp(t, { config: { limits: { ...DEFAULT_LIMITS, ...limits } }, ...(dataDir ? { dataDir } : {}) });

const join = (app: Express, id: string, name: string, key?: string) => {
  const r = request(app).post(`/api/sessions/${id}/singers`);
  if (key) r.set(bearer(key));
  return r.send({ name });
};
const ask = (app: Express, id: string, key: string, body: Record<string, string>) =>
  request(app).post(`/api/sessions/${id}/requests`).set(bearer(key)).send(body);
const next = (app: Express, id: string, hostKey: string) => request(app).post(`/api/sessions/${id}/next`).set(bearer(hostKey)).send({});
const patch = (app: Express, id: string, hostKey: string, body: Record<string, unknown>) =>
  request(app).patch(`/api/sessions/${id}`).set(bearer(hostKey)).send(body);

describe('limits of one night', () => {
  it('settings: MAX_SINGERS_PER_NIGHT, MAX_QUEUED_SONGS, MAX_SONGS_PER_NIGHT, MAX_PUSH_SUBSCRIPTIONS_PER_SINGER, with defaults 300, 200, 1000, 3', () => {
    assert.deepEqual({ ...loadConfig({}).limits }, { singersPerNight: 300, queuedSongs: 200, songsPerNight: 1000, pushPerSinger: 3 });
    assert.deepEqual({ ...DEFAULT_LIMITS }, { ...loadConfig({}).limits });
    const set = loadConfig({ MAX_SINGERS_PER_NIGHT: '40', MAX_QUEUED_SONGS: '30', MAX_SONGS_PER_NIGHT: '90', MAX_PUSH_SUBSCRIPTIONS_PER_SINGER: '5' }).limits;
    assert.deepEqual({ ...set }, { singersPerNight: 40, queuedSongs: 30, songsPerNight: 90, pushPerSinger: 5 });
    assert.throws(() => loadConfig({ MAX_SINGERS_PER_NIGHT: '0' }), /MAX_SINGERS_PER_NIGHT/);
    assert.throws(() => loadConfig({ MAX_PUSH_SUBSCRIPTIONS_PER_SINGER: '11' }), /MAX_PUSH_SUBSCRIPTIONS_PER_SINGER/);
  });

  it('POST /api/sessions/:id/singers answers 409 session_full past MAX_SINGERS_PER_NIGHT; a new walk-in too, a known one is fine', async (t) => {
    const { app } = await limited(t, { singersPerNight: 3 });
    const s = await createSession(app);
    await joinAs(app, s.id, 'Ann');
    await joinAs(app, s.id, 'Bob');
    await ask(app, s.id, s.hostKey, { singerName: 'Walt', title: 'One' }).expect(201);
    const full = await join(app, s.id, 'Cleo');
    expectError(full, 'session_full');
    assert.match(full.body.error!.message, /3 singers/);
    expectError(await ask(app, s.id, s.hostKey, { singerName: 'Vera', title: 'Two' }), 'session_full');
    await ask(app, s.id, s.hostKey, { singerName: 'walt', title: 'Three' }).expect(201);
    // The setting decides: the same night under a higher limit takes one more.
    const roomier = await limited(t, { singersPerNight: 4 });
    const r = await createSession(roomier.app);
    for (const name of ['Ann', 'Bob', 'Cleo', 'Dan']) await joinAs(roomier.app, r.id, name);
    expectError(await join(roomier.app, r.id, 'Eve'), 'session_full');
  });

  it('POST /api/sessions/:id/requests answers 409 queue_full past MAX_QUEUED_SONGS, for guests and walk-ins; a sung song makes room', async (t) => {
    const { app } = await limited(t, { queuedSongs: 3 });
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    await requestSong(app, s.id, ann.key, 'A1');
    await requestSong(app, s.id, bob.key, 'B1');
    await requestSong(app, s.id, ann.key, 'A2');
    const full = await ask(app, s.id, bob.key, { title: 'B2' });
    expectError(full, 'queue_full');
    assert.match(full.body.error!.message, /queue is full \(3 songs\)/);
    expectError(await ask(app, s.id, s.hostKey, { singerName: 'Walt', title: 'W1' }), 'queue_full');
    await next(app, s.id, s.hostKey).expect(200);
    await ask(app, s.id, bob.key, { title: 'B2' }).expect(201);
  });

  it('past MAX_SONGS_PER_NIGHT new songs get 409 night_full, while next and skip go on, so the history stays within the bound', async (t) => {
    const { app } = await limited(t, { songsPerNight: 4 });
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    await requestSong(app, s.id, ann.key, 'A1');
    await next(app, s.id, s.hostKey).expect(200);
    await requestSong(app, s.id, bob.key, 'B1');
    await next(app, s.id, s.hostKey).expect(200);
    await requestSong(app, s.id, ann.key, 'A2');
    await requestSong(app, s.id, bob.key, 'B2');
    const full = await ask(app, s.id, ann.key, { title: 'A3' });
    expectError(full, 'night_full');
    assert.match(full.body.error!.message, /end the night and start a new one/);
    for (let i = 0; i < 3; i += 1) await next(app, s.id, s.hostKey).expect(200);
    const state = (await request(app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.history.length, 4);
    expectError(await ask(app, s.id, s.hostKey, { singerName: 'Walt', title: 'W1' }), 'night_full');
    // A new night starts with room again.
    await request(app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    const fresh = await joinAs(app, s.id, 'Ann');
    await requestSong(app, s.id, fresh.key, 'A1');
  });

  it('an undo that would put a song back into a full queue answers 409 queue_full, and changes nothing', async (t) => {
    const { app } = await limited(t, { queuedSongs: 2 });
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    const a1 = await requestSong(app, s.id, ann.key, 'A1');
    await requestSong(app, s.id, bob.key, 'B1');
    await request(app).delete(`/api/sessions/${s.id}/requests/${a1.id}`).set(bearer(s.hostKey)).expect(204);
    await requestSong(app, s.id, bob.key, 'B2');
    expectError(await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)), 'queue_full');
    assert.deepEqual(await queueOf(app, s.id), ['Bob:B1', 'Bob:B2']);
  });
});

describe('joins: paused, closed by the host, and names', () => {
  it('paused requests also stop joins (409 session_paused); reopening lets them in', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    await patch(app, s.id, s.hostKey, { status: 'paused' }).expect(200);
    expectError(await join(app, s.id, 'Ann'), 'session_paused');
    await patch(app, s.id, s.hostKey, { status: 'open' }).expect(200);
    await join(app, s.id, 'Ann').expect(201);
  });

  it('joinsOpen: false refuses new phones with 409 joins_closed; singers already in and walk-ins go on; it survives a restart', async (t) => {
    const dataDir = await tempDataDir(t);
    const first = await buildApp(t, { dataDir });
    const s = await createSession(first.app);
    const ann = await joinAs(first.app, s.id, 'Ann');
    const closed = await patch(first.app, s.id, s.hostKey, { joinsOpen: false }).expect(200);
    assert.equal(closed.body.status, 'open', 'requests stay open');
    assert.equal(closed.body.joinsOpen, false, 'the state says so, for every page');
    assert.equal((await request(first.app).get(`/api/sessions/${s.id}`).expect(200)).body.joinsOpen, false);
    expectError(await join(first.app, s.id, 'Bob'), 'joins_closed');
    await requestSong(first.app, s.id, ann.key, 'A1');
    await ask(first.app, s.id, s.hostKey, { singerName: 'Walt', title: 'W1' }).expect(201);
    const roster = (await request(first.app).get(`/api/sessions/${s.id}/singers`).set(bearer(s.hostKey)).expect(200)).body;
    assert.equal(roster.joinsOpen, false);
    await first.close();

    const second = await buildApp(t, { dataDir });
    expectError(await join(second.app, s.id, 'Bob'), 'joins_closed');
    assert.equal((await request(second.app).get(`/api/sessions/${s.id}/singers`).set(bearer(s.hostKey)).expect(200)).body.joinsOpen, false);
    await patch(second.app, s.id, s.hostKey, { joinsOpen: true }).expect(200);
    await join(second.app, s.id, 'Bob').expect(201);
    // Open again is stored as before joins were ever closed: no field left behind.
    assert.equal('joinsOpen' in second.store.latest(s.id)!, false);
    await patch(second.app, s.id, s.hostKey, { joinsOpen: 'no' }).expect(400);
    await request(second.app).patch(`/api/sessions/${s.id}`).set(bearer(ann.key)).send({ joinsOpen: false }).expect(403);
  });

  it('a second "Maya" (other case, other spaces) gets 409 name_taken with the name; "Maya B." is fine; the same phone rejoining with its key is not refused', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const maya = await joinAs(app, s.id, 'Maya');
    for (const name of ['maya', 'MAYA', 'Ma ya', ' maya  ']) {
      const res = await join(app, s.id, name);
      expectError(res, 'name_taken');
      assert.equal(res.body.error!.name, 'Maya');
      assert.equal(res.body.error!.field, 'name');
      assert.match(res.body.error!.message, /There's already a Maya/);
    }
    await join(app, s.id, 'Maya B.').expect(201);
    await join(app, s.id, 'Mäya').expect(201);
    const again = await join(app, s.id, 'maya', maya.key).expect(200);
    assert.deepEqual(again.body, { singer: { id: maya.id, name: 'Maya' }, guestKey: maya.key });
    const state = (await request(app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.singerCount, 3);
  });

  it('a walk-in named like a guest who joined by phone gets 409 name_taken naming that guest; singerId adds the song for them; an earlier walk-in is reused as before', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const maya = await joinAs(app, s.id, 'Maya');
    const res = await ask(app, s.id, s.hostKey, { singerName: 'maya', title: 'Valerie' });
    expectError(res, 'name_taken');
    assert.deepEqual(res.body.error!.singer, { id: maya.id, name: 'Maya' });
    assert.equal(res.body.error!.field, 'singerName');
    const forHer = await ask(app, s.id, s.hostKey, { singerId: maya.id, title: 'Valerie' }).expect(201);
    assert.equal(forHer.body.request.singer.id, maya.id);
    // Her phone sees it as hers: she can cancel it.
    await request(app).delete(`/api/sessions/${s.id}/requests/${forHer.body.request.id}`).set(bearer(maya.key)).expect(204);
    const w1 = await ask(app, s.id, s.hostKey, { singerName: 'Walt', title: 'One' }).expect(201);
    const w2 = await ask(app, s.id, s.hostKey, { singerName: 'walt', title: 'Two' }).expect(201);
    assert.equal(w2.body.request.singer.id, w1.body.request.singer.id);
    // Guests cannot pick a singer; the host cannot pick nobody.
    expectError(await ask(app, s.id, maya.key, { singerId: w1.body.request.singer.id, title: 'X' }), 'forbidden', 403);
    expectError(await ask(app, s.id, s.hostKey, { singerId: 'noSuchSinger', title: 'X' }), 'singer_not_found', 404);
  });
});

describe('the host removes a singer, an operator removes a session', () => {
  it('DELETE /api/sessions/:id/singers/:singerId takes the singer and all their queued songs; their key stops working; others keep their places', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const prank = await joinAs(app, s.id, 'Prank');
    const bob = await joinAs(app, s.id, 'Bob');
    await requestSong(app, s.id, ann.key, 'A1');
    await requestSong(app, s.id, prank.key, 'P1');
    await requestSong(app, s.id, bob.key, 'B1');
    await requestSong(app, s.id, prank.key, 'P2');
    await request(app).delete(`/api/sessions/${s.id}/singers/${prank.id}`).set(bearer(bob.key)).expect(403);
    const res = await request(app).delete(`/api/sessions/${s.id}/singers/${prank.id}`).set(bearer(s.hostKey)).expect(200);
    assert.deepEqual(res.body.queue.map((r: { title: string }) => r.title), ['A1', 'B1']);
    assert.equal(res.body.singerCount, 2);
    expectError(await ask(app, s.id, prank.key, { title: 'P3' }), 'unauthorized', 401);
    const roster = (await request(app).get(`/api/sessions/${s.id}/singers`).set(bearer(s.hostKey)).expect(200)).body;
    assert.deepEqual(roster.singers.map((x: { name: string }) => x.name), ['Ann', 'Bob']);
    expectError(await request(app).delete(`/api/sessions/${s.id}/singers/${prank.id}`).set(bearer(s.hostKey)), 'singer_not_found', 404);
    // Nothing left to undo that would bring the removed songs back.
    const undo = await request(app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey));
    expectError(undo, 'nothing_to_undo');
  });

  it('a removed singer who already sang keeps their songs in tonight\'s list, without a key', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    await requestSong(app, s.id, ann.key, 'A1');
    await requestSong(app, s.id, ann.key, 'A2');
    await next(app, s.id, s.hostKey).expect(200);
    await next(app, s.id, s.hostKey).expect(200);
    const res = await request(app).delete(`/api/sessions/${s.id}/singers/${ann.id}`).set(bearer(s.hostKey)).expect(200);
    assert.equal(res.body.nowSinging.title, 'A2');
    assert.deepEqual(res.body.history.map((r: { title: string }) => r.title), ['A1']);
    expectError(await ask(app, s.id, ann.key, { title: 'A3' }), 'unauthorized', 401);
    const roster = (await request(app).get(`/api/sessions/${s.id}/singers`).set(bearer(s.hostKey)).expect(200)).body;
    assert.deepEqual(roster.singers.map((x: { name: string; byPhone: boolean }) => [x.name, x.byPhone]), [['Ann', false]]);
  });

  it('DELETE /api/admin/sessions/:id with the admin token removes one session, its QR file and streams; 401 without, 404 for none', async (t) => {
    const TOKEN = 'Hf3kQ9tZ2wLm8RvX5cBn7JdP';
    const built = await buildApp(t, { config: { adminToken: TOKEN } });
    const { app, dataDir } = built;
    const s = await createSession(app);
    const other = await createSession(app, 'Other');
    await request(app).get(`/qr-codes/${s.id}.png`).expect(200);
    expectError(await request(app).delete(`/api/admin/sessions/${s.id}`), 'unauthorized', 401);
    expectError(await request(app).delete(`/api/admin/sessions/${s.id}`).set(bearer(s.hostKey)), 'unauthorized', 401);
    await request(app).delete(`/api/admin/sessions/${s.id}`).set(bearer(TOKEN)).expect(204);
    expectError(await request(app).get(`/api/sessions/${s.id}`), 'session_not_found', 404);
    assert.equal(existsSync(path.join(dataDir, 'qr-codes', `${s.id}.png`)), false);
    expectError(await request(app).delete(`/api/admin/sessions/${s.id}`).set(bearer(TOKEN)), 'session_not_found', 404);
    await request(app).get(`/api/sessions/${other.id}`).expect(200);
  });
});

describe('push subscriptions per singer', () => {
  it('MAX_PUSH_SUBSCRIPTIONS_PER_SINGER keeps the newest phones; lowered, a singer stored with more still loads and the next phone trims them', async (t) => {
    const dataDir = await tempDataDir(t);
    const pushApp = (pushPerSinger: number) =>
      buildApp(t, {
        dataDir,
        config: { limits: { ...DEFAULT_LIMITS, pushPerSinger }, push: { publicKey: undefined, privateKey: undefined, subject: 'mailto:tests@example.org', allowLocalEndpoints: true } },
        vapidKeys,
      });
    const vapidKeys = webpush.generateVAPIDKeys();
    const first = await pushApp(5);
    const s = await createSession(first.app);
    const ana = await joinAs(first.app, s.id, 'Ana');
    const put = (app: Express, n: number) =>
      request(app).put(`/api/sessions/${s.id}/singers/${ana.id}/push`).set(bearer(ana.key)).send(browserSubscription(`https://127.0.0.1:9/push/${n}`).json).expect(204);
    for (const n of [1, 2, 3, 4, 5, 6]) await put(first.app, n);
    const endpoints = (app: Awaited<ReturnType<typeof pushApp>>) => app.store.latest(s.id)!.singers[0]!.push?.map((p) => p.endpoint.slice(-1));
    assert.deepEqual(endpoints(first), ['2', '3', '4', '5', '6']);
    await first.close();

    const second = await pushApp(2);
    assert.deepEqual(endpoints(second), ['2', '3', '4', '5', '6'], 'stored over the lowered limit, still loaded whole');
    await put(second.app, 7);
    assert.deepEqual(endpoints(second), ['6', '7']);
  });
});

describe('lowered limits keep what is stored', () => {
  it('a night stored over limits lowered since loads and works after a restart: nothing is dropped, only additions are refused', async (t) => {
    const dataDir = await tempDataDir(t);
    const first = await limited(t, { singersPerNight: 10, queuedSongs: 10, songsPerNight: 20 }, dataDir);
    const s = await createSession(first.app);
    const guests = [];
    for (const name of ['Ann', 'Bob', 'Cleo', 'Dan']) guests.push(await joinAs(first.app, s.id, name));
    for (const [i, g] of guests.entries()) await requestSong(first.app, s.id, g.key, `S${i}`);
    await requestSong(first.app, s.id, guests[0]!.key, 'S4');
    await next(first.app, s.id, s.hostKey).expect(200);
    const before = await queueOf(first.app, s.id);
    await first.close();

    const second = await limited(t, { singersPerNight: 2, queuedSongs: 2, songsPerNight: 3 }, dataDir);
    assert.deepEqual(await queueOf(second.app, s.id), before);
    expectError(await join(second.app, s.id, 'Eve'), 'session_full');
    expectError(await ask(second.app, s.id, guests[1]!.key, { title: 'More' }), 'queue_full');
    await next(second.app, s.id, s.hostKey).expect(200);
    await request(second.app).delete(`/api/sessions/${s.id}/requests/${(await request(second.app).get(`/api/sessions/${s.id}`)).body.queue[0].id}`).set(bearer(s.hostKey)).expect(204);
    await ask(second.app, s.id, s.hostKey, { singerName: 'Walt', title: 'W' }).then((r) => expectError(r, 'session_full'));
    const state = (await request(second.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.singerCount, 4);
    assert.equal(state.history.length, 1);
    assert.equal(state.queue.length, 2);
  });
});
