import { promises as fs } from 'node:fs';
import path from 'node:path';
import { mkdirDurable, removeFileDurable, removeStaleTempFiles, syncDir, writeFileDurable } from '../lib/durable-file.js';
import { fileSafeTimestamp } from '../lib/time.js';
import { SONGBOOK_DIR } from './side-files.js';
import type { BackupReason, BackupRecord } from './store.js';

/**
 * The JSON store's backups: copies of data.json (the export format) in DATA_DIR/backups, each with
 * the songbooks its sessions name beside it in `<backup>.songbooks/<code>.json`. Those are hard
 * links to the songbook files as they were: a songbook is replaced by a rename, never written in
 * place, so a link keeps its version whole and costs no space until the room uploads another.
 */
export const BACKUP_DIR = 'backups';
const SONGBOOKS_SUFFIX = '.songbooks';

/** A songbook a backup's session names: the version its state says it has. */
export interface SongbookVersion {
  id: string;
  updatedAt: string;
}

/** The songbooks a set of sessions name (from their state; the songs live apart). */
export function songbookVersions(sessions: Iterable<{ id: string; songbook?: { updatedAt: string } | null }>): SongbookVersion[] {
  return [...sessions].flatMap((s) => (s.songbook ? [{ id: s.id, updatedAt: s.songbook.updatedAt }] : []));
}

export interface BackupEntry extends BackupRecord {
  file: string;
}

// `data-2024-05-01T21-00-00-000Z-scheduled.json`: an ISO time made filename-safe, so names sort by time.
const NAME = /^data-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-([a-z0-9-]+)\.json$/;

export function backupName(at: Date, reason: BackupReason, attempt = 0): string {
  return `data-${fileSafeTimestamp(at)}-${reason}${attempt > 0 ? `-${attempt + 1}` : ''}.json`;
}

function parseName(name: string): { createdAt: Date; reason: string } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const createdAt = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(createdAt.getTime()) ? undefined : { createdAt, reason: m[6]! };
}

export const backupDir = (dataDir: string): string => path.join(dataDir, BACKUP_DIR);

/** Where a backup's songbooks are: `data-….json` has `data-….songbooks/`. */
export const songbooksOf = (backupFile: string): string => `${backupFile.slice(0, -'.json'.length)}${SONGBOOKS_SUFFIX}`;

/** The version a songbook file holds, from its first bytes (the stored JSON begins with it). */
async function fileVersion(file: string): Promise<string | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(80);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return /^\{"updatedAt":"([^"]+)"/.exec(head.subarray(0, bytesRead).toString('utf8'))?.[1];
  } finally {
    await handle.close();
  }
}

/**
 * Link each songbook into the backup's folder, where the file holds the version the session's
 * state names (an upload writes the file before it commits the state; a file newer than the state
 * is not the one this backup describes).
 */
async function linkSongbooks(dataDir: string, target: string, versions: readonly SongbookVersion[]): Promise<void> {
  await fs.rm(target, { recursive: true, force: true }); // left by a crash before its backup was written
  if (versions.length === 0) return;
  await mkdirDurable(target);
  for (const { id, updatedAt } of versions) {
    const source = path.join(dataDir, SONGBOOK_DIR, `${id}.json`);
    if ((await fileVersion(source)) !== updatedAt) continue;
    const link = path.join(target, `${id}.json`);
    try {
      await fs.link(source, link);
    } catch (err) {
      // Removed between the check and the link: this backup goes without it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    // Replaced between the check and the link: not the version this backup describes.
    if ((await fileVersion(link)) !== updatedAt) await fs.rm(link, { force: true });
  }
  await syncDir(target);
}

/**
 * Write a backup durably under a new name (never over an existing one), its songbooks first so
 * that a backup on disk always has them; returns its entry.
 */
export async function writeBackup(
  dataDir: string,
  contents: string | Uint8Array,
  reason: BackupReason,
  at: Date = new Date(),
  songbooks: readonly SongbookVersion[] = [],
): Promise<BackupEntry> {
  const dir = backupDir(dataDir);
  await mkdirDurable(dir);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const name = backupName(at, reason, attempt);
    const file = path.join(dir, name);
    if (await fs.stat(file).then(() => true, () => false)) continue;
    await linkSongbooks(dataDir, songbooksOf(file), songbooks);
    await writeFileDurable(file, contents);
    return { name, file, createdAt: at, reason, bytes: Buffer.byteLength(contents) };
  }
  throw new Error(`too many backups named ${backupName(at, reason)} in ${dir}`);
}

/** The songbooks kept with a backup, by session code. */
export async function backupSongbooks(entry: BackupEntry): Promise<Map<string, string>> {
  const dir = songbooksOf(entry.file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return new Map(names.filter((n) => n.endsWith('.json')).map((n) => [n.slice(0, -'.json'.length), path.join(dir, n)]));
}

/** Backups in DATA_DIR/backups, oldest first. Files with other names are not ours and are ignored. */
export async function listBackups(dataDir: string): Promise<BackupEntry[]> {
  const dir = backupDir(dataDir);
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const entries: BackupEntry[] = [];
  for (const name of names.sort()) {
    const parsed = parseName(name);
    if (!parsed) continue;
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (!stat?.isFile()) continue;
    entries.push({ name, file: path.join(dir, name), bytes: stat.size, ...parsed });
  }
  return entries;
}

export const isPreMigration = (entry: BackupEntry): boolean => entry.reason.startsWith('pre-migration-');

/** Keep the newest `keep` backups; pre-migration ones are kept apart, one per schema upgrade. */
export async function pruneBackups(dataDir: string, keep: number): Promise<BackupEntry[]> {
  const all = await listBackups(dataDir);
  const prunable = all.filter((e) => !isPreMigration(e));
  const removed = prunable.slice(0, Math.max(0, prunable.length - keep));
  for (const entry of removed) await removeFileDurable(entry.file);
  // Then every songbook folder whose backup is gone: those just pruned, and any a crash left behind.
  const kept = new Set(all.filter((e) => !removed.includes(e)).map((e) => songbooksOf(e.file)));
  const dir = backupDir(dataDir);
  let folders = 0;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const folder = path.join(dir, name);
    if (name.endsWith(SONGBOOKS_SUFFIX) && parseName(`${name.slice(0, -SONGBOOKS_SUFFIX.length)}.json`) && !kept.has(folder)) {
      await fs.rm(folder, { recursive: true, force: true });
      folders += 1;
    }
  }
  // Only when something went: a folder's fsync waits for the file system's journal, at every start.
  if (removed.length > 0 || folders > 0) await syncDir(dir).catch(() => {});
  await removeStaleTempFiles(dir);
  return removed;
}

/** The newest backup's bytes, to skip writing a backup identical to it. */
export async function newestBackupBytes(dataDir: string): Promise<Buffer | undefined> {
  const entries = (await listBackups(dataDir)).filter((e) => !isPreMigration(e));
  const newest = entries.at(-1);
  return newest ? fs.readFile(newest.file).catch(() => undefined) : undefined;
}
