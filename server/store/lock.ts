import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import { LockHeldError } from './errors.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  bootId: string | null;
  /** Process start time from /proc, so a recycled pid is not mistaken for the holder. */
  processStart: string | null;
  startedAt: string;
}


function readProc(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function processStart(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  // Field 22 (starttime) follows the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function currentInfo(): LockInfo {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    bootId: readProc('/proc/sys/kernel/random/boot_id'),
    processStart: processStart(process.pid),
    startedAt: new Date().toISOString(),
  };
}

/** Is the process that wrote this lock still running? A restart (same pid 1 in a container, new boot) says no. */
function holderAlive(info: LockInfo, me: LockInfo): boolean {
  if (info.hostname !== me.hostname || info.bootId !== me.bootId) return false;
  if (info.pid === me.pid) return false;
  if (info.processStart !== null && me.processStart !== null) return processStart(info.pid) === info.processStart;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  release(): Promise<void>;
}

/** One server process per DATA_DIR: two writers would overwrite each other's changes. */
export async function acquireLock(file: string): Promise<Lock> {
  const me = currentInfo();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await fs.writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return {
        release: async () => {
          const now = await fs.readFile(file, 'utf8').catch(() => '');
          if (now === JSON.stringify(me)) await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
    } catch {
      holder = undefined; // unreadable or half-written lock: left by a crash at the worst moment
    }
    if (holder && typeof holder.pid === 'number' && holderAlive(holder, me)) {
      throw new LockHeldError(
        `${file} is held by another server process (pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}). ` +
          'Only one server may use a DATA_DIR; stop that process first.',
      );
    }
    await fs.rm(file, { force: true });
  }
  throw new LockHeldError(`Could not take the lock ${file}: another process keeps recreating it.`);
}
