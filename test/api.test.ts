import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { readStoredData } from '../server/store/index.js';
import { bearer, buildApp, createSession, joinAs, queueOf, requestSong } from './support/app.js';

describe('sessions', () => {
  it('POST /api/sessions creates a session with links, a host key and a QR PNG on disk', async (t) => {
    const { app, dataDir } = await buildApp(t, { store: 'json' });
    const res = await request(app).post('/api/sessions').set('Host', 'karaoke.example:8080').send({ name: '  Friday Night  ' });
    assert.equal(res.status, 201);
    const { session, hostKey, joinUrl, qrUrl, displayUrl, hostUrl } = res.body;
    assert.match(session.id, /^[2-9A-HJKMNP-Z]{6}$/);
    assert.equal(session.name, 'Friday Night');
    assert.equal(session.status, 'open');
    assert.equal(session.rotation, 'fair');
    assert.equal(session.maxQueuedPerSinger, 3);
    assert.equal(session.version, 1);
    assert.equal(joinUrl, `http://karaoke.example:8080/s/${session.id}`);
    assert.equal(qrUrl, `http://karaoke.example:8080/qr-codes/${session.id}.png`);
    assert.equal(displayUrl, `http://karaoke.example:8080/display/${session.id}`);
    assert.equal(hostUrl, `http://karaoke.example:8080/host/${session.id}#key=${hostKey}`);
    assert.ok(hostKey.length >= 40);
    assert.ok((await stat(path.join(dataDir, 'qr-codes', `${session.id}.png`))).size > 100);
    for (const file of ['data.json', 'data.journal']) {
      const stored = await readFile(path.join(dataDir, file), 'utf8');
      assert.ok(!stored.includes(hostKey), `the host key itself is never stored (${file})`);
    }
    assert.ok((await readStoredData(dataDir)).sessions[session.id]?.hostKeyHash, 'only its hash is');
  });

  it('uses PUBLIC_URL for links and honours X-Forwarded-Proto behind a proxy', async (t) => {
    const fixed = await buildApp(t, { config: { publicUrl: 'https://my-karaoke.fly.dev' } });
    const a = await createSession(fixed.app);
    assert.equal(a.joinUrl, `https://my-karaoke.fly.dev/s/${a.id}`);

    const proxied = await buildApp(t, { config: { trustProxy: true } });
    const res = await request(proxied.app)
      .post('/api/sessions')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'bar.example')
      .send({ name: 'Proxy' })
      .expect(201);
    assert.equal(res.body.joinUrl, `https://bar.example/s/${res.body.session.id}`);
  });

  it('GET /api/sessions/:id returns the public state, case-insensitively, with no key or hash', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const guest = await joinAs(app, s.id, 'Ann');
    await requestSong(app, s.id, guest.key, 'Dancing Queen', 'ABBA');
    const res = await request(app).get(`/api/sessions/${s.id.toLowerCase()}`).expect(200);
    for (const key of ['id', 'name', 'status', 'rotation', 'version', 'joinUrl', 'qrUrl', 'nowSinging', 'queue', 'history']) {
      assert.ok(key in res.body, `state has ${key}`);
    }
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(s.hostKey) && !text.includes(guest.key));
    assert.ok(!/hash/i.test(text), 'no hashes in the public state');
    assert.equal(res.body.queue[0].singer.name, 'Ann');
    assert.equal(res.body.queue[0].position, 1);
  });

  it('PATCH /api/sessions/:id changes settings for the host and bumps the version', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const endsAt = new Date(Date.now() + 3 * 3600_000).toISOString();
    const res = await request(app)
      .patch(`/api/sessions/${s.id}`)
      .set(bearer(s.hostKey))
      .send({ name: 'Late Show', status: 'paused', rotation: 'fifo', maxQueuedPerSinger: 2, endsAt })
      .expect(200);
    assert.equal(res.body.name, 'Late Show');
    assert.equal(res.body.status, 'paused');
    assert.equal(res.body.rotation, 'fifo');
    assert.equal(res.body.maxQueuedPerSinger, 2);
    assert.equal(res.body.endsAt, endsAt);
    assert.equal(res.body.version, 2);
    const cleared = await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ endsAt: null }).expect(200);
    assert.equal(cleared.body.endsAt, null);
  });

  it('DELETE /api/sessions/:id removes the session and its QR file', async (t) => {
    const { app, dataDir } = await buildApp(t, { store: 'json' });
    const s = await createSession(app);
    await request(app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    await request(app).get(`/api/sessions/${s.id}`).expect(404);
    await request(app).get(`/qr-codes/${s.id}.png`).expect(404);
    await assert.rejects(stat(path.join(dataDir, 'qr-codes', `${s.id}.png`)), { code: 'ENOENT' });
  });
});

describe('singers and requests', () => {
  it('a guest joins, requests a song with a link, and learns its position', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const res = await request(app).post(`/api/sessions/${s.id}/singers`).send({ name: 'Ann' }).expect(201);
    assert.equal(res.body.singer.name, 'Ann');
    assert.ok(res.body.guestKey.length >= 40);
    const added = await request(app)
      .post(`/api/sessions/${s.id}/requests`)
      .set(bearer(res.body.guestKey))
      .send({ title: 'Zombie', artist: 'The Cranberries', link: 'https://example.com/zombie' })
      .expect(201);
    assert.equal(added.body.position, 1);
    assert.equal(added.body.request.title, 'Zombie');
    assert.equal(added.body.request.link, 'https://example.com/zombie');
    assert.deepEqual(added.body.request.singer, res.body.singer);
    assert.ok(Date.parse(added.body.request.estimatedStartAt) > 0);
  });

  it('a new request is answered with its entry exactly as the queue shows it, place and start time included', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bo = await joinAs(app, s.id, 'Bo');
    await requestSong(app, s.id, bo.key, 'One');
    await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    await requestSong(app, s.id, ann.key, 'Two');
    await request(app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ann.key)).expect(200);
    const added = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(bo.key)).send({ title: 'Three' }).expect(201);
    const state = await request(app).get(`/api/sessions/${s.id}`).expect(200);
    assert.deepEqual(
      state.body.queue.map((r: { title: string; onHold: boolean }) => [r.title, r.onHold]),
      [['Two', true], ['Three', false]],
    );
    assert.deepEqual(added.body.request, state.body.queue[1]);
    assert.equal(added.body.position, 2);
    // Bo's song starts when his first ends: Ann's held song is left out of the wait.
    assert.equal(added.body.request.estimatedStartAt, state.body.nowSinging.estimatedEndAt);
  });

  it('the host adds walk-ins by name, and a walk-in\'s second song rotates fairly', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const walkIn = (singerName: string, title: string) =>
      request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(s.hostKey)).send({ title, singerName }).expect(201);
    await walkIn('Zoe', 'One');
    await walkIn('Zoe', 'Two');
    await walkIn('Max', 'Three');
    assert.deepEqual(await queueOf(app, s.id), ['Zoe:One', 'Max:Three', 'Zoe:Two']);
    const state = await request(app).get(`/api/sessions/${s.id}`);
    assert.equal(state.body.singerCount, 2);
  });

  it('fair rotation across several guests, as the host and TV see it', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const [a, b, c] = [await joinAs(app, s.id, 'A'), await joinAs(app, s.id, 'B'), await joinAs(app, s.id, 'C')];
    await requestSong(app, s.id, a.key, 'a1');
    await requestSong(app, s.id, b.key, 'b1');
    await requestSong(app, s.id, a.key, 'a2');
    const c1 = await requestSong(app, s.id, c.key, 'c1');
    assert.equal(c1.position, 3);
    await requestSong(app, s.id, b.key, 'b2');
    await requestSong(app, s.id, a.key, 'a3');
    assert.deepEqual(await queueOf(app, s.id), ['A:a1', 'B:b1', 'C:c1', 'A:a2', 'B:b2', 'A:a3']);
  });

  it('a guest cancels their own request; the host can cancel anyone\'s', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    const r1 = await requestSong(app, s.id, ann.key, 'One');
    const r2 = await requestSong(app, s.id, bob.key, 'Two');
    await request(app).delete(`/api/sessions/${s.id}/requests/${r1.id}`).set(bearer(ann.key)).expect(204);
    await request(app).delete(`/api/sessions/${s.id}/requests/${r2.id}`).set(bearer(s.hostKey)).expect(204);
    assert.deepEqual(await queueOf(app, s.id), []);
  });

  it('PATCH a request moves it to a 1-based position', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    await requestSong(app, s.id, ann.key, 'One');
    const two = await requestSong(app, s.id, bob.key, 'Two');
    const res = await request(app)
      .patch(`/api/sessions/${s.id}/requests/${two.id}`)
      .set(bearer(s.hostKey))
      .send({ position: 1 })
      .expect(200);
    assert.deepEqual(res.body.queue.map((r: { title: string; position: number }) => [r.title, r.position]), [['Two', 1], ['One', 2]]);
  });

  it('POST next moves the singer to history and the head of the queue on stage', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    await requestSong(app, s.id, ann.key, 'One');
    await requestSong(app, s.id, ann.key, 'Two');
    const next = () => request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey));
    let res = await next().send({}).expect(200);
    assert.equal(res.body.nowSinging.title, 'One');
    assert.ok(res.body.nowSinging.startedAt);
    res = await next().send({ outcome: 'skipped', expectedCurrentId: res.body.nowSinging.id }).expect(200);
    assert.equal(res.body.nowSinging.title, 'Two');
    assert.equal(res.body.history.length, 1);
    assert.equal(res.body.history[0].outcome, 'skipped');
    assert.ok(res.body.history[0].endedAt);
    res = await next().expect(200);
    assert.equal(res.body.nowSinging, null);
    assert.equal(res.body.history[1].outcome, 'sung');
    await next().expect(409).expect((r) => assert.equal(r.body.error.code, 'queue_empty'));
  });
});
