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
  if (!Number.isInteger(session.version) || session.version < 1) problems.push(`${where}: version ${session.version} is not a positive integer`);
  return problems;
}

/** All the fairness rules look at: whose song it is. */
type Queued = { readonly singer: { readonly id: string } };

/** Each request's round: how many requests of the same singer stand before it. */
export function rounds(queue: readonly Queued[]): number[] {
  const seen = new Map<string, number>();
  return queue.map((r) => {
    const round = seen.get(r.singer.id) ?? 0;
    seen.set(r.singer.id, round + 1);
    return round;
  });
}

/**
 * Fair rotation as a property of a queue built only by requests: nobody's second song comes
 * before everybody's first, and so on, so the rounds never go down along the queue.
 */
export function isFairOrder(queue: readonly Queued[]): boolean {
  const r = rounds(queue);
  return r.every((round, i) => i === 0 || round >= r[i - 1]!);
}

/**
 * Where fair rotation puts a new request of `singerId`, stated as the rule rather than taken from
 * the server's code: before the first request whose round is higher than the new one's, else last.
 */
export function expectedFairIndex(queue: readonly Queued[], singerId: string): number {
  const mine = queue.filter((r) => r.singer.id === singerId).length;
  const r = rounds(queue);
  const later = r.findIndex((round) => round > mine);
  return later === -1 ? queue.length : later;
}
