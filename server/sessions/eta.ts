import type { StoredSession } from './model.js';

export const DEFAULT_SONG_MS = 4 * 60_000;
// A "sung" song shorter than this was a mis-click; longer than the cap, the host left it running.
const MIN_COUNTED_MS = 30_000;
const MAX_COUNTED_MS = 15 * 60_000;

/** Mean length of the songs sung so far in this session, or four minutes before there is one. */
export function averageSongMs(session: StoredSession): number {
  let total = 0;
  let count = 0;
  for (const past of session.history) {
    if (past.outcome !== 'sung') continue;
    const ms = Date.parse(past.endedAt) - Date.parse(past.startedAt);
    if (!(ms >= MIN_COUNTED_MS)) continue;
    total += Math.min(ms, MAX_COUNTED_MS);
    count += 1;
  }
  return count === 0 ? DEFAULT_SONG_MS : Math.round(total / count);
}

/** When the queue's head can start: after what is left of the current song (never in the past). */
export function nextStartMs(session: StoredSession, nowMs: number, avgMs = averageSongMs(session)): number {
  if (!session.nowSinging) return nowMs;
  return Math.max(nowMs, Date.parse(session.nowSinging.startedAt) + avgMs);
}

/** Estimated start of the queue entry at 0-based index `index`. */
export function estimatedStartMs(session: StoredSession, index: number, nowMs: number): number {
  const avg = averageSongMs(session);
  return nextStartMs(session, nowMs, avg) + index * avg;
}
