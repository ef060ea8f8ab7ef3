import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { newestBackupBytes, pruneBackups, writeBackup, type BackupEntry } from '../store/backups.js';
import type { SessionStore } from '../store/store.js';

export interface BackupJobDeps {
  store: SessionStore;
  keep: number;
  log: Logger;
  now: () => Date;
}

export interface BackupResult {
  written: BackupEntry | null;
  pruned: BackupEntry[];
}

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Scheduled snapshots of the durable state. A snapshot identical to the newest backup is not
 * written again: a quiet week must not push the last real change out of the kept window.
 */
export function createBackupJob({ store, keep, log, now }: BackupJobDeps): { run(): Promise<BackupResult> } {
  let lastDigest: string | undefined;
  return {
    async run() {
      if (lastDigest === undefined) {
        const newest = await newestBackupBytes(store.dataDir);
        if (newest !== undefined) lastDigest = digest(newest);
      }
      // The committed view only: a snapshot never holds a change that was not acknowledged.
      const bytes = store.snapshot();
      const hash = digest(bytes);
      let written: BackupEntry | null = null;
      // A brand-new, empty DATA_DIR has nothing worth a backup yet.
      const nothingYet = lastDigest === undefined && store.count() === 0;
      if (hash !== lastDigest && !nothingYet) {
        written = await writeBackup(store.dataDir, bytes, 'scheduled', now());
        lastDigest = hash;
        log.info({ backup: written.name, bytes: written.bytes, sessions: store.count() }, 'backup written');
      }
      const pruned = await pruneBackups(store.dataDir, keep);
      if (pruned.length > 0) log.info({ removed: pruned.map((e) => e.name) }, `removed ${pruned.length} old backup(s)`);
      return { written, pruned };
    },
  };
}
