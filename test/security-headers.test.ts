import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp } from './support/app.js';

describe('security headers', () => {
  it('sends a strict Content-Security-Policy without inline script', async (t) => {
    const { app } = await buildApp(t);
    const res = await request(app).get('/healthz');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it('sends Cache-Control: no-store on API answers: created sessions, joins, reads, errors and /healthz', async (t) => {
    const { app } = await buildApp(t);
    const created = await request(app).post('/api/sessions').send({ name: 'Friday' }).expect(201);
    assert.equal(created.headers['cache-control'], 'no-store', 'the answer that carries the host key');
    const id = created.body.session.id as string;
    const joined = await request(app).post(`/api/sessions/${id}/singers`).send({ name: 'Ann' }).expect(201);
    assert.equal(joined.headers['cache-control'], 'no-store', 'the answer that carries the guest key');
    const routes: [string, request.Test][] = [
      ['GET a session', request(app).get(`/api/sessions/${id}`)],
      ['GET a missing session', request(app).get('/api/sessions/NOPE99')],
      ['GET an unknown API path', request(app).get('/api/nothing-here')],
      ['PATCH with a wrong key', request(app).patch(`/api/sessions/${id}`).set(bearer('wrong')).send({ status: 'paused' })],
      ['GET the push key', request(app).get('/api/push/key')],
      ['GET /healthz', request(app).get('/healthz')],
    ];
    for (const [what, pending] of routes) {
      const res = await pending;
      assert.equal(res.headers['cache-control'], 'no-store', `${what} (${res.status})`);
    }
  });
});
