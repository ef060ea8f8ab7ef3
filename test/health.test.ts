import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { buildApp, createSession } from './support/app.js';

describe('GET /healthz', () => {
  it('reports status, data dir, sessions, uptime, version and storage', async (t) => {
    const { app, dataDir } = await buildApp(t);
    await createSession(app);
    const res = await request(app).get('/healthz').expect(200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.dataDir, dataDir);
    assert.equal(res.body.sessions, 1);
    assert.equal(typeof res.body.uptimeSeconds, 'number');
    assert.equal(res.body.version, '1.0.0');
    assert.equal(res.body.storage.writable, true);
    assert.equal(typeof res.body.storage.persistent, 'boolean');
    assert.ok(res.body.storage.freeBytes > 0);
  });
});
