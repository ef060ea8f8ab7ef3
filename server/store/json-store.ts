import type { Low } from 'lowdb';
import { sha256 } from '../lib/hash.js';
import type { ArchivedNight } from '../model/night.js';
import type { StoredSession } from '../model/session.js';
import { newestBackupBytes, pruneBackups, songbookVersions, writeBackup } from './backup-files.js';
import type { DbData } from './data-file.js';
import { StoreClosedError, StoreUnavailableError } from './errors.js';
import { exportBytes } from './export-format.js';
import type { JournaledJsonFile } from './journaled-file.js';
import type { Lock } from './lock.js';
import { serializeData } from './serialize.js';
import type { NightFiles, SongbookFiles } from './side-files.js';
import type { BackupReason, BackupRecord, ReplaceSummary, SessionStore, StoreStats } from './store.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Batch {
  ids: Set<string>;
  waiters: Waiter[];
}

const digest = (bytes: Uint8Array) => sha256(bytes, 'hex');

/**
 * The JSON store: lowdb's `Low` over the journaled data.json adapter, with group commit on top.
 * Changes apply to `db.data` at once (what the next change builds on) and join the open batch; one
 * flush is in flight at a time, and each caller resolves only once its batch is durable. Readers
 * see `committed`, the durable state only.
 */
export class JsonFileStore implements SessionStore {
  readonly kind = 'json' as const;
  private readonly committed: Map<string, StoredSession>;
  private open: Batch | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private lastBackupDigest: string | undefined;
  /** Backups and pruning one at a time: a prune must not take a backup's songbooks for a crash's leftovers. */
  private backups: Promise<unknown> = Promise.resolve();
  private readonly counters: StoreStats = { flushes: 0, changesFlushed: 0, failedFlushes: 0, checkpoints: 0 };

  constructor(
    private readonly dataDir: string,
    private readonly db: Low<DbData>,
    private readonly file: JournaledJsonFile,
    private readonly lock: Lock,
    readonly songbooks: SongbookFiles,
    readonly nights: NightFiles,
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

  async exportData(): Promise<Buffer> {
    // The sessions as they are now, before any await; then their archives.
    const sessions = serializeData({ version: this.db.data.version, sessions: Object.fromEntries(this.committed) });
    const nights: Record<string, ArchivedNight[]> = {};
    for (const id of this.committed.keys()) {
      const list = await this.nights.list(id);
      if (list.length > 0) nights[id] = list.reverse();
    }
    return exportBytes(sessions, nights);
  }

  private oneAtATime<T>(job: () => Promise<T>): Promise<T> {
    const run = this.backups.then(job, job);
    this.backups = run.catch(() => {});
    return run;
  }

  backup(reason: BackupReason, options: { unlessUnchanged?: boolean; at?: Date } = {}): Promise<BackupRecord | null> {
    return this.oneAtATime(() => this.writeBackupNow(reason, options));
  }

  private async writeBackupNow(reason: BackupReason, { unlessUnchanged = false, at = new Date() }: { unlessUnchanged?: boolean; at?: Date }): Promise<BackupRecord | null> {
    // The committed view only: a backup never holds a change that was not acknowledged. The
    // songbooks it names are read in the same tick as the sessions exportData serialises.
    const songbooks = songbookVersions(this.committed.values());
    const bytes = await this.exportData();
    const hash = digest(bytes);
    if (unlessUnchanged) {
      if (this.lastBackupDigest === undefined) {
        const newest = await newestBackupBytes(this.dataDir);
        if (newest !== undefined) this.lastBackupDigest = digest(newest);
        // A brand-new, empty DATA_DIR has nothing worth a backup yet.
        else if (this.committed.size === 0) return null;
      }
      if (hash === this.lastBackupDigest) return null;
    }
    const written = await writeBackup(this.dataDir, bytes, reason, at, songbooks);
    this.lastBackupDigest = hash;
    return written;
  }

  pruneBackups(keep: number): Promise<BackupRecord[]> {
    return this.oneAtATime(() => pruneBackups(this.dataDir, keep));
  }

  /** One server owns DATA_DIR: nothing changes behind its back. */
  onExternalChange(): void {}

  stats(): StoreStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    // After a clean stop data.json alone holds everything. If this fails the journal still does,
    // and the next start replays it.
    if (this.file.pending) {
      await this.db
        .write()
        .then(() => (this.counters.checkpoints += 1))
        .catch(() => {});
    }
    await this.lock.release();
  }

  /** Group commit: changes join the open batch; one flush is in flight, the next batch waits behind it. */
  private change(ids: readonly string[], apply: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError('the store is closed'));
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
      await this.file.release();
    } while (this.open);
    this.flushing = null;
  }

  private async flushBatch(batch: Batch): Promise<void> {
    this.open = null;
    const sessions = this.db.data.sessions;
    const values = new Map([...batch.ids].map((id) => [id, sessions[id]] as const));
    const checkpoint = this.file.checkpointDue;
    try {
      await this.file.append(values, this.db.data, (id) => this.committed.get(id));
    } catch (err) {
      this.counters.failedFlushes += 1;
      // Changes queued behind the failed batch were built on it: they are undone and rejected too.
      const pending = this.open as Batch | null;
      this.open = null;
      const failure = new StoreUnavailableError('the change could not be made durable', { cause: err });
      for (const b of pending ? [batch, pending] : [batch]) {
        for (const id of b.ids) {
          const before = this.committed.get(id);
          if (before) sessions[id] = before;
          else delete sessions[id];
        }
        for (const w of b.waiters) w.reject(failure);
      }
      return;
    }
    if (checkpoint) this.counters.checkpoints += 1;
    for (const [id, value] of values) {
      if (value) this.committed.set(id, value);
      else this.committed.delete(id);
    }
    this.counters.flushes += 1;
    this.counters.changesFlushed += batch.waiters.length;
    for (const w of batch.waiters) w.resolve();
  }
}
