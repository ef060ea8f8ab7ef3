// Behaviour under load that a venue depends on: a phone that stops reading its event stream must
// not grow the server's memory or hold up the TV, and a flood from one guest or one address must
// be cut off with 429 + Retry-After while everyone else carries on.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import request from 'supertest';
import { pino } from 'pino';
import { createApp } from '../server/app.js';
import { testConfig } from '../server/config.js';
import { buildServices } from '../server/services.js';
import { openStore } from '../server/store/index.js';
import { bearer, buildApp, createSession, joinAs, listen, tempDataDir } from './support/app.js';
import { SseClient } from '../scripts/bench/sse-client.js';

const LINK = `https://example.com/karaoke/${'x'.repeat(440)}`;

/** About 100 KB of state: six singers with twenty long-linked songs each. */
async function bigQueue(url: string, sessionId: string, hostKey: string): Promise<void> {
  const call = (method: string, path: string, key: string, body: unknown) =>
    fetch(`${url}${path}`, { method, headers: { 'Content-Type': 'application/json', ...bearer(key) }, body: JSON.stringify(body) });
  assert.equal((await call('PATCH', `/api/sessions/${sessionId}`, hostKey, { maxQueuedPerSinger: 20 })).status, 200);
  await Promise.all(
    Array.from({ length: 6 }, async (_, s) => {
      const joined = await fetch(`${url}/api/sessions/${sessionId}/singers`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `Singer ${s}` }),
      });
      const { guestKey } = (await joined.json()) as { guestKey: string };
      for (let i = 0; i < 20; i += 1) {
        const res = await call('POST', `/api/sessions/${sessionId}/requests`, guestKey, { title: `Song ${s}-${i} ${'la '.repeat(30)}`, artist: 'A Band', link: LINK });
        assert.equal(res.status, 201, await res.text());
      }
    }),
  );
}

/** An event-stream request on a raw socket that is never read: its kernel buffers fill, then the server's. */
async function stalledStream(url: string, path: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
  return socket;
}

describe('slow event-stream consumers', () => {
  it('drops a client that stops reading once its unsent output passes the limit, while another client gets every change in turn', async (t) => {
    const built = await buildApp(t, { config: { sseMaxBufferBytes: 64 * 1024 } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    await bigQueue(url, s.id, s.hostKey);
    const path = `/api/sessions/${s.id}/events`;

    const fast = new SseClient(`${url}${path}`);
    t.after(() => fast.close());
    const first = await fast.next();
    let version = Number(first?.id);
    const frameBytes = Buffer.byteLength(first!.data);
    assert.ok(frameBytes > 90_000, `the state is big enough to fill buffers quickly (${frameBytes} bytes)`);

    const slow = await stalledStream(url, path);
    t.after(() => slow.destroy());
    while (built.hub.connections < 2) await once(built.hub, 'connections');

    // Each change is a ~100 KB frame. Loopback buffers hold a few MB at most, so the stalled
    // client must be dropped well within 300 changes; the fast one must see each change before
    // the next one is made, which it could not if the stalled one held anything up.
    let changes = 0;
    while (built.hub.connections === 2) {
      assert.ok(changes < 300, 'the stalled client was never dropped');
      changes += 1;
      await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ name: `Change ${changes}` }).expect(200);
      const event = await fast.next();
      assert.equal(event?.event, 'state');
      assert.equal(Number(event?.id), version + 1, 'the fast client receives every version, in order');
      version += 1;
      assert.equal(JSON.parse(event!.data).name, `Change ${changes}`);
    }
    assert.equal(built.hub.connections, 1, 'only the stalled client was dropped');
    assert.ok(changes > 1, 'it was dropped for what piled up, not at once');

    // The server closed the stalled connection: reading what is left ends in a close.
    const closed = once(slow, 'close');
    slow.resume();
    await closed;

    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ name: 'After' }).expect(200);
    assert.equal(JSON.parse((await fast.next())!.data).name, 'After');
  });
});

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
}

async function answer(res: Response): Promise<Answer> {
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.error?.code };
}

function assertLimited(answers: Answer[], allowed: number, what: string): void {
  const ok = answers.filter((a) => a.status < 300);
  const limited = answers.filter((a) => a.status === 429);
  assert.equal(ok.length, allowed, `${what}: exactly the limit gets through`);
  assert.equal(limited.length, answers.length - allowed, `${what}: everything else is 429, nothing else`);
  for (const a of limited) {
    assert.equal(a.code, 'rate_limited');
    const seconds = Number(a.retryAfter);
    assert.ok(Number.isInteger(seconds) && seconds > 0 && seconds <= 60, `Retry-After is whole seconds within the window: ${a.retryAfter}`);
  }
}

describe('rate limits under load', () => {
  it('cuts off a guest flooding song requests with 429 + Retry-After while another guest in the same room is unaffected', async (t) => {
    const built = await buildApp(t, { config: { rateLimits: { enabled: true, requestPerMinute: 5 } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ maxQueuedPerSinger: 20 }).expect(200);
    const flooder = await joinAs(built.app, s.id, 'Flooder');
    const calm = await joinAs(built.app, s.id, 'Calm');
    const ask = (key: string, title: string) =>
      fetch(`${url}/api/sessions/${s.id}/requests`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(key) },
        body: JSON.stringify({ title }),
      }).then(answer);

    const [flood, calmAnswers] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, (_, i) => ask(flooder.key, `Flood ${i}`))),
      Promise.all(Array.from({ length: 5 }, (_, i) => ask(calm.key, `Calm ${i}`))),
    ]);
    assertLimited(flood, 5, 'the flooding guest');
    assert.deepEqual(calmAnswers.map((a) => a.status), [201, 201, 201, 201, 201], 'the other guest is not limited');

    const state = (await request(built.app).get(`/api/sessions/${s.id}`).expect(200)).body as { queue: { singer: { name: string } }[] };
    assert.equal(state.queue.filter((r) => r.singer.name === 'Flooder').length, 5);
    assert.equal(state.queue.filter((r) => r.singer.name === 'Calm').length, 5);
  });

  it('cuts off one address flooding the API while another address behind the same proxy keeps being served', async (t) => {
    const built = await buildApp(t, { config: { rateLimits: { enabled: true, apiPerMinute: 40 } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    // The default TRUST_PROXY trusts loopback, so X-Forwarded-For names the client, as behind Fly's proxy.
    const get = (ip: string) => fetch(`${url}/api/sessions/${s.id}`, { headers: { 'X-Forwarded-For': ip } }).then(answer);

    const [flood, other] = await Promise.all([
      Promise.all(Array.from({ length: 120 }, () => get('203.0.113.7'))),
      Promise.all(Array.from({ length: 30 }, () => get('198.51.100.9'))),
    ]);
    assertLimited(flood, 40, 'the flooding address');
    assert.ok(other.every((a) => a.status === 200), 'the other address is served throughout');
  });
});

describe('the request log under load', () => {
  it('writes one line per request, at a level by status, with method, path, status and time and never a key', async (t) => {
    const dataDir = await tempDataDir(t);
    const { store } = await openStore({ dataDir });
    const lines: Record<string, any>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = testConfig({ dataDir });
    const now = () => new Date();
    const { hub, qr, changes, songbooks, songbookWorker, push } = buildServices({ config, store, log, now });
    await qr.prepare();
    const built = { app: createApp({ config, store, hub, qr, changes, songbooks, songbookWorker, push, log, now }), hub };
    const server = built.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(async () => {
      built.hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await songbookWorker.close();
      await store.close();
    });
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const s = await createSession(built.app);
    const guest = await joinAs(built.app, s.id, 'Ann');
    lines.length = 0;

    const calls = [
      ...Array.from({ length: 20 }, () => ({ path: `/api/sessions/${s.id}`, init: {}, status: 200 })),
      ...Array.from({ length: 5 }, (_, i) => ({
        path: `/api/sessions/${s.id}/requests`,
        init: { method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(guest.key) }, body: JSON.stringify({ title: `Song ${i}` }) },
        status: i < 3 ? 201 : 409,
      })),
      ...Array.from({ length: 10 }, () => ({ path: '/api/sessions/ZZZZZZ', init: { headers: bearer(s.hostKey) }, status: 404 })),
      { path: '/healthz', init: {}, status: 200 },
    ];
    const statuses = await Promise.all(calls.map((c) => fetch(`${url}${c.path}`, c.init).then(async (r) => (await r.arrayBuffer(), r.status))));
    assert.deepEqual([...statuses].sort(), calls.map((c) => c.status).sort());
    const stream = new SseClient(`${url}/api/sessions/${s.id}/events`);
    await stream.next();
    const left = once(built.hub, 'connections');
    stream.close();
    await left;
    // 'finish' and 'close' are emitted after the answer reached the socket: wait for the last line.
    while (lines.length < calls.length) await new Promise((resolve) => setImmediate(resolve));

    const completed = lines.filter((l) => l.msg === 'request completed');
    assert.equal(completed.length, calls.length - 1, 'every request but /healthz, once');
    for (const line of completed) {
      assert.equal(line.level, line.res.statusCode >= 400 ? 40 : 30);
      assert.equal(typeof line.req.method, 'string');
      assert.match(line.req.url, /^\/api\/sessions\//);
      assert.equal(typeof line.responseTime, 'number');
    }
    assert.deepEqual(lines.filter((l) => l.msg === 'request aborted').map((l) => [l.req.url, l.res.statusCode]), [[`/api/sessions/${s.id}/events`, 200]]);
    const text = JSON.stringify(lines);
    for (const secret of [guest.key, s.hostKey]) assert.ok(!text.includes(secret), 'keys never reach the log');
    assert.ok(!/authorization/i.test(text), 'headers never reach the log');
  });
});
