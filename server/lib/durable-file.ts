import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

export const TEMP_SUFFIX = '.tmp';

/** fsync a directory so a rename inside it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace `file` atomically and durably: a unique 0600 temp file in the same folder, fdatasync,
 * rename over the target, fsync the folder. Only then is the write reported done.
 */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
    await handle.writeFile(data);
    await handle.datasync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, file);
    await syncDir(dir);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fs.rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}

/** Remove a file and make the removal durable; a file that is already gone is fine. */
export async function removeFileDurable(file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await syncDir(path.dirname(file));
}

/** Temp files left by a write that a crash interrupted. */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => n.startsWith('.') && n.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return stale;
}

/** Create a folder (and its parents) so that it survives a power cut: each new level's parent is fsynced. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = path.dirname(d)) {
    await syncDir(path.dirname(d));
    if (d === first) return;
  }
}
