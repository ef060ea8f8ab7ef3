import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, requestSong } from './support/app.js';

type Res = { status: number; body: { error?: { code: string; message: string } } };
function expectError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, code);
  assert.ok(res.body.error.message.length > 5, 'a readable message');
}

describe('400 invalid input', () => {
  it('rejects bad names, titles, links, unknown fields and broken JSON with clear codes', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const guest = await joinAs(app, s.id, 'Ann');
    const post = (url: string, body: unknown, key?: string) => {
      const r = request(app).post(url);
      if (key) r.set(bearer(key));
      return r.send(body as object);
    };
    for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(41) }, { name: 'a\u0007b' }, { name: 5 }, { name: 'ok', admin: true }]) {
      expectError(await post('/api/sessions', body), 400, 'invalid_input');
    }
    const unknown = await post('/api/sessions', { name: 'ok', extra: 1 });
    assert.match(unknown.body.error.message, /unknown field extra/);
    const songs = `/api/sessions/${s.id}/requests`;
    for (const body of [
      { title: '' },
      { title: 'x'.repeat(121) },
      { title: 'ok', artist: 'y'.repeat(81) },
      { title: 'ok', link: 'javascript:alert(1)' },
      { title: 'ok', link: 'not a url' },
      { title: 'line\nbreak' },
      { title: 'ok', artist: 'right\u202eleft' },
    ]) {
      expectError(await post(songs, body, guest.key), 400, 'invalid_input');
    }
    const broken = await request(app).post('/api/sessions').set('Content-Type', 'application/json').send('{"name": ');
    expectError(broken, 400, 'invalid_json');
    const notJson = await request(app).post('/api/sessions').set('Content-Type', 'text/plain').send('name=x');
    expectError(notJson, 400, 'invalid_input');
    expectError(await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({}), 400, 'invalid_input');
    expectError(
      await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ endsAt: 'tomorrow' }),
      400,
      'invalid_input',
    );
  });

  it('trims what people type', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const res = await request(app).post(`/api/sessions/${s.id}/singers`).send({ name: '  Ann  ' }).expect(201);
    assert.equal(res.body.singer.name, 'Ann');
  });
});

describe('401 and 403', () => {
  it('answers 401 without a key or with a wrong one, 403 when a guest acts as host or on another guest', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const other = await createSession(app, 'Other');
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    const r = await requestSong(app, s.id, bob.key, 'Song');

    expectError(await request(app).patch(`/api/sessions/${s.id}`).send({ name: 'x' }), 401, 'unauthorized');
    expectError(await request(app).post(`/api/sessions/${s.id}/next`).set(bearer('x'.repeat(43))), 401, 'unauthorized');
    expectError(await request(app).delete(`/api/sessions/${s.id}`).set('Authorization', s.hostKey), 401, 'unauthorized');
    // A host key of another session is just a wrong key here.
    expectError(await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(other.hostKey)), 401, 'unauthorized');
    expectError(await request(app).post(`/api/sessions/${s.id}/requests`).send({ title: 'x' }), 401, 'unauthorized');

    expectError(await request(app).patch(`/api/sessions/${s.id}`).set(bearer(ann.key)).send({ name: 'x' }), 403, 'forbidden');
    expectError(await request(app).delete(`/api/sessions/${s.id}`).set(bearer(ann.key)), 403, 'forbidden');
    expectError(await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(ann.key)), 403, 'forbidden');
    expectError(
      await request(app).patch(`/api/sessions/${s.id}/requests/${r.id}`).set(bearer(ann.key)).send({ position: 1 }),
      403,
      'forbidden',
    );
    expectError(await request(app).delete(`/api/sessions/${s.id}/requests/${r.id}`).set(bearer(ann.key)), 403, 'forbidden');
    expectError(
      await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'x', singerName: 'Bob' }),
      403,
      'forbidden',
    );
  });
});

describe('404', () => {
  it('answers 404 for unknown or malformed sessions, requests and routes', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    expectError(await request(app).get('/api/sessions/ZZZZZZ'), 404, 'session_not_found');
    expectError(await request(app).get('/api/sessions/not-a-code!'), 404, 'session_not_found');
    expectError(await request(app).get('/api/sessions/%2e%2e%2fdata.json'), 404, 'session_not_found');
    expectError(await request(app).post('/api/sessions/ZZZZZZ/singers').send({ name: 'x' }), 404, 'session_not_found');
    expectError(await request(app).get('/api/sessions/ZZZZZZ/events'), 404, 'session_not_found');
    expectError(
      await request(app).delete(`/api/sessions/${s.id}/requests/doesnotexist`).set(bearer(s.hostKey)),
      404,
      'request_not_found',
    );
    expectError(
      await request(app).patch(`/api/sessions/${s.id}/requests/..%2f..`).set(bearer(s.hostKey)).send({ position: 1 }),
      404,
      'request_not_found',
    );
    expectError(await request(app).get('/api/nothing'), 404, 'not_found');
    expectError(await request(app).get('/qr-codes/..%2fdata.json'), 404, 'session_not_found');
    expectError(await request(app).get('/qr-codes/ZZZZZZ.png'), 404, 'session_not_found');
  });
});

describe('409 conflicts', () => {
  it('refuses requests while paused or closed, over the per-singer limit, duplicates, and past the end', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const song = (title: string, artist = 'X') =>
      request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title, artist });
    const patch = (body: object) => request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send(body).expect(200);

    await song('One').expect(201);
    expectError(await song('  one ', 'x'), 409, 'duplicate_request');
    await song('Two').expect(201);
    await song('Three').expect(201);
    expectError(await song('Four'), 409, 'queue_limit');

    await patch({ maxQueuedPerSinger: 10, status: 'paused' });
    expectError(await song('Four'), 409, 'session_paused');
    await patch({ status: 'closed' });
    expectError(await song('Four'), 409, 'session_closed');
    expectError(await request(app).post(`/api/sessions/${s.id}/singers`).send({ name: 'Late' }), 409, 'session_closed');

    // Three songs of four minutes are queued: a fourth would start after an end 5 minutes away.
    await patch({ status: 'open', endsAt: new Date(Date.now() + 5 * 60_000).toISOString() });
    expectError(await song('Four'), 409, 'session_ending');
    await patch({ endsAt: new Date(Date.now() + 60 * 60_000).toISOString() });
    await song('Four').expect(201);
  });

  it('refuses a stale "next" and cancelling the song on stage', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const ann = await joinAs(app, s.id, 'Ann');
    const r = await requestSong(app, s.id, ann.key, 'One');
    await requestSong(app, s.id, ann.key, 'Two');
    await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({ expectedCurrentId: null }).expect(200);
    // A second tap from a page that has not seen the first one yet.
    expectError(
      await request(app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({ expectedCurrentId: null }),
      409,
      'stale_state',
    );
    expectError(await request(app).delete(`/api/sessions/${s.id}/requests/${r.id}`).set(bearer(ann.key)), 409, 'already_singing');
  });
});

describe('413 and 429', () => {
  it('answers 413 for a body over the limit', async (t) => {
    const { app } = await buildApp(t);
    const res = await request(app).post('/api/sessions').send({ name: 'x'.repeat(20_000) });
    expectError(res, 413, 'payload_too_large');
  });

  it('rate limits a guest\'s song requests with Retry-After, without affecting other guests', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, requestPerMinute: 3 } } });
    const s = await createSession(app);
    await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ maxQueuedPerSinger: 20 }).expect(200);
    const ann = await joinAs(app, s.id, 'Ann');
    const bob = await joinAs(app, s.id, 'Bob');
    for (let i = 0; i < 3; i += 1) await requestSong(app, s.id, ann.key, `Song ${i}`);
    const limited = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'More' });
    expectError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After is set');
    await requestSong(app, s.id, bob.key, 'Bob sings');
  });

  it('rate limits session creation per address', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, createPerHour: 2 } } });
    await createSession(app);
    await createSession(app);
    expectError(await request(app).post('/api/sessions').send({ name: 'Third' }), 429, 'rate_limited');
  });
});
