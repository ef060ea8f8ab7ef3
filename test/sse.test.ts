import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, listen } from './support/app.js';
import { SseClient } from '../scripts/bench/sse-client.js';

describe('GET /api/sessions/:id/events', () => {
  it('sends the full state at once and again after every change, with the version as id', async (t) => {
    const built = await buildApp(t);
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    const res = await client.ready;
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.match(String(res.headers['cache-control']), /no-cache/);

    const first = await client.next();
    assert.equal(first?.event, 'state');
    assert.equal(first?.id, '1');
    assert.equal(JSON.parse(first!.data).name, 'Friday Night');

    const ann = await joinAs(built.app, s.id, 'Ann');
    const joined = await client.next();
    assert.equal(joined?.id, '2');
    assert.equal(JSON.parse(joined!.data).singerCount, 1);

    await request(built.app)
      .post(`/api/sessions/${s.id}/requests`)
      .set(bearer(ann.key))
      .send({ title: 'Africa', artist: 'Toto' })
      .expect(201);
    const requested = await client.next();
    const state = JSON.parse(requested!.data);
    assert.equal(requested?.id, '3');
    assert.equal(state.queue[0].title, 'Africa');
    assert.equal(state.queue[0].singer.name, 'Ann');
  });

  it('delivers one change to many clients of a session, and none to other sessions', async (t) => {
    const built = await buildApp(t);
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const other = await createSession(built.app, 'Other');
    const clients = Array.from({ length: 20 }, () => new SseClient(`${url}/api/sessions/${s.id}/events`));
    const bystander = new SseClient(`${url}/api/sessions/${other.id}/events`);
    t.after(() => [...clients, bystander].forEach((c) => c.close()));
    await Promise.all(clients.map((c) => c.next()));
    await bystander.next();
    assert.equal(built.hub.connections, 21);

    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ name: 'Renamed' }).expect(200);
    const updates = await Promise.all(clients.map((c) => c.next()));
    assert.ok(updates.every((e) => e && JSON.parse(e.data).name === 'Renamed'));

    // The bystander's next event is the one caused by its own session changing, not ours.
    await request(built.app).patch(`/api/sessions/${other.id}`).set(bearer(other.hostKey)).send({ name: 'Mine' }).expect(200);
    assert.equal(JSON.parse((await bystander.next())!.data).name, 'Mine');
  });

  it('cleans up clients that disconnect, and ends streams when the session is deleted', async (t) => {
    const built = await buildApp(t);
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const leaving = new SseClient(`${url}/api/sessions/${s.id}/events`);
    const staying = new SseClient(`${url}/api/sessions/${s.id}/events`);
    await leaving.next();
    await staying.next();
    assert.equal(built.hub.connections, 2);
    const dropped = once(built.hub, 'connections');
    leaving.close();
    assert.deepEqual(await dropped, [1]);

    await request(built.app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    const deleted = await staying.next();
    assert.equal(deleted?.event, 'deleted');
    assert.equal(await staying.next(), null, 'the stream ends');
    assert.equal(built.hub.connections, 0);
  });

  it('answers HEAD without opening a stream that never ends', async (t) => {
    const built = await buildApp(t);
    const s = await createSession(built.app);
    const res = await request(built.app).head(`/api/sessions/${s.id}/events`).expect(200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.equal(built.hub.connections, 0);
  });

  it('sends keep-alive comments every SSE_HEARTBEAT_SECONDS so proxies keep the stream open', async (t) => {
    const heartbeatMs = 500;
    const built = await buildApp(t, { config: { sseHeartbeatMs: heartbeatMs } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    await client.next();
    const res = await client.ready;
    while (client.comments < 2) await once(res, 'data');
    const [first, second] = client.commentTimes as [number, number];
    const gap = second - first;
    assert.ok(gap >= 0.8 * heartbeatMs && gap <= 2 * heartbeatMs, `${Math.round(gap)} ms between two keep-alives, expected about ${heartbeatMs}`);
  });
});
