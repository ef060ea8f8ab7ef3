// What must hold for every stored session however it was reached: checked on data.json after the
// soak and on the reloaded store after each fuzzing run.
import type { SongRequest, StoredSession } from '../../server/model/session.js';

export interface InvariantOptions {
  /**
   * The highest per-singer limit the session ever had: lowering the limit does not remove songs
   * already queued, so only the highest one bounds the queue. Defaults to the current limit.
   */
  highestLimit?: number;
}

/** Every broken invariant of one session, as readable sentences; empty when all hold. */
export function sessionProblems(session: StoredSession, options: InvariantOptions = {}): string[] {
  const problems: string[] = [];
  const where = `session ${session.id}`;
  const singers = new Map<string, string>();
  for (const s of session.singers) {
    if (singers.has(s.id)) problems.push(`${where}: singer id ${s.id} appears twice`);
    singers.set(s.id, s.name);
  }
  const all: SongRequest[] = [...session.history, ...(session.nowSinging ? [session.nowSinging] : []), ...session.queue];
  const ids = new Set<string>();
  for (const r of all) {
    if (ids.has(r.id)) problems.push(`${where}: request id ${r.id} appears twice`);
    ids.add(r.id);
    const name = singers.get(r.singer.id);
    if (name === undefined) problems.push(`${where}: request ${r.id} names singer ${r.singer.id}, who is not in the session`);
    else if (name !== r.singer.name) problems.push(`${where}: request ${r.id} calls singer ${r.singer.id} "${r.singer.name}", not "${name}"`);
  }
  const limit = Math.max(session.maxQueuedPerSinger, options.highestLimit ?? 0);
  const queued = new Map<string, number>();
  for (const r of session.queue) queued.set(r.singer.id, (queued.get(r.singer.id) ?? 0) + 1);
  for (const [singer, count] of queued) {
    if (count > limit) problems.push(`${where}: singer ${singer} has ${count} songs queued, over the limit of ${limit}`);
  }
  // Undo entries name only what exists: singers, and requests still somewhere tonight (a
  // cancelled one is kept in its entry and must not be back in the queue twice).
  if (session.undo.length > 20) problems.push(`${where}: ${session.undo.length} undo entries, over the bound of 20`);
  for (const entry of session.undo) {
    const a = entry.action;
    const missing = (id: string | null) => id !== null && !ids.has(id);
    if (entry.by !== null && !singers.has(entry.by)) problems.push(`${where}: an undo entry names singer ${entry.by}, who is not in the session`);
    if (a.kind === 'cancel') {
      if (ids.has(a.request.id)) problems.push(`${where}: the undo of a cancel holds request ${a.request.id}, which is also tonight`);
      if (!singers.has(a.request.singer.id)) problems.push(`${where}: the undo of a cancel names singer ${a.request.singer.id}, who is not in the session`);
    } else if (a.kind === 'next' ? missing(a.ended) || missing(a.started) : (a.kind === 'move' || a.kind === 'walkIn') && missing(a.requestId)) {
      problems.push(`${where}: the undo of a ${a.kind} names a request that is not tonight`);
    }
  }
  if (!Number.isInteger(session.version) || session.version < 1) problems.push(`${where}: version ${session.version} is not a positive integer`);
  return problems;
}

/** All the fairness rules look at: whose song it is, and whether the host placed it. */
export type Queued = { readonly id: string; readonly singer: { readonly id: string }; readonly pinned?: boolean | undefined };
/** What a night has been so far, for counting turns: a skipped song is not a turn. */
export interface Night {
  readonly past: readonly { readonly singer: { readonly id: string }; readonly outcome: 'sung' | 'skipped' }[];
  readonly onStage: { readonly singer: { readonly id: string } } | null;
}

/** Turns a singer has had tonight: songs sung and the one on stage. */
export const turnsOf = (night: Night, singerId: string): number =>
  night.past.filter((p) => p.outcome === 'sung' && p.singer.id === singerId).length + (night.onStage?.singer.id === singerId ? 1 : 0);

/** Each request's round: the singer's turns tonight plus that singer's requests standing before it. */
export function rounds(queue: readonly Queued[], night: Night = { past: [], onStage: null }): number[] {
  return queue.map((r, i) => turnsOf(night, r.singer.id) + queue.slice(0, i).filter((q) => q.singer.id === r.singer.id).length);
}

/**
 * Fair rotation as a property of a queue built by requests, cancels, removes and nexts: after the
 * singer told they are next (position 1), nobody's second turn comes before anybody's first, and so
 * on, so the rounds never go down along the rest of the queue.
 */
export function isFairOrder(queue: readonly Queued[], night?: Night): boolean {
  const r = rounds(queue, night);
  return r.every((round, i) => i <= 1 || round >= r[i - 1]!);
}

/**
 * Where fair rotation puts a new request of `singerId`, stated as the rule rather than taken from
 * the server's code: before the first request of a higher round than the new one's, else last;
 * never ahead of the singer told they are next (the first song whose singer is not on hold).
 */
export function expectedFairIndex(queue: readonly Queued[], singerId: string, night?: Night, held: ReadonlySet<string> = new Set()): number {
  if (queue.length === 0) return 0;
  const round = turnsOf(night ?? { past: [], onStage: null }, singerId) + queue.filter((r) => r.singer.id === singerId).length;
  const after = Math.max(1, queue.findIndex((r) => !held.has(r.singer.id)) + 1);
  const later = rounds(queue, night).findIndex((r, i) => i >= after && r > round);
  return later === -1 ? queue.length : later;
}

/**
 * The queue after a singer's rounds changed (a cancel, a remove, a skip): their songs after the
 * one told they are next, except those the host placed, are asked for again one by one.
 */
export function expectedReplaced<T extends Queued>(queue: readonly T[], singerId: string, night?: Night, held: ReadonlySet<string> = new Set()): T[] {
  const after = queue.length === 0 ? 0 : Math.max(1, queue.findIndex((r) => !held.has(r.singer.id)) + 1);
  const again = queue.filter((r, i) => i >= after && r.singer.id === singerId && r.pinned !== true);
  const rest = queue.filter((r) => !again.includes(r));
  for (const r of again) rest.splice(expectedFairIndex(rest, singerId, night, held), 0, r);
  return rest;
}
