import { heldSingers, type SongRequest, type StoredSession } from '../model/session.js';

/**
 * Fair rotation, as pure functions on plain data. A request's round is the turns its singer has
 * had tonight (songs sung, and the one on stage; a skipped song is not a turn) plus that singer's
 * requests standing before it in the queue. A request goes before the first one of a higher
 * round, never ahead of the singer already told they are next.
 */

type Tonight = Pick<StoredSession, 'history' | 'nowSinging' | 'queue' | 'singers'>;

/** Turns each singer has had tonight: sung songs and the song on stage. */
export function turnsTaken(session: Pick<StoredSession, 'history' | 'nowSinging'>): Map<string, number> {
  const turns = new Map<string, number>();
  const add = (id: string) => turns.set(id, (turns.get(id) ?? 0) + 1);
  for (const past of session.history) if (past.outcome === 'sung') add(past.singer.id);
  if (session.nowSinging) add(session.nowSinging.singer.id);
  return turns;
}

/** Each queued request's round. */
export function rounds(queue: readonly SongRequest[], turns: ReadonlyMap<string, number>): number[] {
  const seen = new Map<string, number>();
  return queue.map((r) => {
    const before = seen.get(r.singer.id) ?? 0;
    seen.set(r.singer.id, before + 1);
    return (turns.get(r.singer.id) ?? 0) + before;
  });
}

/**
 * The first place rotation may put a song: after the singer told they are next (the first song
 * not on hold, and never ahead of position 1); the head of an empty queue.
 */
export function firstOpenIndex(queue: readonly SongRequest[], held: ReadonlySet<string>): number {
  if (queue.length === 0) return 0;
  const next = queue.findIndex((r) => !held.has(r.singer.id));
  return Math.max(1, next + 1);
}

function insertIndexIn(queue: readonly SongRequest[], singerId: string, turns: ReadonlyMap<string, number>, held: ReadonlySet<string>): number {
  const round = (turns.get(singerId) ?? 0) + queue.reduce((n, r) => (r.singer.id === singerId ? n + 1 : n), 0);
  const r = rounds(queue, turns);
  for (let i = firstOpenIndex(queue, held); i < queue.length; i += 1) if (r[i]! > round) return i;
  return queue.length;
}

/** Where fair rotation puts a new request of `singerId`. */
export function fairInsertIndex(session: Tonight, singerId: string): number {
  return insertIndexIn(session.queue, singerId, turnsTaken(session), heldSingers(session));
}

/**
 * Re-place the songs of `singerIds` by the rotation rule, after their rounds went down (a cancel,
 * a remove, a skip) or up (an undo). Songs the host placed (`pinned`), those in `keep` and the
 * protected head stay where they are.
 */
export function reflow(session: Tonight, singerIds: Iterable<string>, keep: ReadonlySet<string> = new Set()): SongRequest[] {
  const turns = turnsTaken(session);
  const held = heldSingers(session);
  let queue = [...session.queue];
  for (const singerId of new Set(singerIds)) {
    const open = firstOpenIndex(queue, held);
    const movable = queue.filter((r, i) => i >= open && r.singer.id === singerId && r.pinned !== true && !keep.has(r.id));
    if (movable.length === 0) continue;
    queue = queue.filter((r) => !movable.includes(r));
    for (const r of movable) queue.splice(insertIndexIn(queue, singerId, turns, held), 0, r);
  }
  return queue;
}
