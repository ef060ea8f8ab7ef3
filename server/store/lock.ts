import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { LockHeldError } from './errors.js';

/**
 * One server process per DATA_DIR: two writers would overwrite each other's changes (one server's
 * checkpoint drops the sessions the other acknowledged).
 *
 * Why a heartbeat and not a kernel lock: Node has no flock() in core, a child `flock` helper would
 * outlive a SIGKILLed server (and hold the lock for it) unless it is tied to its parent, and the
 * native addons that wrap flock (fs-ext) need a compiler in the image. A kernel lock would also say
 * nothing across two machines sharing a network volume. So the holder rewrites the lock file every
 * `heartbeatMs` (a counter), and a newcomer that cannot see the holder's processes (another
 * container, another host) must watch the counter stand still for STALE_BEATS beats before taking
 * over. When the holder shares our kernel and pid namespace, the pid and its start time answer at
 * once; when it ran on this host before a reboot (another boot id), it is gone. So a crash or a
 * machine restart never blocks the start for long: at most the stale window, and usually not at all.
 */
export interface LockInfo {
  pid: number;
  hostname: string;
  bootId: string | null;
  /** The pid namespace (`pid:[4026531836]`): a pid means the same process only inside the same one. */
  pidNs?: string | null;
  /** Process start time from /proc, so a recycled pid is not mistaken for the holder. */
  processStart: string | null;
  startedAt: string;
  /** Random per holder: its own lock, told apart from a newcomer's that replaced it. */
  token?: string;
  heartbeatMs?: number;
  /** Counts up at every heartbeat. */
  beat?: number;
}

export const DEFAULT_LOCK_HEARTBEAT_MS = 2000;
/** Beats a newcomer must see missed before it takes the lock of a holder it cannot check directly. */
export const STALE_BEATS = 3;

function readProc(read: () => string): string | null {
  try {
    return read().trim();
  } catch {
    return null;
  }
}

function processStart(pid: number): string | null {
  const stat = readProc(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return null;
  // Field 22 (starttime) follows the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function currentInfo(heartbeatMs: number): LockInfo {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    bootId: readProc(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNs: readProc(() => readlinkSync('/proc/self/ns/pid')),
    processStart: processStart(process.pid),
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
    heartbeatMs,
    beat: 0,
  };
}

/** Is the process that wrote this lock running? Only asked when it shares our kernel and pid namespace. */
function pidAlive(info: LockInfo, me: LockInfo): boolean {
  if (info.pid === me.pid) return false; // a container's pid 1 after a restart
  if (info.processStart !== null && me.processStart !== null) return processStart(info.pid) === info.processStart;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Verdict = 'alive' | 'dead' | 'watch';

/** What we can tell about the holder without waiting. */
function judge(info: LockInfo, me: LockInfo): Verdict {
  const sameKernel = info.bootId !== null && info.bootId === me.bootId;
  // A lock from before pidNs was recorded: same host name and boot, as the old check had it.
  const samePidNs = info.pidNs === undefined ? info.hostname === me.hostname : info.pidNs !== null && info.pidNs === me.pidNs;
  if (sameKernel && samePidNs) return pidAlive(info, me) ? 'alive' : 'dead';
  // The same machine, booted since: nothing of the holder survived the reboot.
  if (info.hostname === me.hostname && info.bootId !== null && me.bootId !== null && info.bootId !== me.bootId) return 'dead';
  return 'watch';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readLock(file: string): Promise<{ text: string; info: LockInfo | undefined } | null> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  try {
    const info = JSON.parse(text) as LockInfo;
    return { text, info: typeof info === 'object' && info !== null && typeof info.pid === 'number' ? info : undefined };
  } catch {
    return { text, info: undefined }; // half-written by a crash at the worst moment, or not ours
  }
}

/**
 * Watch a lock we cannot check directly for the stale window: alive when it changes (the holder
 * beat) or goes away, stale when it stands still. No clock is compared, so clocks that disagree
 * between hosts do not matter.
 */
async function watchHolder(file: string, first: string, windowMs: number): Promise<'alive' | 'stale'> {
  const until = Date.now() + windowMs;
  const step = Math.max(50, Math.min(250, windowMs / 12));
  while (Date.now() < until) {
    await sleep(step);
    const now = await readLock(file);
    if (now?.text !== first) return 'alive';
  }
  return 'stale';
}

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  heartbeatMs?: number;
  /** Called once if another process has replaced our lock (we were frozen past the stale window). */
  onLost?: (holder: LockInfo | undefined) => void;
}

function heldMessage(file: string, holder: LockInfo, how: string): string {
  return (
    `${file} is held by another server process (pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}${how}). ` +
    'Only one server may use a DATA_DIR; stop that process first.'
  );
}

/** Take DATA_DIR's lock, or throw LockHeldError naming the live holder. */
export async function acquireLock(file: string, { heartbeatMs = DEFAULT_LOCK_HEARTBEAT_MS, onLost }: LockOptions = {}): Promise<Lock> {
  const me = currentInfo(heartbeatMs);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await fs.writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return holdLock(file, me, onLost);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const found = await readLock(file);
    if (found === null) continue;
    const holder = found.info;
    const verdict = holder ? judge(holder, me) : 'watch';
    if (verdict === 'alive') throw new LockHeldError(heldMessage(file, holder!, ''));
    if (verdict === 'watch') {
      const windowMs = STALE_BEATS * Math.max(heartbeatMs, holder?.heartbeatMs ?? 0);
      if ((await watchHolder(file, found.text, windowMs)) === 'alive') {
        const now = (await readLock(file))?.info ?? holder;
        if (now) throw new LockHeldError(heldMessage(file, now, `; its heartbeat is fresh`));
        continue; // released meanwhile: try again
      }
    }
    // Remove only the stale lock we judged, not one a faster newcomer wrote meanwhile.
    if ((await readLock(file))?.text === found.text) await fs.rm(file, { force: true });
  }
  throw new LockHeldError(`Could not take the lock ${file}: another process keeps recreating it.`);
}

function holdLock(file: string, me: LockInfo, onLost: LockOptions['onLost']): Lock {
  const mine = { ...me };
  let lost = false;
  let beating: Promise<void> = Promise.resolve();
  const tmp = `${file}.${process.pid}.tmp`;
  const beat = async () => {
    const now = await readLock(file).catch(() => undefined);
    if (now === undefined) return; // unreadable for now (a disk error): try at the next beat
    if (now === null || now.info?.token !== mine.token) {
      lost = true;
      clearInterval(timer);
      onLost?.(now?.info);
      return;
    }
    mine.beat = (mine.beat ?? 0) + 1;
    // Renamed into place, so a newcomer never reads half a lock. Not fsynced: a beat lost to a
    // power cut only makes the holder look dead, which it then is.
    await fs.writeFile(tmp, JSON.stringify(mine), { mode: 0o600 });
    await fs.rename(tmp, file);
  };
  const timer = setInterval(() => {
    beating = beating.then(beat).catch(() => {});
  }, mine.heartbeatMs);
  timer.unref();
  return {
    release: async () => {
      clearInterval(timer);
      await beating;
      await fs.rm(tmp, { force: true });
      if (lost) return;
      const now = await readLock(file).catch(() => null);
      if (now?.info?.token === mine.token) await fs.rm(file, { force: true });
    },
  };
}
