// Built song indexes per session, kept in memory within a byte budget. Searches arrive on every
// keystroke, so the index is built once per upload; the budget bounds what a busy night costs.
import type { SongIndex } from './search.js';

export interface SongbookCacheOptions {
  budgetBytes: number;
  /** Read and index a session's songbook (on the songbook worker, in the server); undefined when it has none. */
  load: (sessionId: string) => Promise<SongIndex | undefined>;
}

interface Pending {
  generation: number;
  promise: Promise<SongIndex | undefined>;
}

export class SongbookCache {
  /** Map order is recency order: a hit moves its entry to the end, eviction takes from the front. */
  private readonly entries = new Map<string, { index: SongIndex; bytes: number }>();
  private readonly pending = new Map<string, Pending>();
  private generation = 0;
  private bytes = 0;
  private loads = 0;
  private evictions = 0;

  constructor(private readonly options: SongbookCacheOptions) {}

  /** The index for a session's songbook, loading and building it on first use; undefined when it has none. Concurrent calls for the same id share one load. */
  get(sessionId: string): Promise<SongIndex | undefined> {
    const hit = this.entries.get(sessionId);
    if (hit) {
      this.entries.delete(sessionId);
      this.entries.set(sessionId, hit);
      return Promise.resolve(hit.index);
    }
    const inFlight = this.pending.get(sessionId);
    if (inFlight) return inFlight.promise;

    const generation = ++this.generation;
    this.loads++;
    const promise = Promise.resolve()
      .then(() => this.options.load(sessionId))
      .then((index) => {
        // Only the latest load for this id, not invalidated meanwhile, may be kept.
        if (index && this.pending.get(sessionId)?.generation === generation) this.store(sessionId, index);
        return index;
      })
      .finally(() => {
        if (this.pending.get(sessionId)?.generation === generation) this.pending.delete(sessionId);
      });
    this.pending.set(sessionId, { generation, promise });
    return promise;
  }

  /** Forget a session's index (after an upload or a delete); a load under way will not be kept. */
  invalidate(sessionId: string): void {
    this.pending.delete(sessionId);
    const entry = this.entries.get(sessionId);
    if (entry) {
      this.entries.delete(sessionId);
      this.bytes -= entry.bytes;
    }
  }

  get stats(): { loaded: number; bytes: number; loads: number; evictions: number } {
    return { loaded: this.entries.size, bytes: this.bytes, loads: this.loads, evictions: this.evictions };
  }

  private store(sessionId: string, index: SongIndex): void {
    const old = this.entries.get(sessionId);
    if (old) (this.entries.delete(sessionId), (this.bytes -= old.bytes));
    const bytes = index.bytes;
    this.entries.set(sessionId, { index, bytes });
    this.bytes += bytes;
    // Evict least recently used, but never the index just built: a songbook bigger than the
    // budget still has to answer its own session.
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.options.budgetBytes || id === sessionId) break;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
      this.evictions++;
    }
  }
}
