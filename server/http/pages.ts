import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import type { Config } from '../config.js';
import { sha256 } from '../lib/hash.js';
import { normalizeSessionId } from '../model/session.js';
import { publicStateBytes } from '../sessions/view.js';
import type { SessionStore } from '../store/index.js';
import { assetRoutes } from './assets.js';

export interface PagesDeps {
  config: Readonly<Config>;
  store: SessionStore;
  publicDir: string;
  now: () => Date;
}

/** Scripts and stylesheets: what a page waits for, and what /assets/<version>/ serves for a year. */
const ASSET_DIRS = ['js', 'css'] as const;
const YEAR_S = 365 * 24 * 3600;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/**
 * One version for all scripts and stylesheets, from their bytes, read once at start. The modules
 * import each other by relative paths, so a shared prefix versions the whole graph without a build
 * step: any change gives every file a new address (a deploy refetches them all), none keeps them all.
 */
export function assetVersion(publicDir: string): string {
  const parts = ASSET_DIRS.flatMap((dir) => filesUnder(path.join(publicDir, dir))).map(
    (file) => `${path.relative(publicDir, file)}\0${sha256(readFileSync(file), 'hex')}`,
  );
  return sha256(parts.join('\n'), 'hex').slice(0, 12);
}

/**
 * A state inside `<script type="application/json">`: the browser does not run it (the CSP allows it),
 * and JSON.parse reads `\u003c` as `<`, so no name can close the element or open a comment.
 */
export function embedState(json: string): string {
  return `<script type="application/json" id="initial-state">${json.replace(/</g, '\\u003c')}</script>`;
}

/**
 * The page's stylesheets and modules as a Link header: the browser starts fetching them when the
 * headers arrive, before the HTML's body (and the state in it) has.
 */
function preloadHeader(html: string): string {
  const links = [...html.matchAll(/<link rel="(stylesheet|modulepreload)" href="([^"]+)">|<script type="module" src="([^"]+)">/g)].map(
    ([, rel, href, src]) => (src ? `<${src}>; rel=modulepreload` : rel === 'stylesheet' ? `<${href}>; rel=preload; as=style` : `<${href}>; rel=modulepreload`),
  );
  return links.join(', ');
}

/**
 * The pages, their scripts and stylesheets. Each HTML file is read once at start and its `/js/` and
 * `/css/` references pointed at `/assets/<version>/`, which is cached for a year (immutable); the HTML
 * itself is `no-cache`, so a deploy shows at the next load. A session's page carries its first state,
 * so the queue shows before the event stream has opened.
 */
export function pageRoutes({ config, store, publicDir, now }: PagesDeps): Router {
  const version = assetVersion(publicDir);
  const prefix = `/assets/${version}`;
  const html = new Map<string, { text: string; link: string }>();
  const read = (file: string) => {
    let entry = html.get(file);
    if (entry === undefined) {
      const text = readFileSync(path.join(publicDir, file), 'utf8').replace(/(href|src)="\/(js|css)\//g, `$1="${prefix}/$2/`);
      entry = { text, link: preloadHeader(text) };
      html.set(file, entry);
    }
    return entry;
  };
  for (const file of readdirSync(publicDir)) if (file.endsWith('.html')) read(file);

  const send = (res: express.Response, status: number, file: string, extra = '') => {
    const { text, link } = read(file);
    res.status(status).set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', Link: link });
    res.send(extra ? text.replace('</body>', `${extra}\n</body>`) : text);
  };
  const notFound: RequestHandler = (_req, res) => send(res, 404, '404.html');
  const page =
    (file: string): RequestHandler =>
    (req, res) => {
      const id = normalizeSessionId(String(req.params.id));
      const session = id === undefined ? undefined : store.get(id);
      if (!session) return send(res, 404, '404.html');
      send(res, 200, file, embedState(publicStateBytes(session, config.publicUrl, now().getTime()).toString('utf8')));
    };

  const router = Router();
  router.get('/s/:id', page('guest.html'));
  router.get('/host/:id', page('host.html'));
  router.get('/display/:id', page('display.html'));
  router.get('/print/:id', page('print.html'));
  router.get(['/', '/index.html'], (_req, res) => send(res, 200, 'index.html'));
  const assets = ASSET_DIRS.flatMap((dir) => filesUnder(path.join(publicDir, dir))).map((file) => path.relative(publicDir, file));
  router.use(prefix, assetRoutes(publicDir, assets, YEAR_S));
  for (const dir of ASSET_DIRS) {
    // A page from before a deploy asks for the old version: it gets today's files, not kept.
    router.use(`/assets/:version/${dir}`, express.static(path.join(publicDir, dir), { cacheControl: false, index: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  }
  router.use('/assets', notFound);
  return router;
}
