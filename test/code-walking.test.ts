// Session codes cannot be walked: unknown codes on the pages, the QR codes, the state and the event
// stream count against one budget per address, and once it is spent every lookup waits, so the
// answers stop saying which codes exist.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { buildApp, createSession } from './support/app.js';

const FROM = { 'X-Forwarded-For': '203.0.113.5' };
const ELSEWHERE = { 'X-Forwarded-For': '198.51.100.20' };

/** Codes that look real but name no session. */
const unknown = (i: number) => `ZZ${String(i).replace(/[01]/g, (d) => (d === '0' ? 'A' : 'B')).padStart(4, 'Q')}`;

describe('walking session codes', () => {
  it('a guest who mistypes twice is never slowed', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true } } });
    const s = await createSession(app);
    await request(app).get(`/s/${unknown(1)}`).set(FROM).expect(404);
    await request(app).get(`/api/sessions/${unknown(2)}`).set(FROM).expect(404);
    await request(app).get(`/s/${s.id}`).set(FROM).expect(200);
    await request(app).get(`/api/sessions/${s.id}`).set(FROM).expect(200);
  });

  it('30 unknown codes a minute, then every lookup from that address is 429 with Retry-After, hits included', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true } } });
    const s = await createSession(app);
    const paths = (code: string) => [`/s/${code}`, `/display/${code}`, `/qr-codes/${code}.png`, `/api/sessions/${code}`, `/api/sessions/${code}/events`, `/host/${code}`];
    for (let i = 0; i < 30; i += 1) {
      const path = paths(unknown(i))[i % 6]!;
      assert.equal((await request(app).get(path).set(FROM)).status, 404, `miss ${i + 1}: ${path}`);
    }
    const limited = await request(app).get(`/api/sessions/${unknown(99)}`).set(FROM);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);

    // A real code answers the same as an unknown one now: the answers say nothing.
    for (const path of paths(s.id)) {
      const res = await request(app).get(path).set(FROM).set('Accept', 'text/html');
      assert.equal(res.status, 429, path);
      assert.ok(Number(res.headers['retry-after']) > 0, `${path}: Retry-After`);
    }
    const page = await request(app).get(`/s/${unknown(98)}`).set(FROM).set('Accept', 'text/html');
    assert.match(page.text, /Too many wrong session codes from this network\. Wait \d+ seconds/);

    // Another address is served as before.
    await request(app).get(`/s/${s.id}`).set(ELSEWHERE).expect(200);
    await request(app).get(`/qr-codes/${s.id}.png`).set(ELSEWHERE).expect(200);
  });

  it('RATE_LIMIT_MISSES_PER_MINUTE moves the budget', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, missesPerMinute: 3 } } });
    for (let i = 0; i < 3; i += 1) await request(app).get(`/s/${unknown(i)}`).set(FROM).expect(404);
    await request(app).get(`/s/${unknown(3)}`).set(FROM).expect(429);
  });

  it('hits never count: a room reloading its pages all evening is not slowed', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, missesPerMinute: 3 } } });
    const s = await createSession(app);
    for (let i = 0; i < 20; i += 1) await request(app).get(`/s/${s.id}`).set(FROM).expect(200);
    await request(app).get(`/s/${unknown(1)}`).set(FROM).expect(404);
    await request(app).get(`/api/sessions/${s.id}`).set(FROM).expect(200);
  });
});
