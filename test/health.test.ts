import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession } from './support/app.js';

const ADMIN_TOKEN = 'Rk4mW9qTz2Lx7Hc5Vn8Bd3Jp';

describe('GET /healthz', () => {
  it('shows the public only status, start and uptime', async (t) => {
    const { app } = await buildApp(t, { config: { adminToken: ADMIN_TOKEN } });
    for (const headers of [{}, bearer('not-the-admin-token')]) {
      const res = await request(app).get('/healthz').set(headers).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), ['startedAt', 'status', 'uptimeSeconds']);
      assert.equal(res.body.status, 'ok');
      assert.equal(typeof res.body.uptimeSeconds, 'number');
    }
  });

  it('reports data dir, sessions, version, storage and counters with the admin token', async (t) => {
    const { app, dataDir } = await buildApp(t, { store: 'json', config: { adminToken: ADMIN_TOKEN } });
    await createSession(app);
    const res = await request(app).get('/healthz').set(bearer(ADMIN_TOKEN)).expect(200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.dataDir, dataDir);
    assert.equal(res.body.sessions, 1);
    assert.equal(typeof res.body.uptimeSeconds, 'number');
    assert.equal(res.body.version, '1.0.0');
    assert.equal(res.body.node, process.version);
    assert.equal(res.body.storage.writable, true);
    assert.equal(typeof res.body.storage.persistent, 'boolean');
    assert.ok(res.body.storage.freeBytes > 0);
    assert.equal(res.body.sseConnections, 0);
    assert.equal(typeof res.body.writes.flushes, 'number');
  });

  it('probes the disk at most once per few seconds, and once at a time, however often it is called', async (t) => {
    const { app, dataDir } = await buildApp(t, { store: 'json' });
    await request(app).get('/healthz').expect(200);
    // The folder now refuses writes; a probe per call would see it (503), the cached good probe does not.
    execFileSync('chattr', ['+i', dataDir]);
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => request(app).get('/healthz')));
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
    } finally {
      execFileSync('chattr', ['-i', dataDir]);
    }
  });

  it('is rate-limited like every API route: 429 rate_limited past the limit', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, createPerHour: 30, joinPerMinute: 120, requestPerMinute: 10, apiPerMinute: 3 } } });
    for (let i = 0; i < 3; i += 1) await request(app).get('/healthz').expect(200);
    const limited = await request(app).get('/healthz');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.equal(limited.body.error.message, 'Too many requests. Wait a moment and try again.');
  });
});
