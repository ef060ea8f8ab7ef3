import { heldSingers, type StoredSession } from '../model/session.js';

export const DEFAULT_SONG_MS = 4 * 60_000;
// A "sung" song shorter than this was a mis-click; longer than the cap, the host left it running.
const MIN_COUNTED_MS = 30_000;
const MAX_COUNTED_MS = 15 * 60_000;

/** When the queue's head can start and how long a song takes, from which every estimate follows. */
export interface Schedule {
  /** Mean length of the songs sung so far, or four minutes before there is one. */
  readonly songMs: number;
  /** After what is left of the current song, never in the past. */
  readonly firstStartMs: number;
}

type Past = StoredSession['history'][number];

// What each past song adds to the average (0: not counted), by identity: history entries are never
// changed, only added or taken back, so a night's average after a next or an undo is a sum over
// cached numbers, not two date parses per song of the night (a third of a host's next on a night
// of 300 songs).
const countedMs = new WeakMap<Past, number>();
function counted(past: Past): number {
  let ms = countedMs.get(past);
  if (ms === undefined) {
    const length = past.outcome === 'sung' ? Date.parse(past.endedAt) - Date.parse(past.startedAt) : NaN;
    ms = length >= MIN_COUNTED_MS ? Math.min(length, MAX_COUNTED_MS) : 0;
    countedMs.set(past, ms);
  }
  return ms;
}

export function averageSongMs(session: Pick<StoredSession, 'history'>): number {
  let total = 0;
  let count = 0;
  for (const past of session.history) {
    const ms = counted(past);
    if (ms === 0) continue;
    total += ms;
    count += 1;
  }
  return count === 0 ? DEFAULT_SONG_MS : Math.round(total / count);
}

/** The schedule at `nowMs`; `songMs` may be given when the caller already has it (it is cached per session). */
export function schedule(session: StoredSession, nowMs: number, songMs = averageSongMs(session)): Schedule {
  const firstStartMs = session.nowSinging ? Math.max(nowMs, Date.parse(session.nowSinging.startedAt) + songMs) : nowMs;
  return { songMs, firstStartMs };
}

/** The one estimate: when the queue entry at 0-based `index` starts. */
export const estimatedStartMs = ({ songMs, firstStartMs }: Schedule, index: number): number => firstStartMs + index * songMs;

/**
 * Which slot of the schedule each queued song takes: next passes over songs on hold, so they
 * take none (null) and the others count on without them.
 */
export function startSlots(queue: readonly { readonly singer: { readonly id: string } }[], held: ReadonlySet<string>): (number | null)[] {
  let slot = 0;
  return queue.map((r) => (held.has(r.singer.id) ? null : slot++));
}

/** Each queued song's estimated start, null for a song on hold. */
export function queueStartsMs(session: StoredSession, plan: Schedule): (number | null)[] {
  return startSlots(session.queue, heldSingers(session)).map((slot) => (slot === null ? null : estimatedStartMs(plan, slot)));
}
