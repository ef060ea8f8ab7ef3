import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { Router, type Response } from 'express';

/** One script or stylesheet, read at start and compressed once, in the background. */
interface Asset {
  type: string;
  identity: Buffer;
  /** Set when its compression is done (or failed: then identity is sent). */
  encoded: Encoded | undefined;
  /** Starts its compression, once: in the queue's turn, or sooner when a request wants the file first. */
  ready: () => Promise<Encoded>;
}

interface Encoded {
  br: Buffer | undefined;
  gzip: Buffer | undefined;
}

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * helmet's headers that only a document reads (its CSP, framing, opener): a script or stylesheet
 * never becomes a document (nosniff stays; HSTS is taken from the page), and on a slow 3G link the
 * 500 bytes per file, times every module, are worth a tenth of a second.
 */
const DOCUMENT_ONLY = [
  'Content-Security-Policy',
  'Cross-Origin-Opener-Policy',
  'Origin-Agent-Cluster',
  'Strict-Transport-Security',
  'X-Frame-Options',
  'X-XSS-Protection',
  'X-Download-Options',
  'X-Permitted-Cross-Domain-Policies',
  'X-DNS-Prefetch-Control',
];
export function trimDocumentHeaders(res: Response): void {
  for (const name of DOCUMENT_ONLY) res.removeHeader(name);
}

/**
 * A script or stylesheet with its whole-line comments blanked: a third of the compressed bytes of
 * these files are their JSDoc and notes, which a phone on slow 3G waits for (a quarter second on the
 * guest page) and never runs. Lines are blanked, not removed, so every line keeps its number and a
 * stack trace points into the file as written; a comment sharing its line with code stays (the
 * `/** @type {X} *\/ (value)` casts), as do `//` lines in stylesheets, where they are not comments.
 * test/assets.test.ts holds every file in public/ to the same program after this.
 */
export function withoutCommentLines(text: string, lineComments: boolean): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.trim();
    if (lineComments && line.startsWith('//')) {
      lines[i] = '';
      continue;
    }
    if (!line.startsWith('/*')) continue;
    let end = i;
    let close = lines[i]!.indexOf('*/', lines[i]!.indexOf('/*') + 2);
    while (close === -1 && end + 1 < lines.length) {
      end += 1;
      close = lines[end]!.indexOf('*/');
    }
    // Unclosed, or code after the block on its last line: left as it is.
    if (close === -1 || lines[end]!.slice(close + 2).trim() !== '') continue;
    for (let k = i; k <= end; k += 1) lines[k] = '';
    i = end;
  }
  return lines.join('\n');
}

/**
 * The versioned scripts and stylesheets, from memory: without their comment lines, compressed once
 * at the highest brotli and gzip levels (a sixth smaller than compressing each response on the fly),
 * and answered with no validators: the address changes when the bytes do, so the browser keeps them
 * for a year and never asks again. The compression (a quarter to a third of a second of CPU for all
 * of them) runs on libuv's threads after the server starts, not in its start: a request that comes
 * first has its own file compressed at once and waits for that one only.
 * @param files paths under `root`, as the URL has them (`js/guest.js`)
 */
export function assetRoutes(root: string, files: readonly string[], maxAgeS: number): Router {
  const assets = new Map<string, Asset>();
  for (const file of files) {
    const type = TYPES[path.extname(file)];
    if (type === undefined) continue;
    const identity = Buffer.from(withoutCommentLines(readFileSync(path.join(root, file), 'utf8'), file.endsWith('.js')));
    let started: Promise<Encoded> | undefined;
    const asset: Asset = {
      type,
      identity,
      encoded: undefined,
      ready: () => (started ??= encode(identity).then((encoded) => (asset.encoded = encoded))),
    };
    assets.set(`/${file.split(path.sep).join('/')}`, asset);
  }
  // One file at a time: libuv's pool has four threads, and the journal's durable writes need them.
  void [...assets.values()].reduce<Promise<unknown>>((queue, asset) => queue.then(asset.ready), Promise.resolve());
  const router = Router();
  router.get('/{*file}', async (req, res, next) => {
    const asset = assets.get(req.path);
    if (asset === undefined) return next();
    // Ours first, not the browser's order (Chromium lists gzip before br): brotli is the smaller.
    const wanted = req.acceptsEncodings('br') ? 'br' : req.acceptsEncodings('gzip') ? 'gzip' : 'identity';
    const compressed = wanted === 'identity' ? undefined : (asset.encoded ?? (await asset.ready()))[wanted];
    const encoding = compressed === undefined ? 'identity' : wanted;
    const body = compressed ?? asset.identity;
    trimDocumentHeaders(res);
    res.set({ 'Content-Type': asset.type, 'Cache-Control': `public, max-age=${maxAgeS}, immutable`, Vary: 'Accept-Encoding' });
    // Already encoded here: the compression middleware leaves a response with an encoding alone.
    if (encoding !== 'identity') res.set('Content-Encoding', encoding);
    res.setHeader('Content-Length', body.length);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return router;
}

/** Both encodings at their highest levels; one that fails is left out, and identity is sent instead. */
async function encode(identity: Buffer): Promise<Encoded> {
  const br = await brotliAsync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }).catch(() => undefined);
  return { br, gzip: await gzipAsync(identity, { level: 9 }).catch(() => undefined) };
}
