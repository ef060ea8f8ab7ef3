import { constants, promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { startMaintenance } from './ops/maintenance.js';
import { UnreadableDataError } from './store/durable-file.js';
import { LockHeldError } from './store/lock.js';
import { isSeparateFilesystem } from './store/storage.js';
import { openStore } from './store/store.js';

/** Start-up problems an operator must fix: one plain line on stderr, no stack trace. */
class StartupError extends Error {}

function fail(message: string): never {
  console.error(`karaoke: cannot start: ${message}`);
  process.exit(1);
}

async function checkDataDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, constants.W_OK);
  } catch (err) {
    const stat = await fs.stat(dir).catch(() => undefined);
    const who = `uid ${process.getuid?.() ?? '?'}`;
    const detail = stat ? `owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}` : (err as Error).message;
    throw new StartupError(
      `DATA_DIR ${dir} is not writable by this process (${who}; ${detail}). ` +
        `Make it writable, e.g. \`chown -R ${process.getuid?.() ?? 1000}:${process.getgid?.() ?? 1000} ${dir}\`.`,
    );
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = pino({ level: config.logLevel });
  await checkDataDir(config.dataDir);

  const persistent = await isSeparateFilesystem(config.dataDir);
  log.info(
    { dataDir: config.dataDir, persistent },
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

  const opened = await openStore({ dataDir: config.dataDir });
  const { store } = opened;
  if (opened.removedTempFiles.length > 0) {
    log.info({ files: opened.removedTempFiles }, 'removed temp files left by an interrupted write');
  }
  if (opened.replayed.records > 0 || opened.replayed.tornBytes > 0) {
    log.info(opened.replayed, 'replayed the journal left by an unclean stop into data.json');
  }
  const staleQr = await store.qr.keepFor(config.publicUrl);
  if (staleQr > 0) log.info({ removed: staleQr, publicUrl: config.publicUrl ?? null }, 'PUBLIC_URL changed: QR codes will be rebuilt with it');
  if (opened.migratedFrom !== null) log.info({ from: opened.migratedFrom }, 'migrated data.json to the current schema');

  const { app, hub } = createApp({ config, store, log });
  const maintenance = startMaintenance({ config, store, log, hub });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch(async (err: NodeJS.ErrnoException) => {
    await store.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`);
  });
  // Long-lived SSE streams are fine; slow request headers are not.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // The bound port, not the configured one: PORT=0 picks a free port.
  const { port } = server.address() as AddressInfo;
  log.info({ port, host: config.host, sessions: store.count() }, 'listening');

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
    server.closeIdleConnections();
    await closed;
    await maintenanceStopped;
    await store.close();
    clearTimeout(force);
    log.info({ writes: store.stats() }, 'stopped cleanly');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError || err instanceof UnreadableDataError || err instanceof LockHeldError) {
    fail(err.message);
  }
  console.error('karaoke: cannot start:', err);
  process.exit(1);
});
