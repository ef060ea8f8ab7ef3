import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { buildApp, createSession } from './support/app.js';
import { decodeQr } from './support/qr-decode.js';

const pngBody = (res: request.Response) => res.body as Buffer;

describe('GET /qr-codes/:id.png', () => {
  it('serves a PNG that decodes back to the join URL, with a cache header', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const res = await request(app).get(`/qr-codes/${s.id}.png`).buffer(true).expect(200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.match(String(res.headers['cache-control']), /max-age=\d+/);
    assert.equal(decodeQr(pngBody(res)), s.joinUrl);
  });

  it('regenerates a missing PNG for a live session, byte for byte', async (t) => {
    const { app, dataDir } = await buildApp(t, { store: 'json' });
    const s = await createSession(app);
    const file = path.join(dataDir, 'qr-codes', `${s.id}.png`);
    const original = await readFile(file);
    await rm(file);
    const res = await request(app).get(`/qr-codes/${s.id.toLowerCase()}.png`).buffer(true).expect(200);
    assert.deepEqual(pngBody(res), original);
    assert.deepEqual(await readFile(file), original, 'the cache file is back on disk');
  });

  it('answers 404 for unknown sessions and never reaches outside the folder', async (t) => {
    const { app } = await buildApp(t);
    await createSession(app);
    for (const p of ['/qr-codes/ZZZZZZ.png', '/qr-codes/..%2f..%2fdata.json', '/qr-codes/%2e%2e/data.json', '/qr-codes/../data.json', '/qr-codes/x.png.png']) {
      const res = await request(app).get(p);
      assert.equal(res.status, 404, p);
      assert.ok(!String(res.text).includes('"sessions"'), `${p} must not leak data.json`);
    }
  });
});
