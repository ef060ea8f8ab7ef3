import { Errors } from '../errors.js';
import { estimatedStartMs } from './eta.js';
import type {
  Outcome,
  PastRequest,
  Rotation,
  SingerRef,
  SongRequest,
  Status,
  StoredSession,
  StoredSinger,
} from './model.js';

/** Pure queue logic: each function takes a session and returns a new one, or throws an HttpError. */

export interface NewSession {
  id: string;
  name: string;
  hostKeyHash: string;
  origin: string;
  now: Date;
}

export function createSession({ id, name, hostKeyHash, origin, now }: NewSession): StoredSession {
  const at = now.toISOString();
  return {
    id,
    name,
    status: 'open',
    rotation: 'fair',
    maxQueuedPerSinger: 3,
    endsAt: null,
    createdAt: at,
    updatedAt: at,
    version: 1,
    origin,
    hostKeyHash,
    singers: [],
    queue: [],
    nowSinging: null,
    history: [],
  };
}

function touch(session: StoredSession, now: Date, changes: Partial<StoredSession>): StoredSession {
  return { ...session, ...changes, version: session.version + 1, updatedAt: now.toISOString() };
}

export interface SettingsPatch {
  name?: string | undefined;
  status?: Status | undefined;
  rotation?: Rotation | undefined;
  maxQueuedPerSinger?: number | undefined;
  endsAt?: string | null | undefined;
}

export function updateSettings(session: StoredSession, patch: SettingsPatch, now: Date): StoredSession {
  const changes: { -readonly [K in keyof StoredSession]?: StoredSession[K] } = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.status !== undefined) changes.status = patch.status;
  if (patch.rotation !== undefined) changes.rotation = patch.rotation;
  if (patch.maxQueuedPerSinger !== undefined) changes.maxQueuedPerSinger = patch.maxQueuedPerSinger;
  if (patch.endsAt !== undefined) changes.endsAt = patch.endsAt;
  // Switching rotation does not reorder what is queued; it decides where new requests go.
  return touch(session, now, changes);
}

function assertTakesRequests(session: StoredSession): void {
  if (session.status === 'closed') throw Errors.sessionClosed();
  if (session.status === 'paused') throw Errors.sessionPaused();
}

export function addSinger(session: StoredSession, singer: StoredSinger, now: Date): StoredSession {
  if (session.status === 'closed') throw Errors.sessionClosed();
  return touch(session, now, { singers: [...session.singers, singer] });
}

const sameName = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

/** The host's walk-in singer of that name, reused so a walk-in's second song rotates fairly. */
export function findWalkIn(session: StoredSession, name: string): StoredSinger | undefined {
  return session.singers.find((s) => s.keyHash === null && sameName(s.name, name));
}

/** Fair rotation: a request's round is how many of its singer's requests stand before it. */
export function fairInsertIndex(queue: readonly SongRequest[], singerId: string): number {
  const seen = new Map<string, number>();
  const newRound = queue.reduce((n, r) => (r.singer.id === singerId ? n + 1 : n), 0);
  for (let i = 0; i < queue.length; i += 1) {
    const id = queue[i]!.singer.id;
    const round = seen.get(id) ?? 0;
    seen.set(id, round + 1);
    if (round > newRound) return i;
  }
  return queue.length;
}

export interface NewRequest {
  id: string;
  singer: SingerRef;
  title: string;
  artist: string;
  link: string | null;
}

const normalizeSong = (s: string) => s.trim().replace(/\s+/g, ' ').toLocaleLowerCase();

export function addRequest(
  session: StoredSession,
  input: NewRequest,
  now: Date,
): { session: StoredSession; position: number } {
  assertTakesRequests(session);
  const mine = session.queue.filter((r) => r.singer.id === input.singer.id);
  if (mine.length >= session.maxQueuedPerSinger) throw Errors.queueLimit(session.maxQueuedPerSinger);
  const title = normalizeSong(input.title);
  const artist = normalizeSong(input.artist);
  if (mine.some((r) => normalizeSong(r.title) === title && normalizeSong(r.artist) === artist)) {
    throw Errors.duplicate();
  }
  const index = session.rotation === 'fifo' ? session.queue.length : fairInsertIndex(session.queue, input.singer.id);
  if (session.endsAt !== null && estimatedStartMs(session, index, now.getTime()) > Date.parse(session.endsAt)) {
    throw Errors.pastEnd();
  }
  const request: SongRequest = { ...input, createdAt: now.toISOString() };
  const queue = [...session.queue.slice(0, index), request, ...session.queue.slice(index)];
  return { session: touch(session, now, { queue }), position: index + 1 };
}

export type Actor = { role: 'host' } | { role: 'guest'; singer: StoredSinger };

export function cancelRequest(session: StoredSession, requestId: string, actor: Actor, now: Date): StoredSession {
  const index = session.queue.findIndex((r) => r.id === requestId);
  if (index === -1) {
    if (session.nowSinging?.id === requestId) throw Errors.alreadySinging();
    throw Errors.requestNotFound();
  }
  if (actor.role === 'guest' && session.queue[index]!.singer.id !== actor.singer.id) throw Errors.notYours();
  return touch(session, now, { queue: session.queue.filter((_, i) => i !== index) });
}

/** Host reorder to a 1-based position; positions past the end mean "last". */
export function moveRequest(session: StoredSession, requestId: string, position: number, now: Date): StoredSession {
  const from = session.queue.findIndex((r) => r.id === requestId);
  if (from === -1) throw Errors.requestNotFound();
  const to = Math.min(position, session.queue.length) - 1;
  const queue = session.queue.filter((_, i) => i !== from);
  queue.splice(to, 0, session.queue[from]!);
  return touch(session, now, { queue });
}

export function advance(
  session: StoredSession,
  outcome: Outcome,
  now: Date,
  expectedCurrentId?: string | null,
): StoredSession {
  // A host double-tapping "next" on a slow phone must not skip a second singer.
  if (expectedCurrentId !== undefined && (session.nowSinging?.id ?? null) !== expectedCurrentId) {
    throw Errors.staleState();
  }
  if (!session.nowSinging && session.queue.length === 0) throw Errors.nothingToAdvance();
  const at = now.toISOString();
  const history: PastRequest[] = session.nowSinging
    ? [...session.history, { ...session.nowSinging, endedAt: at, outcome }]
    : [...session.history];
  const [head, ...rest] = session.queue;
  return touch(session, now, {
    history,
    queue: rest,
    nowSinging: head ? { ...head, startedAt: at } : null,
  });
}
