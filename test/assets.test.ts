// The scripts and stylesheets as the browser gets them: without their comment lines, precompressed,
// and still the same program as the files in public/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import request from 'supertest';
import ts from 'typescript';
import express from 'express';
import { assetRoutes, withoutCommentLines } from '../server/http/assets.js';
import { buildApp, listen } from './support/app.js';

const PUBLIC = path.resolve(import.meta.dirname, '../../public');
function files(dir: string, ext: string): string[] {
  const found = readdirSync(path.join(PUBLIC, dir)).filter((f) => f.endsWith(ext));
  assert.ok(found.length >= 4, `public/${dir} has its files`);
  return found.map((f) => path.join(dir, f));
}

/** The program a module is, with every comment and blank line gone: what the parser sees. */
function program(name: string, text: string): string {
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  assert.deepEqual((file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics, [], `${name} parses`);
  return ts.createPrinter({ removeComments: true }).printFile(file);
}

/** A stylesheet with its comments and blank lines gone. */
const rules = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');

describe('scripts and stylesheets as served', () => {
  it('every script is the same program without its comment lines, line for line', () => {
    for (const file of files('js', '.js')) {
      const text = readFileSync(path.join(PUBLIC, file), 'utf8');
      const lean = withoutCommentLines(text, true);
      assert.equal(lean.split('\n').length, text.split('\n').length, `${file} keeps its line numbers`);
      assert.equal(program(file, lean), program(file, text), file);
      assert.ok(lean.length < text.length, `${file} lost its comments`);
    }
  });

  it('every stylesheet keeps its rules without its comment lines', () => {
    for (const file of files('css', '.css')) {
      const text = readFileSync(path.join(PUBLIC, file), 'utf8');
      const lean = withoutCommentLines(text, false);
      assert.equal(lean.split('\n').length, text.split('\n').length, file);
      assert.equal(rules(lean), rules(text), file);
    }
  });

  it('leaves a comment that shares its line with code, and an unclosed one', () => {
    const text = ['const a = /** @type {number} */ (b);', '/** note */ const c = 1;', '  // gone', '/* a', ' * block */', '/* open', 'x'].join('\n');
    assert.equal(withoutCommentLines(text, true), ['const a = /** @type {number} */ (b);', '/** note */ const c = 1;', '', '', '', '/* open', 'x'].join('\n'));
  });

  it('GET /assets/<version>/… answers the lean file in brotli, gzip or as it is, with no validators', async (t) => {
    const testApp = await buildApp(t);
    const { url } = await listen(t, testApp);
    const page = await request(testApp.app).get('/').expect(200);
    const src = /src="(\/assets\/[0-9a-f]+\/js\/landing\.js)"/.exec(page.text)?.[1];
    assert.ok(src, 'the landing page names its versioned module');
    const lean = withoutCommentLines(readFileSync(path.join(PUBLIC, 'js/landing.js'), 'utf8'), true);
    /** The bytes as sent, not decoded (fetch and supertest would decode them). */
    const raw = (acceptEncoding: string) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        get(`${url}${src}`, { headers: { 'Accept-Encoding': acceptEncoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const br = await raw('gzip, deflate, br, zstd');
    assert.equal(br.headers['content-encoding'], 'br', 'brotli, though the browser lists gzip first');
    assert.equal(brotliDecompressSync(br.body).toString('utf8'), lean);
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers.etag, undefined);
    assert.equal(br.headers['last-modified'], undefined);
    assert.equal(br.headers['content-security-policy'], undefined, 'a document header on a script');
    assert.equal(br.headers['x-content-type-options'], 'nosniff');
    const gz = await raw('gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString('utf8'), lean);
    const plain = await raw('identity');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString('utf8'), lean);
    assert.match(String(plain.headers['content-type']), /^text\/javascript/);
  });

  it('answers every file compressed even when asked before its compression is done', async (t) => {
    // Compressed one after another in the background after start: the requests sent at once, right
    // after the routes are made, find most files still waiting, and each waits for its own.
    const files = ['js', 'css'].flatMap((dir) => readdirSync(path.join(PUBLIC, dir)).map((f) => `${dir}/${f}`));
    const app = express().use(assetRoutes(PUBLIC, files, 60));
    const server = createServer(app).listen(0, '127.0.0.1');
    t.after(() => server.close());
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const answers = await Promise.all(
      files.map(
        (file) =>
          new Promise<{ file: string; encoding: string | undefined; body: Buffer }>((resolve, reject) => {
            get(`http://127.0.0.1:${port}/${file}`, { headers: { 'Accept-Encoding': 'br' } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ file, encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
            }).on('error', reject);
          }),
      ),
    );
    assert.ok(files.length > 10);
    for (const { file, encoding, body } of answers) {
      assert.equal(encoding, 'br', file);
      assert.equal(brotliDecompressSync(body).toString('utf8'), withoutCommentLines(readFileSync(path.join(PUBLIC, file), 'utf8'), file.endsWith('.js')), file);
    }
  });
});
