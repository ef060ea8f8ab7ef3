import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { Errors } from '../errors.js';
import type { StoredSession } from '../sessions/model.js';
import { writeBackup } from './backups.js';
import { DurableJsonFile, removeStaleTempFiles, UnreadableDataError } from './durable-file.js';
import { applyRecords, encodeRecord, journalPath, JournalWriter, readJournal, type JournalContents } from './journal.js';
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
  /**
   * A consistent copy of every session as it is on disk now, in data.json's format. As bytes: outside
   * the JavaScript heap, which a small VM keeps small.
   */
  snapshot(): Buffer;
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
  /** Flushes that rewrote data.json rather than appending to the journal. */
  checkpoints: number;
}

export interface OpenedStore {
  store: SessionStore;
  /** Set when an older schema was migrated at open (a backup was written first). */
  migratedFrom: number | null;
  removedTempFiles: string[];
  /** Commits replayed from the journal (left by a crash), and the bytes of a torn last append dropped. */
  replayed: { records: number; tornBytes: number };
}

const serializedCache = new WeakMap<StoredSession, Buffer>();
const COMMA = Buffer.from(',');

/**
 * A session as its `"id":{...}` member of data.json's `sessions`, as UTF-8. Sessions are immutable,
 * so an unchanged one is the same object as last time and its bytes come from the cache: a
 * checkpoint and a journal record serialise only the sessions that changed.
 */
function memberBytes(id: string, session: StoredSession | undefined): Buffer {
  if (session === undefined) return Buffer.from(`${JSON.stringify(id)}:null`);
  let bytes = serializedCache.get(session);
  if (bytes === undefined || session.id !== id) {
    const json = `${JSON.stringify(id)}:${JSON.stringify(session)}`;
    // Not from Buffer's shared 8 KB pool: a cached session would keep its neighbours' old bytes alive.
    bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
    bytes.write(json);
    // Keyed by the session alone, so only cache it under its own id.
    if (session.id === id) serializedCache.set(session, bytes);
  }
  return bytes;
}

/**
 * Compact JSON of the whole store in pieces. Joined as bytes: building and encoding one big string
 * per write cost more than the disk write itself.
 */
function serializeParts(data: DbData): Buffer[] {
  const parts: Buffer[] = [Buffer.from(`{"version":${data.version},"sessions":{`)];
  for (const id in data.sessions) {
    if (parts.length > 1) parts.push(COMMA);
    parts.push(memberBytes(id, data.sessions[id]));
  }
  parts.push(Buffer.from('}}'));
  return parts;
}

export function serializeData(data: DbData): Buffer {
  return Buffer.concat(serializeParts(data));
}

/**
 * serializeData into one buffer kept between calls. Only for the flush loop, which writes one
 * snapshot at a time: a fresh multi-megabyte buffer per checkpoint kept the garbage collector busy.
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

/** data.json is rewritten once the journal is as big as it, and never for less than this. */
export const CHECKPOINT_MIN_BYTES = 8 * 1024 * 1024;

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
  private readonly counters: StoreStats = { flushes: 0, changesFlushed: 0, failedFlushes: 0, checkpoints: 0 };

  constructor(
    readonly dataDir: string,
    readonly qr: QrFiles,
    private readonly db: Low<DbData>,
    private readonly lock: Lock,
    private readonly journal: JournalWriter,
    /** Bytes of data.json at its last write. */
    private dataBytes: number,
    private readonly checkpointMinBytes: number,
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

  snapshot(): Buffer {
    return serializeData({ version: this.db.data.version, sessions: Object.fromEntries(this.committed) });
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    // After a clean stop data.json alone holds everything. If this fails the journal still does,
    // and the next start replays it.
    if (this.journal.bytes > 0 || this.journal.broken) await this.checkpoint().catch(() => {});
    await this.lock.release();
  }

  /** Rewrite data.json with the newest state, then empty the journal. */
  private async checkpoint(): Promise<void> {
    await this.db.write();
    await this.journal.reset();
    this.dataBytes = (await fs.stat(path.join(this.dataDir, DATA_FILE))).size;
    this.counters.checkpoints += 1;
  }

  /** One durable commit of the sessions a batch changed: a journal append, or now and then a checkpoint. */
  private commit(values: ReadonlyMap<string, StoredSession | undefined>): Promise<void> {
    if (this.journal.broken || this.journal.bytes >= Math.max(this.checkpointMinBytes, this.dataBytes)) {
      return this.checkpoint();
    }
    const members: Buffer[] = [];
    for (const [id, value] of values) members.push(memberBytes(id, value));
    return this.journal.append(encodeRecord(members));
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
    do {
      while (this.open) await this.flushBatch(this.open);
      // Changes that arrive while the journal is being closed start the loop over.
      await this.journal.release();
    } while (this.open);
    this.flushing = null;
  }

  private async flushBatch(batch: Batch): Promise<void> {
    this.open = null;
    const sessions = this.db.data.sessions;
    const values = new Map([...batch.ids].map((id) => [id, sessions[id]] as const));
    try {
      await this.commit(values);
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
      return;
    }
    for (const [id, value] of values) {
      if (value) this.committed.set(id, value);
      else this.committed.delete(id);
    }
    this.counters.flushes += 1;
    this.counters.changesFlushed += batch.waiters.length;
    for (const w of batch.waiters) w.resolve();
  }
}

export interface OpenStoreOptions {
  dataDir: string;
  /** For tests: how small the journal may stay before a checkpoint. */
  checkpointMinBytes?: number;
}

export const DATA_FILE = 'data.json';
export const LOCK_FILE = '.lock';

interface LoadedData {
  db: Low<DbData>;
  exists: boolean;
  migratedFrom: number | null;
  journal: JournalContents;
  /** The data before migration when the journal changed it; otherwise the backup is data.json as it is. */
  beforeMigration: string | null;
}

/** data.json with the journal's records replayed onto it, validated and migrated; writes nothing. */
async function loadData(dataDir: string): Promise<LoadedData> {
  const file = path.join(dataDir, DATA_FILE);
  const journal = await readJournal(journalPath(dataDir));
  let migratedFrom: number | null = null;
  let beforeMigration: string | null = null;
  const adapter = new DurableJsonFile<DbData>(file, reusingSerializer(), (raw, f) => {
    const sessions = (raw as { sessions?: unknown } | null)?.sessions;
    if (journal.records.length > 0 && typeof sessions === 'object' && sessions !== null && !Array.isArray(sessions)) {
      applyRecords(sessions as Record<string, unknown>, journal.records);
      if ((raw as { version?: unknown }).version !== SCHEMA_VERSION) beforeMigration = JSON.stringify(raw);
    }
    const parsed = parseData(raw, f);
    migratedFrom = parsed.migratedFrom;
    return parsed.data;
  });
  // Built explicitly: JSONFilePreset would switch to memory under NODE_ENV=test.
  const db = new Low<DbData>(adapter, emptyData());
  await db.read();
  const exists = await fs.stat(file).then(() => true, () => false);
  if (!exists && journal.records.length > 0) {
    throw new UnreadableDataError(
      `${journalPath(dataDir)} holds changes but ${file} is missing. ` +
        'Restore data.json from a backup, or move the journal aside to start empty.',
    );
  }
  return { db, exists, migratedFrom, journal, beforeMigration };
}

/**
 * Every session as a restart would find it: data.json with the journal replayed, checked exactly
 * as at start. Writes nothing, takes no lock: for tools and tests looking at a DATA_DIR.
 */
export async function readStoredData(dataDir: string): Promise<DbData> {
  return (await loadData(dataDir)).db.data;
}

/**
 * Open DATA_DIR: create it, take the lock, clear stale temp files, read and check data.json and
 * replay the journal. Never overwrites a file it could not read.
 */
export async function openStore({ dataDir, checkpointMinBytes = CHECKPOINT_MIN_BYTES }: OpenStoreOptions): Promise<OpenedStore> {
  await fs.mkdir(dataDir, { recursive: true });
  const lock = await acquireLock(path.join(dataDir, LOCK_FILE));
  try {
    const removedTempFiles = await removeStaleTempFiles(dataDir);
    const qr = new QrFiles(path.join(dataDir, 'qr-codes'));
    await qr.prepare();
    const file = path.join(dataDir, DATA_FILE);
    const { db, exists, migratedFrom, journal, beforeMigration } = await loadData(dataDir);
    if (migratedFrom !== null) {
      const original = beforeMigration ?? (await fs.readFile(file));
      await writeBackup(dataDir, original, `pre-migration-v${migratedFrom}`);
    }
    const writer = new JournalWriter(journalPath(dataDir));
    // Start from a data.json that holds everything, and an empty journal whose name is durable
    // before anything is appended to it.
    if (!exists || migratedFrom !== null || journal.records.length > 0) await db.write();
    await writer.reset();
    const { size } = await fs.stat(file);
    return {
      store: new JsonFileStore(dataDir, qr, db, lock, writer, size, checkpointMinBytes),
      migratedFrom,
      removedTempFiles,
      replayed: { records: journal.records.length, tornBytes: journal.tornBytes },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export { SCHEMA_VERSION };
