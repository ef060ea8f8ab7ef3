import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removeFileDurable, removeStaleTempFiles, writeFileDurable } from '../lib/durable-file.js';
import { fileSafeTimestamp } from '../lib/time.js';
import type { BackupReason, BackupRecord } from './store.js';

/** The JSON store's backups: copies of data.json (the export format) in DATA_DIR/backups. */
export const BACKUP_DIR = 'backups';

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

/** Write a backup durably under a new name (never over an existing one); returns its entry. */
export async function writeBackup(
  dataDir: string,
  contents: string | Uint8Array,
  reason: BackupReason,
  at: Date = new Date(),
): Promise<BackupEntry> {
  const dir = backupDir(dataDir);
  await fs.mkdir(dir, { recursive: true });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const name = backupName(at, reason, attempt);
    const file = path.join(dir, name);
    if (await fs.stat(file).then(() => true, () => false)) continue;
    await writeFileDurable(file, contents);
    return { name, file, createdAt: at, reason, bytes: Buffer.byteLength(contents) };
  }
  throw new Error(`too many backups named ${backupName(at, reason)} in ${dir}`);
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
  const prunable = (await listBackups(dataDir)).filter((e) => !isPreMigration(e));
  const removed = prunable.slice(0, Math.max(0, prunable.length - keep));
  for (const entry of removed) await removeFileDurable(entry.file);
  await removeStaleTempFiles(backupDir(dataDir));
  return removed;
}

/** The newest backup's bytes, to skip writing a backup identical to it. */
export async function newestBackupBytes(dataDir: string): Promise<Buffer | undefined> {
  const entries = (await listBackups(dataDir)).filter((e) => !isPreMigration(e));
  const newest = entries.at(-1);
  return newest ? fs.readFile(newest.file).catch(() => undefined) : undefined;
}
