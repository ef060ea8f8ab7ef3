import type { Logger } from 'pino';
import type { Config } from './config.js';
import { EventHub } from './events.js';
import type { VapidKeys } from './push/keys.js';
import { PushSender } from './push/sender.js';
import { MemoryQrCodes, QrCodes } from './qr.js';
import { SessionChanges } from './sessions/changes.js';
import { SongbookCache } from './songbook/cache.js';
import { SongbookWorker } from './songbook/worker-client.js';
import type { SessionStore } from './store/index.js';

export interface Services {
  hub: EventHub;
  qr: QrCodes;
  changes: SessionChanges;
  songbooks: SongbookCache;
  /** Reads uploads and builds indexes off the main thread; close() it at shutdown. */
  songbookWorker: SongbookWorker;
  push: PushSender;
}

/** The long-lived parts around a store, built once: by main for the server, by tests for each app. */
export function buildServices({
  config,
  store,
  log,
  now,
  vapidKeys,
}: {
  config: Readonly<Config>;
  store: SessionStore;
  log: Logger;
  now: () => Date;
  /** Without keys, or without a VAPID subject in the config, push is off. */
  vapidKeys?: VapidKeys | undefined;
}): Services {
  const hub = new EventHub({
    heartbeatMs: config.sseHeartbeatMs,
    maxBufferBytes: config.sseMaxBufferBytes,
    log,
    caps: config.rateLimits.enabled ? config.streams : undefined,
    maxLifetimeMs: config.streams.maxLifetimeMs,
  });
  // A shared database has no DATA_DIR: the PNGs are rendered on demand and kept in memory.
  const qr = store.kind === 'postgres' ? new MemoryQrCodes(config.publicUrl) : new QrCodes(config.dataDir, config.publicUrl);
  const songbookWorker = new SongbookWorker();
  const songbooks = new SongbookCache({
    budgetBytes: config.songbookMemoryBytes,
    // The file's bytes go to the worker as they are: decoding 100,000 songs is main-thread work too.
    load: async (id) => {
      const encoded = await store.songbooks.getEncoded(id);
      return encoded === undefined ? undefined : songbookWorker.index(encoded);
    },
  });
  const subject = config.push.subject;
  const push = new PushSender({
    vapid: vapidKeys && subject !== undefined ? { keys: vapidKeys, subject } : undefined,
    policy: { allowLoopback: config.push.allowLocalEndpoints },
    publicUrl: config.publicUrl,
    log,
    // The change owner is made next; a dead subscription is forgotten through its commit.
    gone: (sessionId, singerId, endpoint) => changes.pushGone(sessionId, singerId, endpoint),
  });
  const changes: SessionChanges = new SessionChanges({ store, hub, qr, songbooks, push, publicUrl: config.publicUrl, log, now });
  return { hub, qr, changes, songbooks, songbookWorker, push };
}
