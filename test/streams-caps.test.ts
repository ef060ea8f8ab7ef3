// Event streams are capped per address, per session and in all, with real connections; over a cap
// the answer is 429 or 503 with Retry-After; each stream ends after its lifetime.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { describe, it } from 'node:test';
import { SseParser, type SseEvent } from '../scripts/bench/sse-client.js';
import { loadConfig } from '../server/config.js';
import { buildApp, createSession, listen } from './support/app.js';

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  events: SseEvent[];
  ended: Promise<void>;
  close(): void;
}

/** One stream on its own socket, from the address given in X-Forwarded-For (the app trusts loopback). */
function open(url: string, from: string, method = 'GET'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { Accept: 'text/event-stream', 'X-Forwarded-For': from } });
    req.on('error', reject);
    req.once('response', (res) => {
      // Closing our own end reports "aborted" on the response: expected, not a failure.
      res.on('error', () => {});
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e));
      const stream: Stream = { status: res.statusCode ?? 0, headers: res.headers, body: '', events, ended: new Promise<void>((done) => res.once('close', () => done())), close: () => req.destroy() };
      res.setEncoding('utf8');
      let first = true;
      res.on('data', (chunk: string) => {
        stream.body += chunk;
        parser.push(chunk);
        // A stream is "open" once its first state has arrived; a refusal once its body has.
        if (first && events.length > 0) {
          first = false;
          resolve(stream);
        }
      });
      if (res.statusCode !== 200 || method === 'HEAD') res.once('end', () => resolve(stream));
    });
    req.end();
  });
}

function assertRefused(s: Stream, status: number, code: string, retryAfter: [number, number]): void {
  assert.equal(s.status, status);
  assert.equal(JSON.parse(s.body).error.code, code);
  const seconds = Number(s.headers['retry-after']);
  assert.ok(seconds >= retryAfter[0] && seconds <= retryAfter[1], `Retry-After ${seconds} within ${retryAfter.join('-')}`);
}

describe('event-stream caps', () => {
  it('caps streams per address (429), per session (429) and in all (503), with Retry-After; a closed stream frees its place', async (t) => {
    const built = await buildApp(t, {
      config: { rateLimits: { enabled: true }, streams: { perAddress: 2, perSession: 3, total: 4, retryAfterSeconds: 8, maxLifetimeMs: 3_600_000 } },
    });
    const { url } = await listen(t, built);
    const a = await createSession(built.app, 'A');
    const b = await createSession(built.app, 'B');
    const events = (id: string) => `${url}/api/sessions/${id}/events`;
    const opened: Stream[] = [];
    t.after(() => opened.forEach((s) => s.close()));
    const ok = async (id: string, from: string) => {
      const s = await open(events(id), from);
      assert.equal(s.status, 200);
      opened.push(s);
      return s;
    };

    const first = await ok(a.id, '203.0.113.1');
    await ok(a.id, '203.0.113.1');
    assertRefused(await open(events(a.id), '203.0.113.1'), 429, 'too_many_streams', [8, 12]);
    // HEAD answers as the stream would: what the page asks before it reopens.
    assertRefused({ ...(await open(events(a.id), '203.0.113.1', 'HEAD')), body: '{"error":{"code":"too_many_streams"}}' }, 429, 'too_many_streams', [8, 12]);

    await ok(a.id, '203.0.113.2');
    const perSession = await open(events(a.id), '203.0.113.3');
    assertRefused(perSession, 429, 'too_many_streams', [8, 12]);
    assert.match(JSON.parse(perSession.body).error.message, /this session/);

    await ok(b.id, '203.0.113.3');
    assert.equal(built.hub.connections, 4);
    assertRefused(await open(events(b.id), '203.0.113.4'), 503, 'streams_full', [8, 12]);

    first.close();
    await once(built.hub, 'connections');
    await ok(b.id, '203.0.113.4');
  });

  it('with the defaults a full bar behind one address gets its 300 streams, and the 301st is refused long before 1,200', async (t) => {
    const built = await buildApp(t, { config: { rateLimits: { enabled: true } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const streams: Stream[] = [];
    t.after(() => streams.forEach((x) => x.close()));
    for (let i = 0; i < 6; i += 1) streams.push(...(await Promise.all(Array.from({ length: 50 }, () => open(`${url}/api/sessions/${s.id}/events`, '203.0.113.9')))));
    assert.ok(streams.every((x) => x.status === 200));
    assert.equal(built.hub.connections, 300);
    assertRefused(await open(`${url}/api/sessions/${s.id}/events`, '203.0.113.9'), 429, 'too_many_streams', [30, 45]);
    // The next bar's phones are their own address.
    streams.push(await open(`${url}/api/sessions/${s.id}/events`, '198.51.100.1'));
    assert.equal(streams.at(-1)!.status, 200);
  });

  it('ends a stream after its lifetime with a reconnect event, so the page opens the next at once', async (t) => {
    const built = await buildApp(t, { config: { streams: { perAddress: 10, perSession: 10, total: 10, retryAfterSeconds: 5, maxLifetimeMs: 400 } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const started = performance.now();
    const stream = await open(`${url}/api/sessions/${s.id}/events`, '203.0.113.1');
    await stream.ended;
    const lived = performance.now() - started;
    assert.ok(lived >= 350 && lived < 2000, `lived ${Math.round(lived)} ms`);
    assert.deepEqual(stream.events.map((e) => e.event), ['state', 'reconnect']);
    assert.equal(built.hub.connections, 0);
  });

  it('each cap is a setting', () => {
    const config = loadConfig({ SSE_MAX_PER_ADDRESS: '7', SSE_MAX_PER_SESSION: '8', SSE_MAX_STREAMS: '9', SSE_MAX_LIFETIME_MINUTES: '2', SSE_RETRY_AFTER_SECONDS: '11', MAX_CONNECTIONS: '12' });
    assert.deepEqual({ ...config.streams }, { perAddress: 7, perSession: 8, total: 9, maxLifetimeMs: 120_000, retryAfterSeconds: 11 });
    assert.equal(config.maxConnections, 12);
    assert.deepEqual({ ...loadConfig({}).streams }, { perAddress: 300, perSession: 600, total: 1200, maxLifetimeMs: 1_800_000, retryAfterSeconds: 30 });
  });
});
