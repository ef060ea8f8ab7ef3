import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { buildApp } from './support/app.js';

describe('security headers', () => {
  it('sends a strict Content-Security-Policy without inline script', async (t) => {
    const { app } = await buildApp(t);
    const res = await request(app).get('/healthz');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });
});
