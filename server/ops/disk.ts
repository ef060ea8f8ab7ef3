import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { removeFileDurable, writeFileDurable } from '../lib/durable-file.js';
import { StartupError } from '../lib/startup-error.js';

/** Facts about the disk under DATA_DIR, for the start check, /healthz and the storage warning. */

export interface StorageInfo {
  dataDir: string;
  /** DATA_DIR is on another filesystem than the root one: a mounted volume, not the container's disk. */
  persistent: boolean;
  writable: boolean;
  freeBytes: number | null;
  totalBytes: number | null;
  usedRatio: number | null;
  warning: string | null;
}

export const FULL_WARNING_RATIO = 0.8;

export async function isSeparateFilesystem(dir: string, root = '/'): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(dir), fs.stat(root)]);
  return a.dev !== b.dev;
}

export async function probeWritable(dir: string): Promise<boolean> {
  const probe = path.join(dir, '.write-probe');
  try {
    await writeFileDurable(probe, String(Date.now()));
    await removeFileDurable(probe);
    return true;
  } catch {
    return false;
  }
}

export async function storageInfo(dir: string): Promise<StorageInfo> {
  const [persistent, writable, space] = await Promise.all([
    isSeparateFilesystem(dir).catch(() => false),
    probeWritable(dir),
    fs.statfs(dir).catch(() => null),
  ]);
  const freeBytes = space ? space.bavail * space.bsize : null;
  const totalBytes = space ? space.blocks * space.bsize : null;
  const usedRatio = space && space.blocks > 0 ? 1 - space.bavail / space.blocks : null;
  const warning =
    usedRatio !== null && usedRatio > FULL_WARNING_RATIO
      ? `The volume holding ${dir} is ${Math.round(usedRatio * 100)}% full; extend it before it fills up.`
      : null;
  return { dataDir: dir, persistent, writable, freeBytes, totalBytes, usedRatio, warning };
}

/** Is the nearest folder of `dir` that exists on a read-only mount? (A recursive mkdir there reports ENOENT, not EROFS.) */
async function readOnlyFilesystem(dir: string): Promise<boolean> {
  for (let at = dir; ; at = path.dirname(at)) {
    const code = await fs.access(at, constants.W_OK).then(() => 'ok', (err: NodeJS.ErrnoException) => err.code);
    if (code !== 'ENOENT' || at === path.dirname(at)) return code === 'EROFS';
  }
}

/**
 * At start: DATA_DIR exists and this process can write to it, or one line saying why not.
 * Returns whether it is a mounted volume.
 */
export async function checkDataDir(dir: string): Promise<{ persistent: boolean }> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, constants.W_OK);
  } catch (err) {
    // A volume the platform mounted read-only (or remounted so after I/O errors): chown would not
    // help, and saying it would send the operator the wrong way.
    if ((err as NodeJS.ErrnoException).code === 'EROFS' || (await readOnlyFilesystem(dir))) {
      throw new StartupError(
        `DATA_DIR ${dir} is on a read-only filesystem; mount the volume read-write ` +
          '(a volume remounted read-only after disk errors needs a check, then a remount or a restart of the machine).',
      );
    }
    const stat = await fs.stat(dir).catch(() => undefined);
    const who = `uid ${process.getuid?.() ?? '?'}`;
    const detail = stat ? `owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}` : (err as Error).message;
    throw new StartupError(
      `DATA_DIR ${dir} is not writable by this process (${who}; ${detail}). ` +
        `Make it writable, e.g. \`chown -R ${process.getuid?.() ?? 1000}:${process.getgid?.() ?? 1000} ${dir}\`.`,
    );
  }
  return { persistent: await isSeparateFilesystem(dir) };
}
