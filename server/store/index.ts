/**
 * The store's one door: everything outside server/store/ imports from here. The interface is
 * SessionStore; openStore gives the JSON implementation under DATA_DIR.
 */
import type { PgSessionStore, PgStoreOptions } from './pg-store.js';
import type { SessionStore } from './store.js';

export type { BackupReason, BackupRecord, ExternalChange, NightArchive, ReplaceSummary, SessionStore, SongbookStore, StoreProbe, StoreStats } from './store.js';
export type { PgSessionStore, PgStoreOptions } from './pg-store.js';
export { describePgUrl } from './pg-url.js';
export { PG_MIGRATIONS } from './pg-schema.js';
export { NIGHTS_DIR, SONGBOOK_DIR } from './side-files.js';
export { openStore, readStoredData, LOCK_FILE, type OpenedStore, type OpenStoreOptions } from './open.js';
export { LockHeldError, StoreClosedError, StoreConflictError, StoreUnavailableError, UnreadableDataError } from './errors.js';
export { SCHEMA_VERSION, parseData, type DbData } from './data-file.js';
export { migrations, type Migration } from './migrations.js';
export { serializeData } from './serialize.js';
export { InvalidExportError, parseExport } from './export-format.js';
export { backupDir, backupSongbooks, listBackups, isPreMigration, BACKUP_DIR, type BackupEntry } from './backup-files.js';
export { findBackup, restoreBackup, BackupNotFoundError, type RestoreResult } from './offline-restore.js';
export { DATA_FILE, CHECKPOINT_MIN_BYTES } from './journaled-file.js';
export { JOURNAL_FILE } from './journal.js';
export { acquireLock, type LockInfo } from './lock.js';

/**
 * The PostgreSQL store, migrated and listening. Loaded only here, when asked for: a server on the
 * JSON store never loads the driver (some 15 ms of its start here).
 */
export async function openPgStore(options: PgStoreOptions): Promise<PgSessionStore> {
  const { PgSessionStore: Store } = await import('./pg-store.js');
  return Store.open(options);
}

/** The PostgreSQL store's own calls (its probe, its listening connection), where the store is one. */
export const isPgStore = (store: SessionStore): store is PgSessionStore => store.kind === 'postgres';
