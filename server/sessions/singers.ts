import { Errors } from '../errors.js';
import type { StoredSession, StoredSinger, UndoEntry } from '../model/session.js';

/**
 * The host removes a singer (a prank name, someone who left) with every song they have queued.
 * Their phone's key stops working at once. Songs they already sang stay in tonight's list (it is
 * what was sung, for the night's CSV), so a singer with such songs, or on stage now, keeps a
 * record without a key: their name stays taken, and the host can still add them as a walk-in.
 * Undo entries that would bring their songs back or name them go with them.
 */
export function removeSinger(session: StoredSession, singerId: string, now: Date): StoredSession {
  const singer = session.singers.find((s) => s.id === singerId);
  if (!singer) throw Errors.singerNotFound();
  const removed = new Set(session.queue.filter((r) => r.singer.id === singerId).map((r) => r.id));
  const sang = session.nowSinging?.singer.id === singerId || session.history.some((r) => r.singer.id === singerId);
  const kept: StoredSinger = { id: singer.id, name: singer.name, keyHash: null, createdAt: singer.createdAt };
  const singers = sang ? session.singers.map((s) => (s === singer ? kept : s)) : session.singers.filter((s) => s !== singer);
  const names = (e: UndoEntry): boolean => {
    const a = e.action;
    if (e.by === singerId) return true;
    if (a.kind === 'cancel') return a.request.singer.id === singerId;
    if (a.kind === 'move') return removed.has(a.requestId);
    if (a.kind === 'walkIn') return removed.has(a.requestId) || a.singerId === singerId;
    return false;
  };
  return {
    ...session,
    singers,
    queue: session.queue.filter((r) => !removed.has(r.id)),
    undo: session.undo.filter((e) => !names(e)),
    version: session.version + 1,
    updatedAt: now.toISOString(),
  };
}
