import type { Logger } from 'pino';
import type { Config } from './config.js';
import { EventHub } from './events.js';
import { QrCodes } from './qr.js';
import { SessionChanges } from './sessions/changes.js';
import { SongbookCache } from './songbook/cache.js';
import type { SessionStore } from './store/index.js';

export interface Services {
  hub: EventHub;
  qr: QrCodes;
  changes: SessionChanges;
  songbooks: SongbookCache;
}

/** The long-lived parts around a store, built once: by main for the server, by tests for each app. */
export function buildServices({ config, store, log, now }: { config: Readonly<Config>; store: SessionStore; log: Logger; now: () => Date }): Services {
  const hub = new EventHub({ heartbeatMs: config.sseHeartbeatMs, maxBufferBytes: config.sseMaxBufferBytes, log });
  const qr = new QrCodes(config.dataDir, config.publicUrl);
  const songbooks = new SongbookCache({
    budgetBytes: config.songbookMemoryBytes,
    load: async (id) => (await store.songbooks.get(id))?.songs,
  });
  const changes = new SessionChanges({ store, hub, qr, songbooks, publicUrl: config.publicUrl, log, now });
  return { hub, qr, changes, songbooks };
}
