import type { NightLimits } from '../config.js';
import { Errors } from '../errors.js';
import { sameSong, type SongRequest, type StoredSession, type UndoAction, type UndoEntry } from '../model/session.js';
import type { Actor } from './auth.js';
import { assertRoomForSong } from './limits.js';
import { reflow } from './rotation.js';

/**
 * Undo, as pure functions. The stack lives in the stored session, oldest first. An undo applies
 * the inverse of one action to the queue as it is now, so what guests did meanwhile stays.
 */
export const UNDO_LIMIT = 20;
export const HOST_UNDO_MS = 30 * 60_000;
export const GUEST_UNDO_MS = 30_000;
/**
 * Guests' cancels kept for undo at once. Each holds the whole request, and every commit writes the
 * whole session: in a busy room twenty of them doubled a session's size and cost writes a sixth.
 */
export const GUEST_UNDO_LIMIT = 4;

const windowMs = (entry: UndoEntry) => (entry.by === null ? HOST_UNDO_MS : GUEST_UNDO_MS);
const fresh = (entry: UndoEntry, nowMs: number) => nowMs - Date.parse(entry.at) <= windowMs(entry);

/** The stack with one more entry: expired ones dropped, the oldest beyond the bound too. */
export function pushUndo(stack: readonly UndoEntry[], entry: UndoEntry, now: Date): UndoEntry[] {
  const kept = [...stack.filter((e) => fresh(e, now.getTime())), entry].slice(-UNDO_LIMIT);
  let guests = kept.filter((e) => e.by !== null).length;
  return guests <= GUEST_UNDO_LIMIT ? kept : kept.filter((e) => e.by === null || guests-- <= GUEST_UNDO_LIMIT);
}

/** A request left for good (cancelled, removed): entries that would move or remove it go too. */
export function forgetRequest(stack: readonly UndoEntry[], requestId: string): readonly UndoEntry[] {
  const refers = (a: UndoAction) => (a.kind === 'move' || a.kind === 'walkIn') && a.requestId === requestId;
  return stack.some((e) => refers(e.action)) ? stack.filter((e) => !refers(e.action)) : stack;
}

const queued = (session: StoredSession, id: string) => session.queue.some((r) => r.id === id);

/** Whether the inverse can still be applied to the session as it is. */
function applicable(session: StoredSession, action: UndoAction): boolean {
  switch (action.kind) {
    case 'next':
      return (session.nowSinging?.id ?? null) === action.started && (action.ended === null || session.history.at(-1)?.id === action.ended);
    case 'cancel':
      return !queued(session, action.request.id) && session.nowSinging?.id !== action.request.id && session.singers.some((s) => s.id === action.request.singer.id);
    case 'move':
    case 'walkIn':
      return queued(session, action.requestId);
    case 'status':
      return true;
  }
}

/** The newest entry this actor may undo now, by index in the stack. */
function findEntry(session: StoredSession, actor: Actor, nowMs: number): number {
  const by = actor.role === 'host' ? null : actor.singer.id;
  for (let i = session.undo.length - 1; i >= 0; i -= 1) {
    const entry = session.undo[i]!;
    if (entry.by !== by || !fresh(entry, nowMs)) continue;
    if (applicable(session, entry.action)) return i;
  }
  return -1;
}

/** What the host page offers to undo: the host's newest undoable action. */
export function undoOffer(session: StoredSession, nowMs: number): { label: string; at: string } | null {
  const i = findEntry(session, { role: 'host' }, nowMs);
  return i === -1 ? null : { label: session.undo[i]!.label, at: session.undo[i]!.at };
}

type Changes = Partial<Pick<StoredSession, 'queue' | 'nowSinging' | 'history' | 'status' | 'singers' | 'undo'>>;

function backToQueue(r: NonNullable<StoredSession['nowSinging']>): SongRequest {
  const { startedAt: _startedAt, ...request } = r;
  return request;
}

function inverse(session: StoredSession, action: UndoAction, limits: NightLimits): Changes {
  switch (action.kind) {
    case 'next': {
      // The song that came up goes back to a queue that may have filled up meanwhile.
      if (session.nowSinging && session.queue.length >= limits.queuedSongs) throw Errors.queueFull(limits.queuedSongs);
      // Nor past its singer's own limit, if they queued more songs meanwhile.
      const back = session.nowSinging?.singer.id;
      if (back !== undefined && session.queue.filter((r) => r.singer.id === back).length >= session.maxQueuedPerSinger) {
        throw Errors.queueLimit(session.maxQueuedPerSinger);
      }
      // The one that came up goes back to the head; the one that had ended comes back on stage.
      const queue = session.nowSinging ? [backToQueue(session.nowSinging), ...session.queue] : [...session.queue];
      const past = action.ended === null ? undefined : session.history.at(-1);
      const history = past ? session.history.slice(0, -1) : session.history;
      const nowSinging = past ? (({ endedAt: _e, outcome: _o, ...playing }) => playing)(past) : null;
      const next = { ...session, queue, history, nowSinging };
      // A skip gave the singer no turn; back on stage, it is one again, and their songs move back.
      return { queue: past?.outcome === 'skipped' ? reflow(next, [past.singer.id]) : queue, history, nowSinging };
    }
    case 'cancel': {
      const { request, index } = action;
      assertRoomForSong(session, limits);
      const mine = session.queue.filter((r) => r.singer.id === request.singer.id);
      if (mine.length >= session.maxQueuedPerSinger) throw Errors.queueLimit(session.maxQueuedPerSinger);
      if (mine.some((r) => sameSong(r, request))) throw Errors.duplicate();
      const queue = [...session.queue];
      queue.splice(Math.min(index, queue.length), 0, request);
      return { queue: reflow({ ...session, queue }, [request.singer.id], new Set([request.id])) };
    }
    case 'move': {
      const from = session.queue.findIndex((r) => r.id === action.requestId);
      const { pinned: _p, ...unpinned } = session.queue[from]!;
      const queue = session.queue.filter((_, i) => i !== from);
      queue.splice(Math.min(action.from, queue.length), 0, action.pinned ? { ...unpinned, pinned: true } : unpinned);
      return { queue };
    }
    case 'status':
      return { status: action.from };
    case 'walkIn': {
      const request = session.queue.find((r) => r.id === action.requestId)!;
      const rest = { ...session, queue: session.queue.filter((r) => r !== request) };
      const queue = reflow(rest, [request.singer.id]);
      const id = action.singerId;
      const referenced =
        id !== null &&
        (queue.some((r) => r.singer.id === id) || session.nowSinging?.singer.id === id || session.history.some((r) => r.singer.id === id) ||
          session.undo.some((e) => e.action.kind === 'cancel' && e.action.request.singer.id === id));
      const singers = id === null || referenced ? session.singers : session.singers.filter((s) => s.id !== id);
      return { queue, singers };
    }
  }
}

/**
 * The changes that undo this actor's newest undoable action: the host's within 30 minutes, a
 * guest's own cancel within 30 seconds. Entries above it that no longer apply are dropped with it.
 */
export function undoChanges(session: StoredSession, actor: Actor, now: Date, limits: NightLimits): Changes {
  const i = findEntry(session, actor, now.getTime());
  if (i === -1) throw Errors.nothingToUndo();
  const entry = session.undo[i]!;
  const changes = inverse(session, entry.action, limits);
  const by = entry.by;
  // Entries of the same actor above this one were skipped as inapplicable: they go too.
  const undo = session.undo.filter((e, j) => j < i || (j > i && e.by !== by));
  return { ...changes, undo };
}
