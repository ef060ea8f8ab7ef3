import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { removeStaleTempFiles } from '../lib/durable-file.js';
import { writeBackup } from './backup-files.js';
import { emptyData, type DbData } from './data-file.js';
import { CHECKPOINT_MIN_BYTES, JournaledJsonFile, type ReadReport } from './journaled-file.js';
import { JsonFileStore } from './json-store.js';
import { acquireLock, type LockInfo } from './lock.js';
import { NightFiles, SongbookFiles } from './side-files.js';
import type { SessionStore } from './store.js';

export const LOCK_FILE = '.lock';

export interface OpenStoreOptions {
  dataDir: string;
  /** For tests: how small the journal may stay before a checkpoint. */
  checkpointMinBytes?: number;
  /** How often the lock's holder shows it is alive (LOCK_HEARTBEAT_SECONDS). */
  lockHeartbeatMs?: number;
  /** Another process took the lock over (this one was frozen past the stale window): stop writing. */
  onLockLost?: (holder: LockInfo | undefined) => void;
}

export interface OpenedStore {
  store: SessionStore;
  /** Set when an older schema was migrated at open (a backup was written first). */
  migratedFrom: number | null;
  removedTempFiles: string[];
  /** Commits replayed from the journal (left by a crash), and the bytes of a torn last append dropped. */
  replayed: ReadReport['replayed'];
}

/** data.json with the journal replayed, checked and migrated, in lowdb; writes nothing. */
async function load(dataDir: string, checkpointMinBytes?: number): Promise<{ db: Low<DbData>; file: JournaledJsonFile }> {
  const file = new JournaledJsonFile(dataDir, checkpointMinBytes);
  // Built explicitly: JSONFilePreset would switch to memory under NODE_ENV=test.
  const db = new Low<DbData>(file, emptyData());
  await db.read();
  return { db, file };
}

/**
 * Every session as a restart would find it: data.json with the journal replayed, checked exactly
 * as at start. Writes nothing, takes no lock: for tools and tests looking at a DATA_DIR.
 */
export async function readStoredData(dataDir: string): Promise<DbData> {
  return (await load(dataDir)).db.data;
}

/**
 * Open DATA_DIR: create it, take the lock, clear stale temp files, read and check data.json and
 * replay the journal. Never overwrites a file it could not read.
 */
export async function openStore({ dataDir, checkpointMinBytes = CHECKPOINT_MIN_BYTES, lockHeartbeatMs, onLockLost }: OpenStoreOptions): Promise<OpenedStore> {
  await fs.mkdir(dataDir, { recursive: true });
  const lock = await acquireLock(path.join(dataDir, LOCK_FILE), {
    ...(lockHeartbeatMs !== undefined ? { heartbeatMs: lockHeartbeatMs } : {}),
    ...(onLockLost !== undefined ? { onLost: onLockLost } : {}),
  });
  try {
    const removedTempFiles = await removeStaleTempFiles(dataDir);
    const { db, file } = await load(dataDir, checkpointMinBytes);
    const { migratedFrom, beforeMigration, replayed } = file.report;
    if (migratedFrom !== null) {
      const original = beforeMigration ?? (await fs.readFile(file.file));
      await writeBackup(dataDir, original, `pre-migration-v${migratedFrom}`);
    }
    await file.settle(db.data);
    const songbooks = new SongbookFiles(dataDir);
    const nights = new NightFiles(dataDir);
    await songbooks.prepare();
    await nights.prepare();
    return { store: new JsonFileStore(dataDir, db, file, lock, songbooks, nights), migratedFrom, removedTempFiles, replayed };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
