import type { Logger } from 'pino';
import type { BackupRecord, SessionStore } from '../store/index.js';

export interface BackupJobDeps {
  store: SessionStore;
  keep: number;
  log: Logger;
  now: () => Date;
}

export interface BackupResult {
  written: BackupRecord | null;
  pruned: BackupRecord[];
}

/** The scheduled backup: a copy of the durable state unless nothing changed since the last one, then pruning. */
export function createBackupJob({ store, keep, log, now }: BackupJobDeps): { run(): Promise<BackupResult> } {
  return {
    async run() {
      const written = await store.backup('scheduled', { unlessUnchanged: true, at: now() });
      if (written) log.info({ backup: written.name, bytes: written.bytes, sessions: store.count() }, 'backup written');
      const pruned = await store.pruneBackups(keep);
      if (pruned.length > 0) log.info({ removed: pruned.map((e) => e.name) }, `removed ${pruned.length} old backup(s)`);
      return { written, pruned };
    },
  };
}
