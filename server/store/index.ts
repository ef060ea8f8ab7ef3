/**
 * The store's one door: everything outside server/store/ imports from here. The interface is
 * SessionStore; openStore gives the JSON implementation under DATA_DIR.
 */
export type { BackupReason, BackupRecord, ExternalChange, NightArchive, ReplaceSummary, SessionStore, SongbookStore, StoreProbe, StoreStats } from './store.js';
export { PgSessionStore, describePgUrl, PG_CHANNEL, PG_LISTEN_APP, type PgStoreOptions } from './pg-store.js';
export { PG_MIGRATIONS } from './pg-schema.js';
export { NIGHTS_DIR, SONGBOOK_DIR } from './side-files.js';
export { openStore, readStoredData, LOCK_FILE, type OpenedStore, type OpenStoreOptions } from './open.js';
export { LockHeldError, StoreClosedError, StoreConflictError, StoreUnavailableError, UnreadableDataError } from './errors.js';
export { SCHEMA_VERSION, parseData, type DbData } from './data-file.js';
export { migrations, type Migration } from './migrations.js';
export { serializeData } from './serialize.js';
export { InvalidExportError, parseExport } from './export-format.js';
export { backupDir, listBackups, isPreMigration, BACKUP_DIR, type BackupEntry } from './backup-files.js';
export { findBackup, restoreBackup, BackupNotFoundError, type RestoreResult } from './offline-restore.js';
export { DATA_FILE, CHECKPOINT_MIN_BYTES } from './journaled-file.js';
export { JOURNAL_FILE } from './journal.js';
export { acquireLock, type LockInfo } from './lock.js';
