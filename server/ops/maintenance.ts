import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { QrCodes } from '../qr.js';
import type { SessionChanges } from '../sessions/changes.js';
import type { SessionStore } from '../store/index.js';
import { storageInfo } from './disk.js';
import { runHousekeeping } from './housekeeping.js';
import { createBackupJob } from './scheduled-backups.js';

export interface MaintenanceDeps {
  config: Readonly<Config>;
  store: SessionStore;
  changes: SessionChanges;
  qr: QrCodes;
  log: Logger;
  now?: () => Date;
}

export interface Maintenance {
  /** Cancel the schedule; resolves when a job that is running has finished. */
  stop(): Promise<void>;
  /** Resolves when no job is running or queued. */
  idle(): Promise<void>;
}

export const HOUSEKEEPING_INTERVAL_MS = 60 * 60_000;

/**
 * Scheduled jobs beside the server: a backup, then housekeeping, at start and on their intervals.
 * Backup first, so whatever housekeeping removes is still in the newest backup.
 */
export function startMaintenance({ config, store, changes, qr, log, now = () => new Date() }: MaintenanceDeps): Maintenance {
  const backups = createBackupJob({ store, keep: config.backupKeep, log, now });
  let stopped = false;
  // Jobs run one after another, never overlapping.
  let chain: Promise<void> = Promise.resolve();

  const enqueue = (name: string, job: () => Promise<unknown>) => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await job();
      } catch (err) {
        log.error({ err, job: name }, `${name} failed; will retry at the next run`);
      }
    });
  };
  const backup = () => enqueue('backup', () => backups.run());
  const housekeeping = () => {
    enqueue('housekeeping', () => runHousekeeping({ store, changes, qr, ttlDays: config.sessionTtlDays, nightIdleHours: config.nightIdleHours, nightsKeep: config.nightsKeep, log, now }));
    // A volume that fills up stops every write: say so while there is still time to extend it.
    if (store.kind === 'json') enqueue('storage check', async () => {
      const { warning, freeBytes } = await storageInfo(config.dataDir);
      if (warning) log.warn({ dataDir: config.dataDir, freeBytes }, warning);
    });
  };

  const timers: NodeJS.Timeout[] = [];
  if (config.backupIntervalMs > 0) {
    backup();
    timers.push(setInterval(backup, config.backupIntervalMs).unref());
  } else {
    log.warn('scheduled backups are off (BACKUP_INTERVAL_MINUTES=0)');
  }
  housekeeping();
  timers.push(setInterval(housekeeping, HOUSEKEEPING_INTERVAL_MS).unref());

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await chain;
    },
    async idle() {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
  };
}
