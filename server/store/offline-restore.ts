import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removeFileDurable, writeFileDurable } from '../lib/durable-file.js';
import { backupSongbooks, listBackups, songbookVersions, writeBackup, type BackupEntry } from './backup-files.js';
import { parseExport } from './export-format.js';
import { journalPath } from './journal.js';
import { DATA_FILE } from './journaled-file.js';
import { acquireLock } from './lock.js';
import { LOCK_FILE, readStoredData } from './open.js';
import { serializeData } from './serialize.js';
import { NightFiles, SongbookFiles } from './side-files.js';

export class BackupNotFoundError extends Error {
  override name = 'BackupNotFoundError';
}

export interface RestoreResult {
  restored: BackupEntry;
  /** Where the data.json that was replaced went; null when there was none. */
  previous: BackupEntry | null;
  sessions: number;
  schemaVersion: number;
  /** Songbooks put back from the backup's own copies. */
  songbooksRestored: number;
  /** Sessions whose state names a songbook the backup has no copy of (it predates them): their files are left as they are. */
  songbooksNotKept: number;
}

/**
 * An exact name from the list (so a name can never point outside the backups folder), or `latest`:
 * the newest backup that is not a file a restore replaced.
 */
export async function findBackup(dataDir: string, name: string): Promise<BackupEntry> {
  const entries = await listBackups(dataDir);
  const entry = name === 'latest' ? entries.filter((e) => e.reason !== 'pre-restore').at(-1) : entries.find((e) => e.name === name);
  if (!entry) {
    throw new BackupNotFoundError(
      entries.length === 0
        ? `There are no backups in ${path.join(dataDir, 'backups')}.`
        : `No backup named ${JSON.stringify(name)} in ${path.join(dataDir, 'backups')}; list them to see the names.`,
    );
  }
  return entry;
}

/**
 * Put a backup in place of data.json while no server runs: take the lock (a running server holds
 * it), check the backup, keep the current state as a backup, empty the journal, then replace
 * data.json durably.
 */
export async function restoreBackup(dataDir: string, name: string, now: Date = new Date()): Promise<RestoreResult> {
  const lock = await acquireLock(path.join(dataDir, LOCK_FILE));
  try {
    const restored = await findBackup(dataDir, name);
    const text = await fs.readFile(restored.file, 'utf8');
    const { data, nights, migratedFrom } = parseExport(text, restored.file);
    const file = path.join(dataDir, DATA_FILE);
    const journal = journalPath(dataDir);
    // The state being replaced is data.json with the journal replayed onto it (an unclean stop leaves
    // changes there). When that cannot be read, the file is kept as it is, with the journal beside
    // the backup: it may still hold something worth recovering by hand.
    const pending = await fs.stat(journal).then((s) => s.size > 0, () => false);
    const exists = await fs.stat(file).then(() => true, () => false);
    const state = exists || pending ? await readStoredData(dataDir).catch(() => null) : null;
    const merged = pending && state ? serializeData(state) : null;
    const current =
      merged ??
      (await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      }));
    const previous = current === null ? null : await writeBackup(dataDir, current, 'pre-restore', now, songbookVersions(Object.values(state?.sessions ?? {})));
    if (pending && merged === null && previous !== null) {
      await fs.copyFile(journal, `${previous.file}.journal`);
    }
    // Left in place, the journal's changes would be replayed onto the restored file.
    await removeFileDurable(journal);
    // Written as it was: an older schema is migrated by the server at its next start.
    await writeFileDurable(file, text);
    // The archives the backup holds come back with it; a backup from before archives existed leaves them as they are.
    const archive = new NightFiles(dataDir);
    await archive.prepare();
    for (const [id, list] of Object.entries(nights)) await archive.replace(id, list);
    // So do its songbooks: each session gets the one its state names, or none.
    const songbooks = new SongbookFiles(dataDir);
    await songbooks.prepare();
    const kept = await backupSongbooks(restored);
    let songbooksRestored = 0;
    let songbooksNotKept = 0;
    for (const session of Object.values(data.sessions)) {
      const copy = kept.get(session.id);
      if (copy) {
        await songbooks.putEncoded(session.id, await fs.readFile(copy));
        songbooksRestored += 1;
      } else if (session.songbook) songbooksNotKept += 1;
      else await songbooks.remove(session.id);
    }
    return {
      restored,
      previous,
      sessions: Object.keys(data.sessions).length,
      schemaVersion: migratedFrom ?? data.version,
      songbooksRestored,
      songbooksNotKept,
    };
  } finally {
    await lock.release();
  }
}
