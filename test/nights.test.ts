import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, listen, reopen, requestSong } from './support/app.js';
import { SseClient } from '../scripts/bench/sse-client.js';

describe('recurring nights', () => {
  it('POST /api/sessions/:id/nights archives tonight and opens a fresh night in the same room', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app, 'Tuesday Karaoke');
    const png = async () => (await request(app.app).get(`/qr-codes/${s.id}.png`).buffer(true).expect(200)).body as Buffer;
    const qrBefore = await png();
    const ann = await joinAs(app.app, s.id, 'Ann');
    const bob = await joinAs(app.app, s.id, 'Bob');
    await requestSong(app.app, s.id, ann.key, 'Valerie', 'Amy Winehouse');
    await requestSong(app.app, s.id, bob.key, 'Dancing Queen', 'ABBA');
    await requestSong(app.app, s.id, ann.key, 'Rehab', 'Amy Winehouse');
    const next = (body: object = {}) => request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send(body).expect(200);
    await next(); // Valerie on stage
    await next({ outcome: 'skipped' }); // Valerie skipped, Dancing Queen on stage
    await next(); // Dancing Queen sung; Rehab on stage when the night ends counts as sung
    await request(app.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ status: 'closed' }).expect(200);

    const fresh = (await request(app.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
    assert.equal(fresh.night, 2);
    assert.equal(fresh.status, 'open');
    assert.deepEqual([fresh.queue.length, fresh.history.length, fresh.singerCount, fresh.nowSinging], [0, 0, 0, null]);
    assert.equal(fresh.id, s.id);
    assert.equal(fresh.joinUrl, s.joinUrl);

    const nights = (await request(app.app).get(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
    assert.equal(nights.length, 1);
    assert.deepEqual({ night: nights[0].night, songs: nights[0].songs, singers: nights[0].singers }, { night: 1, songs: 2, singers: 2 });

    const csv = await request(app.app).get(`/api/sessions/${s.id}/nights/1/songs.csv`).set(bearer(s.hostKey)).expect(200);
    assert.match(csv.headers['content-type']!, /^text\/csv/);
    assert.match(csv.headers['content-disposition']!, /attachment; filename="karaoke-.*-night-1\.csv"/);
    const rows = csv.text.replace(/^\ufeff/, '').trim().split('\r\n');
    assert.equal(rows[0], 'startedAt,endedAt,singer,title,artist,outcome,songId');
    assert.deepEqual(rows.slice(1).map((r) => r.split(',').slice(2, 6).join(',')), [
      'Ann,Valerie,Amy Winehouse,skipped',
      'Bob,Dancing Queen,ABBA,sung',
      'Ann,Rehab,Amy Winehouse,sung',
    ]);

    // The old night's phone gets a clear answer; the same QR code (byte for byte) leads to the new night.
    const stale = await request(app.app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'Back to Black' });
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error.code, 'new_night');
    assert.deepEqual(await png(), qrBefore);
    const annAgain = await joinAs(app.app, s.id, 'Ann');
    await requestSong(app.app, s.id, annAgain.key, 'Back to Black', 'Amy Winehouse');
  });

  it('every open page hears about the new night at once', async (t) => {
    const app = await buildApp(t);
    const { url } = await listen(t, app);
    const s = await createSession(app.app);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    assert.equal(JSON.parse((await client.next())!.data).night, 1);
    await request(app.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    const event = await client.next();
    assert.equal(event?.event, 'state');
    assert.equal(JSON.parse(event!.data).night, 2);
  });

  it('the songs CSV of tonight is there before the night ends; formulas typed as names stay text', async (t) => {
    const app = await buildApp(t);
    const s = await createSession(app.app);
    const eve = await joinAs(app.app, s.id, '=HYPERLINK("x")');
    await requestSong(app.app, s.id, eve.key, 'Song, with "quotes"', 'Band');
    await request(app.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    const csv = await request(app.app).get(`/api/sessions/${s.id}/nights/current/songs.csv`).set(bearer(s.hostKey)).expect(200);
    const row = csv.text.trim().split('\r\n')[1]!;
    assert.match(row, /,'=HYPERLINK\(""x""\)|,"'=HYPERLINK\(""x""\)"/);
    assert.match(row, /"Song, with ""quotes"""/);
    assert.match(row, /,singing,$/);
    const guest = await joinAs(app.app, s.id, 'Guest');
    assert.equal((await request(app.app).get(`/api/sessions/${s.id}/nights/current/songs.csv`).set(bearer(guest.key))).status, 403);
    assert.equal((await request(app.app).get(`/api/sessions/${s.id}/nights/7/songs.csv`).set(bearer(s.hostKey))).body.error.code, 'night_not_found');
  });

  it('the archive keeps the newest NIGHTS_KEEP nights and survives a restart', async (t) => {
    const first = await buildApp(t, { config: { nightsKeep: 2 } });
    const s = await createSession(first.app);
    for (let i = 0; i < 3; i += 1) await request(first.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    await first.close();
    const second = await reopen(t, first, { config: { nightsKeep: 2 } });
    const nights = (await request(second.app).get(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
    assert.deepEqual(nights.map((n: { night: number }) => n.night), [3, 2]);
    assert.equal((await request(second.app).get(`/api/sessions/${s.id}`).expect(200)).body.night, 4);
  });

  it('the archive of nights travels in the admin export and comes back with an import', async (t) => {
    const adminToken = 'q7Vd2LxR9mTe4KpW8sZc3NhJ';
    const auth = { Authorization: `Bearer ${adminToken}` };
    const source = await buildApp(t, { config: { adminToken } });
    const s = await createSession(source.app);
    const ann = await joinAs(source.app, s.id, 'Ann');
    await requestSong(source.app, s.id, ann.key, 'Valerie', 'Amy Winehouse');
    await request(source.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).expect(200);
    await request(source.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    const exported = (await request(source.app).get('/api/admin/export').set(auth).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => done(null, text));
    }).expect(200)).body as string;
    assert.equal(JSON.parse(exported).nights[s.id][0].songs[0].title, 'Valerie');

    const target = await buildApp(t, { config: { adminToken } });
    await request(target.app).post('/api/admin/import').set(auth).set('Content-Type', 'application/json').send(exported).expect(200);
    const nights = (await request(target.app).get(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200)).body;
    assert.deepEqual(nights.map((n: { night: number; songs: number }) => [n.night, n.songs]), [[1, 1]]);
    const csv = await request(target.app).get(`/api/sessions/${s.id}/nights/1/songs.csv`).set(bearer(s.hostKey)).expect(200);
    assert.match(csv.text, /Ann,Valerie,Amy Winehouse,sung/);
  });
});
