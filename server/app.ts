import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config } from './config.js';
import { Errors, errorHandler } from './errors.js';
import { EventHub } from './events.js';
import { QrCodes } from './qr.js';
import { createLimiters } from './rate-limits.js';
import { normalizeSessionId } from './sessions/model.js';
import { sessionRoutes } from './sessions/routes.js';
import type { SessionStore } from './store/store.js';

export interface AppDeps {
  config: Readonly<Config>;
  store: SessionStore;
  log?: Logger;
  now?: () => Date;
  publicDir?: string;
}

export interface App {
  app: Express;
  hub: EventHub;
  qr: QrCodes;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function createApp({ config, store, log = pino({ level: 'silent' }), now = () => new Date(), publicDir = path.join(ROOT, 'public') }: AppDeps): App {
  const app = express();
  const hub = new EventHub({ heartbeatMs: config.sseHeartbeatMs, maxBufferBytes: config.sseMaxBufferBytes, log });
  const qr = new QrCodes(store, config.publicUrl);
  const limits = createLimiters(config.rateLimits);
  const version = packageVersion();
  const startedAt = Date.now();

  app.set('trust proxy', config.trustProxy);
  app.set('x-powered-by', false);
  app.use(
    pinoHttp({
      logger: log,
      quietReqLogger: true,
      // Only method, path and status: headers carry keys and are never logged.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' },
    }),
  );
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
          'frame-ancestors': ["'none'"],
          // Guests often reach a bar's server over plain http on the local network.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );

  app.get('/healthz', async (_req, res) => {
    const storage = await store.storage();
    res.status(storage.writable ? 200 : 503).json({
      status: storage.writable ? 'ok' : 'unavailable',
      dataDir: store.dataDir,
      sessions: store.count(),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      version,
      node: process.version,
      storage,
      sseConnections: hub.connections,
      writes: store.stats(),
    });
  });

  app.use('/api', limits.api, express.json({ limit: config.bodyLimitBytes, strict: true }));
  app.use(sessionRoutes({ config, store, hub, qr, limits, now }));
  app.use('/api', () => {
    throw Errors.routeNotFound();
  });
  app.use(qr.router());

  const page = (file: string): express.RequestHandler => (req, res) => {
    const id = normalizeSessionId(String(req.params.id));
    const found = id !== undefined && store.get(id) !== undefined;
    res.status(found ? 200 : 404).sendFile(path.join(publicDir, found ? file : '404.html'));
  };
  app.get('/s/:id', page('guest.html'));
  app.get('/host/:id', page('host.html'));
  app.get('/display/:id', page('display.html'));
  app.use(express.static(publicDir, { index: 'index.html', extensions: ['html'] }));
  app.use((_req, res, next) => {
    res.status(404).sendFile(path.join(publicDir, '404.html'), (err) => {
      if (err) next(Errors.routeNotFound());
    });
  });
  app.use(errorHandler(log));
  return { app, hub, qr };
}
