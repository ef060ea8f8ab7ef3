import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import compression from 'compression';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Errors, errorHandler } from './errors.js';
import type { EventHub } from './events.js';
import { adminRoutes } from './http/admin.js';
import { adminCheck } from './http/bearer.js';
import { healthRoutes, type StoreHealth } from './http/health.js';
import { historyRoutes } from './http/history.js';
import { createLimiters } from './http/rate-limits.js';
import { nightRoutes } from './http/nights.js';
import { pageRoutes } from './http/pages.js';
import { pushRoutes } from './http/push.js';
import { sessionRoutes } from './http/sessions.js';
import { songbookRoutes } from './http/songbook.js';
import { turnRoutes } from './http/turns.js';
import type { PushSender } from './push/sender.js';
import type { QrCodes } from './qr.js';
import type { SessionChanges } from './sessions/changes.js';
import type { SongbookCache } from './songbook/cache.js';
import type { SongbookWorker } from './songbook/worker-client.js';
import { storageInfo } from './ops/disk.js';
import { isPgStore, type SessionStore } from './store/index.js';

export interface AppDeps {
  config: Readonly<Config>;
  store: SessionStore;
  hub: EventHub;
  qr: QrCodes;
  changes: SessionChanges;
  songbooks: SongbookCache;
  songbookWorker: SongbookWorker;
  push: PushSender;
  log: Logger;
  now: () => Date;
  publicDir?: string;
  /** Why this server runs degraded (a damaged journal found at start); /healthz says so. */
  degraded?: string | null;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * One line per request: method, path, status and time, never headers (they carry keys); info,
 * warn for 4xx, error for 5xx, but warn for a 503 with Retry-After: that is the server shedding
 * load on purpose (streams full, a busy room), which an operator watches, not a fault.
 * What pino-http did, minus its child logger per request, which cost a fifth of a plain read's
 * throughput even when the level dropped the line.
 */
function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    if (req.url === '/healthz') return next();
    const start = performance.now();
    // One listener: 'close' follows 'finish', and alone it means the client left first (an
    // event stream, or a response cut short). Event streams live for hours, so it stays small.
    res.once('close', () => {
      const shed = res.statusCode === 503 && res.hasHeader('Retry-After');
      const level = res.statusCode >= 500 && !shed ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const responseTime = Math.round(performance.now() - start);
      const msg = res.writableFinished ? 'request completed' : 'request aborted';
      log[level]({ req: { method: req.method, url: req.originalUrl }, res: { statusCode: res.statusCode }, responseTime }, msg);
    });
    next();
  };
}

/** The Express app: middleware, routes, pages, 404 and the error handler. Builds no service of its own. */
/** Health's write probe: an fsynced file under DATA_DIR for the JSON store, a row for PostgreSQL. */
function storeProbe(config: Readonly<Config>, store: SessionStore): () => Promise<StoreHealth> {
  if (isPgStore(store)) return async () => ({ ...(await store.probe()), listening: store.listening });
  return async () => ({ ...(await storageInfo(config.dataDir)) });
}

/** Why this instance runs degraded: the start's finding, or a shared database it no longer hears from. */
function degradedReason(store: SessionStore, atStart: string | null): string | null {
  if (atStart !== null) return atStart;
  if (isPgStore(store) && !store.listening) {
    return "the database's listening connection is down: changes made through other instances reach this one's streams once it is back";
  }
  return null;
}

export function createApp({ config, store, hub, qr, changes, songbooks, songbookWorker, push, log, now, publicDir = path.join(ROOT, 'public'), degraded = null }: AppDeps): Express {
  const app = express();
  const limits = createLimiters(config.rateLimits, { find: (id) => store.latest(id) ?? store.get(id), clientIpHeader: config.clientIpHeader });

  app.set('trust proxy', config.trustProxy);
  app.set('x-powered-by', false);
  app.use(requestLog(log));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'manifest-src': ["'self'"],
          // public/sw.js shows the push notifications.
          'worker-src': ["'self'"],
          'frame-ancestors': ["'none'"],
          // Guests often reach a bar's server over plain http on the local network.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );

  // Answers carry host and guest keys (a new session, a join): no browser or proxy cache may keep them.
  app.use(['/api', '/healthz'], (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(healthRoutes({ probe: storeProbe(config, store), where: isPgStore(store) ? { database: store.describe() } : { dataDir: config.dataDir }, store, hub, root: ROOT, limit: limits.api, isAdmin: adminCheck(config.adminToken), degraded: () => degradedReason(store, degraded) }));
  // Before the API's small body limit: an import carries the whole store.
  app.use(adminRoutes({ config, store, changes, limit: limits.api, now, log }));
  app.use('/api', limits.api, express.json({ limit: config.bodyLimitBytes, strict: true }));
  // Every place a session code is looked up: unknown codes count, so the pages are no lookup oracle.
  app.use(['/api/sessions/:id', '/s/:id', '/host/:id', '/display/:id', '/print/:id', '/qr-codes/:file'], limits.misses);
  app.use(sessionRoutes({ config, store, hub, changes, songbooks, limits, now }));
  app.use(songbookRoutes({ config, store, changes, songbooks, songbookWorker, now }));
  app.use(nightRoutes({ config, store, changes, now }));
  app.use(historyRoutes({ store }));
  app.use(turnRoutes({ store, changes, limits: config.limits, now }));
  app.use(pushRoutes({ store, changes, push, allowLoopback: config.push.allowLocalEndpoints, perSinger: config.limits.pushPerSinger, now }));
  app.use('/api', () => {
    throw Errors.routeNotFound();
  });
  app.use(qr.router((id) => store.get(id)));

  // Pages, scripts and stylesheets shrink to a third or less. Only here, after the API: the
  // compression middleware wraps every response it sees, and on the API's reads (cached bytes,
  // sent often) that cost about a quarter of their throughput; event streams are never compressed,
  // since compression would hold each event back until its buffer filled. Brotli at 6 rather than
  // the package's 4: a tenth fewer bytes on a page for well under a millisecond (11 costs 20 ms);
  // scripts and stylesheets come compressed already, at 11 (http/assets.ts).
  app.use(compression({ brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 6 } } }));
  app.use(pageRoutes({ config, store, publicDir, now }));
  app.use(express.static(publicDir, { index: 'index.html', extensions: ['html'] }));
  app.use((_req, res, next) => {
    res.status(404).sendFile(path.join(publicDir, '404.html'), (err) => {
      if (err) next(Errors.routeNotFound());
    });
  });
  app.use(errorHandler(log));
  return app;
}
