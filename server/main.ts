import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createApp } from './app.js';
import { loadConfig, type Config, type DatabaseConfig } from './config.js';
import { StartupError } from './lib/startup-error.js';
import { checkDataDir } from './ops/disk.js';
import { filePushKeys, resolveVapidKeys, settingPushKeys, type PushKeyStore } from './push/keys.js';
import { startMaintenance } from './ops/maintenance.js';
import { buildServices } from './services.js';
import { describePgUrl, openPgStore, openStore, type SessionStore } from './store/index.js';

/** JSON lines in production (for the platform's log search); one readable line each in development. */
function createLogger(config: Readonly<Config>): Logger {
  if (config.production || !process.stdout.isTTY) return pino({ level: config.logLevel });
  return pino({
    level: config.logLevel,
    // "listening http://localhost:3000": the address to open, on the line a newcomer reads.
    transport: {
      target: 'pino-pretty',
      options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', messageFormat: '{msg}{if url} {url}{end}' },
    },
  });
}

function listen(app: ReturnType<typeof createApp>, config: Readonly<Config>): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    // Long-lived SSE streams are fine; slow request headers and bodies are not. Node looks for
    // connections past these timeouts every connectionsCheckingInterval (30 s unless told).
    const server = http.createServer(
      {
        headersTimeout: config.headersTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        connectionsCheckingInterval: Math.min(5000, config.headersTimeoutMs / 2),
      },
      app,
    );
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  }).catch((err: NodeJS.ErrnoException) => {
    const where = `${config.host}:${config.port}`;
    if (err.code === 'EADDRINUSE') {
      throw new StartupError(`port ${config.port} is already in use (${where}): stop the other server, or start this one with PORT=<another port>.`);
    }
    throw new StartupError(`cannot listen on ${where}: ${err.code ?? err.message}`);
  });
}

interface OpenedData {
  store: SessionStore;
  /** Why the server runs degraded from the start (a damaged journal), or null. */
  degraded: string | null;
  pushKeys: PushKeyStore;
}

/** The JSON store under DATA_DIR: checked to be on a volume, locked, replayed. */
async function openDataDir(config: Readonly<Config>, log: Logger): Promise<OpenedData> {
  const { persistent } = await checkDataDir(config.dataDir);
  log.info(
    { store: 'json', dataDir: config.dataDir, persistent },
    persistent
      ? `data lives in ${config.dataDir}, on a mounted volume (a different filesystem from the root)`
      : `data lives in ${config.dataDir}, on the root filesystem, not a mounted volume`,
  );
  if (config.production && !persistent) {
    if (!config.allowEphemeralData) {
      throw new StartupError(
        `DATA_DIR ${config.dataDir} is on the container's own filesystem, not a mounted volume: everything would be ` +
          'lost at the next restart or deploy. Mount a persistent volume there (fly.toml [[mounts]] destination = "/data"), ' +
          'or set ALLOW_EPHEMERAL_DATA=1 if losing the data is really fine.',
      );
    }
    log.warn('ALLOW_EPHEMERAL_DATA=1: data will be lost when this container is replaced');
  }

  const opened = await openStore({
    dataDir: config.dataDir,
    lockHeartbeatMs: config.lockHeartbeatMs,
    // This process stood still past the stale window and another server took DATA_DIR over: every
    // acknowledged change is already in the journal, and writing on would overwrite the other's.
    onLockLost: (holder) => {
      log.fatal({ holder }, `another server took over ${config.dataDir} while this one was not running; exiting without writing`);
      log.flush(() => process.exit(1));
    },
  });
  if (opened.removedTempFiles.length > 0) {
    log.info({ files: opened.removedTempFiles }, 'removed temp files left by an interrupted write');
  }
  const { damaged } = opened.replayed;
  // A whole journal line that fails its checksum is damage to an acknowledged change, not a torn
  // append: the start goes on with everything before it, says so loudly and keeps the journal.
  const degraded = damaged
    ? `data.journal was damaged at byte ${damaged.offset} (${damaged.bytes} bytes not replayed); a copy is in ${damaged.copy}. See docs/operations.md, "A damaged journal".`
    : null;
  if (degraded) log.error({ damaged }, degraded);
  if (opened.replayed.records > 0 || opened.replayed.tornBytes > 0) {
    log.info(opened.replayed, 'replayed the journal left by an unclean stop into data.json');
  }
  if (opened.migratedFrom !== null) log.info({ from: opened.migratedFrom }, 'migrated data.json to the current schema');
  return { store: opened.store, degraded, pushKeys: filePushKeys(config.dataDir) };
}

/** The PostgreSQL store: migrated (one instance at a time) and listening before the server takes traffic. */
async function openDatabase(database: DatabaseConfig, log: Logger): Promise<OpenedData> {
  const where = describePgUrl(database.url);
  const store = await openPgStore({
    connectionString: database.url,
    poolMax: database.poolMax,
    connectTimeoutMs: database.connectTimeoutMs,
    statementTimeoutMs: database.statementTimeoutMs,
    onError: (err, what) => log.warn({ err }, what),
  }).catch((err: unknown) => {
    throw new StartupError(`cannot open the PostgreSQL store at ${where}: ${(err as Error).message}`);
  });
  log.info({ store: 'postgres', database: where, sessions: store.count(), poolMax: database.poolMax }, `data lives in PostgreSQL at ${where}`);
  return { store, degraded: null, pushKeys: settingPushKeys(store) };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config);
  const { store, degraded, pushKeys } = config.database ? await openDatabase(config.database, log) : await openDataDir(config, log);

  const now = () => new Date();
  const vapid = await resolveVapidKeys(config.push, pushKeys).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const keptIn = config.database ? 'the database' : config.dataDir;
  if (config.push.subject === undefined) {
    log.info('push notifications are off: set VAPID_SUBJECT to a mailto: address or an https: URL of yours (or PUBLIC_URL to an https origin)');
  } else {
    log.info({ keys: vapid.source, subject: config.push.subject }, `push notifications on (VAPID keys ${vapid.source === 'environment' ? 'from the environment' : vapid.source === 'stored' ? `kept in ${keptIn}` : `generated and kept in ${keptIn}`})`);
  }
  if (config.push.allowLocalEndpoints) log.warn('PUSH_ALLOW_LOCAL_ENDPOINTS=1: push endpoints on loopback addresses are accepted (tests and development only)');
  const { hub, qr, changes, songbooks, songbookWorker, push } = buildServices({ config, store, log, now, vapidKeys: vapid.keys });
  await qr.prepare();
  const staleQr = await qr.keepFor();
  if (staleQr > 0) log.info({ removed: staleQr, publicUrl: config.publicUrl ?? null }, 'PUBLIC_URL changed: QR codes will be rebuilt with it');

  const app = createApp({ config, store, hub, qr, changes, songbooks, songbookWorker, push, log, now, degraded });
  const maintenance = startMaintenance({ config, store, changes, qr, log, now });
  const server = await listen(app, config).catch(async (err: unknown) => {
    await maintenance.stop();
    await store.close();
    throw err;
  });
  // Below Fly's hard_limit (fly.toml): past it Node closes new connections at once instead of the
  // machine running out of memory or file descriptors; Fly's proxy retries them elsewhere or later.
  if (config.rateLimits.enabled && config.maxConnections > 0) {
    server.maxConnections = config.maxConnections;
    let lastWarned = 0;
    server.on('drop', () => {
      if (Date.now() - lastWarned < 60_000) return;
      lastWarned = Date.now();
      log.warn({ maxConnections: config.maxConnections }, 'refusing new connections: MAX_CONNECTIONS are open');
    });
  }
  // The bound port, not the configured one: PORT=0 picks a free port.
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  log.info({ port, host: config.host, url: `http://${shownHost}:${port}`, sessions: store.count() }, 'listening');

  let stopping = false;
  // A busy room keeps its keep-alive connections busy, so server.close() alone would wait until
  // the kill timeout: once stopping, every response closes its connection.
  server.prependListener('request', (_req, res) => {
    if (stopping) res.setHeader('Connection', 'close');
    res.once('finish', () => {
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: closing streams and flushing writes');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    const maintenanceStopped = maintenance.stop();
    const closed = new Promise((resolve) => server.close(resolve));
    hub.close();
    const workerClosed = songbookWorker.close();
    server.closeIdleConnections();
    await closed;
    await maintenanceStopped;
    await workerClosed;
    // Sends under way end within their deadline; one that ends in a removal commits before the store closes.
    await push.close();
    await store.close();
    clearTimeout(force);
    log.info({ writes: store.stats() }, 'stopped cleanly');
    // Let a log transport (development's pretty printer) write its last lines.
    log.flush(() => process.exit(0));
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) console.error(`karaoke: cannot start: ${err.message}`);
  else console.error('karaoke: cannot start:', err);
  process.exit(1);
});
