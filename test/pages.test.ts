import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { buildApp, createSession, joinAs } from './support/app.js';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

/** Every module a module imports, directly or not, by file name. */
function importsOf(file: string, seen = new Set<string>()): Set<string> {
  const source = readFileSync(path.join(PUBLIC, 'js', file), 'utf8');
  for (const [, spec] of source.matchAll(/^(?:import|export)[^'"]*from '\.\/([^']+)'/gm)) {
    if (seen.has(spec!)) continue;
    seen.add(spec!);
    importsOf(spec!, seen);
  }
  return seen;
}

describe('serving the pages', () => {
  it('every module a page imports is preloaded in its HTML, and nothing else is', () => {
    for (const page of readdirSync(PUBLIC).filter((f) => f.endsWith('.html'))) {
      const html = readFileSync(path.join(PUBLIC, page), 'utf8');
      const entries = [...html.matchAll(/<script type="module" src="\/js\/([^"]+)">/g)].map((m) => m[1]!);
      const wanted = new Set(entries.flatMap((entry) => [...importsOf(entry)]));
      const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/js\/([^"]+)">/g)].map((m) => m[1]!);
      assert.deepEqual(preloaded.sort(), [...wanted].sort(), `${page}: the modulepreload links`);
    }
  });

  it('a session page waits for at most six scripts and stylesheets before its first paint', () => {
    // A browser opens six connections to one host over HTTP/1.1: a seventh file waits for one of
    // them, a whole round trip more (400 ms on slow 3G). What the first paint does not need is
    // imported after it (test/first-load.test.ts measures the difference).
    for (const page of ['guest.html', 'host.html', 'display.html']) {
      const html = readFileSync(path.join(PUBLIC, page), 'utf8');
      const entries = [...html.matchAll(/<script type="module" src="\/js\/([^"]+)">/g)].map((m) => m[1]!);
      const modules = new Set(entries.flatMap((entry) => [entry, ...importsOf(entry)]));
      const stylesheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].length;
      assert.ok(modules.size + stylesheets <= 6, `${page}: ${stylesheets} stylesheets and ${[...modules].join(', ')}`);
    }
  });

  it('pages are no-cache and point at /assets/<version>/, which is cached for a year; both are compressed', async (t) => {
    const { app } = await buildApp(t);
    const session = await createSession(app);
    const page = await request(app).get(`/s/${session.id}`).set('Accept-Encoding', 'gzip').expect(200);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['content-encoding'], 'gzip');
    const scripts = [...page.text.matchAll(/(?:src|href)="(\/assets\/[0-9a-f]{12}\/(?:js|css)\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(scripts.some((s) => s.endsWith('/js/guest.js')) && scripts.some((s) => s.endsWith('/css/app.css')), scripts.join(' '));
    assert.doesNotMatch(page.text, /(?:src|href)="\/(?:js|css)\//, 'no unversioned script or stylesheet');
    assert.match(String(page.headers.link), /\/js\/guest\.js>; rel=modulepreload/);
    for (const asset of scripts) {
      const res = await request(app).get(asset).set('Accept-Encoding', 'gzip').expect(200);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', asset);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', asset);
      if (Number(res.headers['content-length'] ?? Infinity) > 1024) assert.equal(res.headers['content-encoding'], 'gzip', asset);
    }
    // A page loaded before a deploy asks for an older version: it gets today's file, not cached.
    const old = await request(app).get('/assets/000000000000/js/dom.js').expect(200);
    assert.equal(old.headers['cache-control'], 'no-cache');
    await request(app).get('/assets/000000000000/js/nothing.js').expect(404);
    // The old addresses still answer, for a page someone kept open across the deploy.
    await request(app).get('/js/api.js').expect(200);
  });

  it("a session's page carries its first state, with < escaped so no name can close the script element", async (t) => {
    const { app } = await buildApp(t);
    const session = await createSession(app, '</script><b>x');
    await joinAs(app, session.id, '<!--Maya');
    for (const path of [`/s/${session.id}`, `/host/${session.id}`, `/display/${session.id}`]) {
      const res = await request(app).get(path).expect(200);
      const blocks = [...res.text.matchAll(/<script type="application\/json" id="initial-state">([^<]*)<\/script>/g)];
      assert.equal(blocks.length, 1, path);
      const state = JSON.parse(blocks[0]![1]!);
      assert.equal(state.id, session.id);
      assert.equal(state.name, '</script><b>x');
      assert.equal(state.singerCount, 1);
    }
    await request(app).get('/s/ZZZZZZ').expect(404);
  });

  it('event streams are not compressed: each event leaves when it is written', async (t) => {
    const { app } = await buildApp(t);
    const session = await createSession(app);
    await new Promise<void>((resolve, reject) => {
      const req = request(app)
        .get(`/api/sessions/${session.id}/events`)
        .set('Accept-Encoding', 'gzip')
        .buffer(false)
        .parse((res, done) => {
          assert.equal(res.headers['content-encoding'], undefined);
          res.once('data', () => {
            (res as unknown as { destroy(): void }).destroy();
            done(null, null);
            resolve();
          });
        });
      req.end((err) => (err && err.code !== 'ECONNRESET' ? reject(err) : undefined));
    });
  });
});
