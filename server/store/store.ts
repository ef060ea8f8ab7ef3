import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { Errors } from '../errors.js';
import type { StoredSession } from '../sessions/model.js';
import { writeBackup } from './backups.js';
import { DurableJsonFile, removeStaleTempFiles } from './durable-file.js';
import { acquireLock, type Lock } from './lock.js';
import { QrFiles } from './qr-files.js';
import { emptyData, parseData, SCHEMA_VERSION, type DbData } from './schema.js';
import { storageInfo, type StorageInfo } from './storage.js';

/**
 * What the rest of the server needs from storage. The JSON file is one implementation; a
 * SQLite or PostgreSQL one would keep this shape (see docs/scaling.md).
 */
export interface SessionStore {
  readonly dataDir: string;
  readonly qr: QrFiles;
  /** The last durable state of a session: what readers may see. */
  get(id: string): StoredSession | undefined;
  /** The newest state, including changes still being flushed: what a change must build on. */
  latest(id: string): StoredSession | undefined;
  /** Resolves once the change is on disk; rejects with a 503 HttpError if it could not be saved. */
  put(session: StoredSession): Promise<void>;
  remove(id: string): Promise<void>;
  /** Replace every session at once (a restore): one durable commit; on failure nothing changes. */
  replaceAll(sessions: Readonly<Record<string, StoredSession>>): Promise<ReplaceSummary>;
  count(): number;
  sessions(): IterableIterator<StoredSession>;
  storage(): Promise<StorageInfo>;
  /** A consistent copy of data.json as it is on disk now. */
  snapshot(): string;
  stats(): StoreStats;
  close(): Promise<void>;
}

/** What a replaceAll changed, compared with the newest state it replaced. */
export interface ReplaceSummary {
  added: StoredSession[];
  updated: StoredSession[];
  removed: StoredSession[];
  unchanged: number;
}

export interface StoreStats {
  flushes: number;
  changesFlushed: number;
  failedFlushes: number;
}

export interface OpenedStore {
  store: SessionStore;
  /** Set when an older schema was migrated at open (a backup was written first). */
  migratedFrom: number | null;
  removedTempFiles: string[];
}

const serializedCache = new WeakMap<StoredSession, Buffer>();
const COMMA = Buffer.from(',');

/**
 * Compact JSON of the whole store in pieces, re-serialising only sessions that changed: sessions
 * are immutable, so an unchanged one is the same object as last time and its bytes are cached.
 * Cached as UTF-8 and joined as bytes: building and encoding one big string per flush cost more
 * than the disk write itself.
 */
function serializeParts(data: DbData): Buffer[] {
  const parts: Buffer[] = [Buffer.from(`{"version":${data.version},"sessions":{`)];
  for (const id in data.sessions) {
    const session = data.sessions[id]!;
    let bytes = serializedCache.get(session);
    if (bytes === undefined || session.id !== id) {
      const json = `${JSON.stringify(id)}:${JSON.stringify(session)}`;
      // Not from Buffer's shared 8 KB pool: a cached session would keep its neighbours' old bytes alive.
      bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
      bytes.write(json);
      // Keyed by the session alone, so only cache it under its own id.
      if (session.id === id) serializedCache.set(session, bytes);
    }
    if (parts.length > 1) parts.push(COMMA);
    parts.push(bytes);
  }
  parts.push(Buffer.from('}}'));
  return parts;
}

export function serializeData(data: DbData): Buffer {
  return Buffer.concat(serializeParts(data));
}

/**
 * serializeData into one buffer kept between calls. Only for the flush loop, which writes one
 * snapshot at a time: a fresh multi-megabyte buffer per flush kept the garbage collector busy.
 */
function reusingSerializer(): (data: DbData) => Buffer {
  let buffer = Buffer.alloc(0);
  return (data) => {
    const parts = serializeParts(data);
    const size = parts.reduce((n, p) => n + p.length, 0);
    if (buffer.length < size) buffer = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
    let offset = 0;
    for (const p of parts) {
      buffer.set(p, offset);
      offset += p.length;
    }
    return buffer.subarray(0, size);
  };
}

/**
 * Under load (a batch of at least BUSY_BATCH changes) the next flush waits BUSY_DELAY_MS, so
 * the writers just answered can send their next change in time to join it: each whole-file
 * rewrite then carries up to twice as many changes (PostgreSQL's commit_delay, in small).
 */
const BUSY_BATCH = 8;
const BUSY_DELAY_MS = 4;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Batch {
  ids: Set<string>;
  waiters: Waiter[];
}

class JsonFileStore implements SessionStore {
  private readonly committed: Map<string, StoredSession>;
  private open: Batch | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly counters: StoreStats = { flushes: 0, changesFlushed: 0, failedFlushes: 0 };

  constructor(
    readonly dataDir: string,
    readonly qr: QrFiles,
    private readonly db: Low<DbData>,
    private readonly lock: Lock,
  ) {
    this.committed = new Map(Object.entries(db.data.sessions));
  }

  get(id: string): StoredSession | undefined {
    return this.committed.get(id);
  }

  latest(id: string): StoredSession | undefined {
    return Object.hasOwn(this.db.data.sessions, id) ? this.db.data.sessions[id] : undefined;
  }

  put(session: StoredSession): Promise<void> {
    return this.change([session.id], () => {
      this.db.data.sessions[session.id] = session;
    });
  }

  remove(id: string): Promise<void> {
    return this.change([id], () => {
      delete this.db.data.sessions[id];
    });
  }

  async replaceAll(next: Readonly<Record<string, StoredSession>>): Promise<ReplaceSummary> {
    const current = this.db.data.sessions;
    const summary: ReplaceSummary = { added: [], updated: [], removed: [], unchanged: 0 };
    for (const id of Object.keys(current)) if (!Object.hasOwn(next, id)) summary.removed.push(current[id]!);
    for (const [id, session] of Object.entries(next)) {
      if (!Object.hasOwn(current, id)) summary.added.push(session);
      else if (current[id] !== session) summary.updated.push(session);
      else summary.unchanged += 1;
    }
    const ids = [...summary.removed, ...summary.added, ...summary.updated].map((s) => s.id);
    // Every touched id joins one batch, so a failed write undoes all of them together.
    await this.change(ids, () => {
      for (const id of ids) {
        if (Object.hasOwn(next, id)) current[id] = next[id]!;
        else delete current[id];
      }
    });
    return summary;
  }

  count(): number {
    return this.committed.size;
  }

  sessions(): IterableIterator<StoredSession> {
    return this.committed.values();
  }

  storage(): Promise<StorageInfo> {
    return storageInfo(this.dataDir);
  }

  snapshot(): string {
    return serializeData({ version: this.db.data.version, sessions: Object.fromEntries(this.committed) }).toString('utf8');
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.lock.release();
  }

  /** Group commit: changes join the open batch; one flush is in flight, the next batch waits behind it. */
  private change(ids: readonly string[], apply: () => void): Promise<void> {
    if (this.closed) return Promise.reject(Errors.shuttingDown());
    apply();
    this.open ??= { ids: new Set(), waiters: [] };
    const batch = this.open;
    for (const id of ids) batch.ids.add(id);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.flushing ??= this.flushLoop();
    return done;
  }

  private async flushLoop(): Promise<void> {
    // Let every change made in this tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.open) {
      const batch = this.open;
      this.open = null;
      const sessions = this.db.data.sessions;
      const values = new Map([...batch.ids].map((id) => [id, sessions[id]] as const));
      try {
        await this.db.write();
      } catch (err) {
        this.counters.failedFlushes += 1;
        // Changes queued behind the failed batch were built on it: they are undone and rejected too.
        const pending = this.open as Batch | null;
        this.open = null;
        for (const b of pending ? [batch, pending] : [batch]) {
          for (const id of b.ids) {
            const before = this.committed.get(id);
            if (before) sessions[id] = before;
            else delete sessions[id];
          }
          for (const w of b.waiters) w.reject(Errors.storageUnavailable(err));
        }
        continue;
      }
      for (const [id, value] of values) {
        if (value) this.committed.set(id, value);
        else this.committed.delete(id);
      }
      this.counters.flushes += 1;
      this.counters.changesFlushed += batch.waiters.length;
      for (const w of batch.waiters) w.resolve();
      if (this.open && batch.waiters.length >= BUSY_BATCH && !this.closed) {
        await new Promise<void>((resolve) => setTimeout(resolve, BUSY_DELAY_MS));
      }
    }
    this.flushing = null;
  }
}

export interface OpenStoreOptions {
  dataDir: string;
  /** Called with the path of the backup written before a schema migration. */
  backupBeforeMigration?: (file: string, contents: string) => Promise<void>;
}

export const DATA_FILE = 'data.json';
export const LOCK_FILE = '.lock';

/**
 * Open DATA_DIR: create it, take the lock, clear stale temp files, read and check data.json.
 * Never overwrites a file it could not read.
 */
export async function openStore({ dataDir }: OpenStoreOptions): Promise<OpenedStore> {
  await fs.mkdir(dataDir, { recursive: true });
  const lock = await acquireLock(path.join(dataDir, LOCK_FILE));
  try {
    const removedTempFiles = await removeStaleTempFiles(dataDir);
    const qr = new QrFiles(path.join(dataDir, 'qr-codes'));
    await qr.prepare();
    const file = path.join(dataDir, DATA_FILE);
    let migratedFrom: number | null = null;
    const adapter = new DurableJsonFile<DbData>(file, reusingSerializer(), (raw, f) => {
      const parsed = parseData(raw, f);
      migratedFrom = parsed.migratedFrom;
      return parsed.data;
    });
    // Built explicitly: JSONFilePreset would switch to memory under NODE_ENV=test.
    const db = new Low<DbData>(adapter, emptyData());
    await db.read();
    if (migratedFrom !== null) {
      await writeBackup(dataDir, await fs.readFile(file), `pre-migration-v${migratedFrom}`);
    }
    const exists = await fs.stat(file).then(() => true, () => false);
    if (!exists || migratedFrom !== null) await db.write();
    return { store: new JsonFileStore(dataDir, qr, db, lock), migratedFrom, removedTempFiles };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export { SCHEMA_VERSION };
