import type { ArchivedNight } from '../model/night.js';
import type { StoredSession } from '../model/session.js';
import type { StoredSongbook } from '../model/song.js';

/**
 * What the rest of the server needs from storage, and all of it: sessions by id, durable changes,
 * an export, backups. The JSON file under DATA_DIR is one implementation; a database is another
 * (docs/scaling.md). Nothing here names a file or a folder, and nothing here speaks HTTP: a change
 * that cannot be saved rejects with StoreUnavailableError, one after close with StoreClosedError.
 */
export interface SessionStore {
  /** Which implementation: the JSON file under DATA_DIR, or PostgreSQL. */
  readonly kind: 'json' | 'postgres';
  /** The last durable state of a session: what readers may see. */
  get(id: string): StoredSession | undefined;
  /** The newest state, including changes still being committed: what a change must build on. */
  latest(id: string): StoredSession | undefined;
  /** Resolves once the change is durable. */
  put(session: StoredSession): Promise<void>;
  remove(id: string): Promise<void>;
  /** Replace every session at once (a restore): one durable commit; on failure nothing changes. */
  replaceAll(sessions: Readonly<Record<string, StoredSession>>): Promise<ReplaceSummary>;
  count(): number;
  sessions(): IterableIterator<StoredSession>;
  /**
   * Every durable session and its archived nights in the export format (what the admin export sends
   * and an import takes). As bytes: outside the JavaScript heap, which a small VM keeps small.
   */
  exportData(): Promise<Buffer>;
  /**
   * Keep a copy of the durable state where this store keeps its backups. With `unlessUnchanged`,
   * nothing is written (null) when it equals the newest backup: a quiet week must not push the
   * last real change out of the kept window.
   */
  backup(reason: BackupReason, options?: { unlessUnchanged?: boolean; at?: Date }): Promise<BackupRecord | null>;
  /** Keep the newest `keep` scheduled and pre-change backups; returns what was removed. */
  pruneBackups(keep: number): Promise<BackupRecord[]>;
  /** Each session's songbook, kept apart from the session. */
  readonly songbooks: SongbookStore;
  /** Each session's archived nights, kept apart from tonight. */
  readonly nights: NightArchive;
  /**
   * Changes another instance committed (only a shared store has them): the session as it is now,
   * undefined once removed. Called after the store has taken them in.
   */
  onExternalChange(listener: (change: ExternalChange) => void): void;
  stats(): StoreStats;
  close(): Promise<void>;
}

export interface ExternalChange {
  id: string;
  session: StoredSession | undefined;
  before: StoredSession | undefined;
}

/** A write probe's answer, for health. */
export interface StoreProbe {
  writable: boolean;
  error?: string;
}

export interface SongbookStore {
  get(sessionId: string): Promise<StoredSongbook | undefined>;
  /** Durable and atomic: a failed or interrupted put leaves the previous songbook as it was. */
  put(sessionId: string, songbook: StoredSongbook): Promise<void>;
  /** The songbook as encodeStoredSongbook's bytes, for a reader that decodes it off the main thread. */
  getEncoded(sessionId: string): Promise<Uint8Array | undefined>;
  /** put() of bytes from encodeStoredSongbook, encoded off the main thread. */
  putEncoded(sessionId: string, encoded: Uint8Array): Promise<void>;
  remove(sessionId: string): Promise<void>;
}

export interface NightArchive {
  /** Keep a night that ended; only the newest `keep` nights of the session stay. */
  put(sessionId: string, night: ArchivedNight, keep: number): Promise<void>;
  /** Newest first. */
  list(sessionId: string): Promise<ArchivedNight[]>;
  /** Replace a session's whole archive (an import). */
  replace(sessionId: string, nights: readonly ArchivedNight[]): Promise<void>;
  get(sessionId: string, night: number): Promise<ArchivedNight | undefined>;
  removeAll(sessionId: string): Promise<void>;
}

/** Why a backup was written; pre-migration copies are never pruned (they are the only copy of an old schema). */
export type BackupReason = 'scheduled' | 'pre-import' | 'pre-restore' | 'pre-legacy-import' | `pre-migration-v${number}`;

export interface BackupRecord {
  name: string;
  createdAt: Date;
  reason: string;
  bytes: number;
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
