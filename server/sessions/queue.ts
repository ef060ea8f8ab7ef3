import { Errors } from '../errors.js';
import {
  heldSingers,
  sameName,
  sameSong,
  type Outcome,
  type PastRequest,
  type RequestMode,
  type Rotation,
  type SingerRef,
  type SongRequest,
  type Status,
  type StoredSession,
  type StoredSinger,
  type UndoEntry,
} from '../model/session.js';
import type { NightLimits } from '../config.js';
import type { ArchivedNight } from '../model/night.js';
import type { Song } from '../model/song.js';
import type { Actor } from './auth.js';
import { estimatedStartMs, schedule, startSlots } from './eta.js';
import { assertCanJoin, assertRoomForSinger, assertRoomForSong, DEFAULT_LIMITS } from './limits.js';
import { fairInsertIndex, reflow } from './rotation.js';
import { forgetRequest, pushUndo, undoChanges } from './undo.js';

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
    night: 1,
    nightStartedAt: at,
    requests: 'any',
    songbook: null,
    pastKeyHashes: [],
    undo: [],
  };
}

function touch(session: StoredSession, now: Date, changes: Partial<StoredSession>): StoredSession {
  return { ...session, ...changes, version: session.version + 1, updatedAt: now.toISOString() };
}

/** The session's undo stack with the host's (or guest `by`'s) action on top. */
const remember = (session: StoredSession, now: Date, label: string, action: UndoEntry['action'], by: string | null = null, stack = session.undo) =>
  pushUndo(stack, { label, at: now.toISOString(), by, action }, now);

const quoted = (title: string) => `“${title}”`;
const STATUS_LABELS = { open: 'reopen requests', paused: 'pause requests', closed: 'close the session' } as const;

export interface SettingsPatch {
  name?: string | undefined;
  status?: Status | undefined;
  rotation?: Rotation | undefined;
  maxQueuedPerSinger?: number | undefined;
  endsAt?: string | null | undefined;
  requests?: RequestMode | undefined;
  joinsOpen?: boolean | undefined;
}

export function updateSettings(session: StoredSession, patch: SettingsPatch, now: Date): StoredSession {
  const changes: { -readonly [K in keyof StoredSession]?: StoredSession[K] } = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.status !== undefined) changes.status = patch.status;
  if (patch.rotation !== undefined) changes.rotation = patch.rotation;
  if (patch.maxQueuedPerSinger !== undefined) changes.maxQueuedPerSinger = patch.maxQueuedPerSinger;
  if (patch.endsAt !== undefined) changes.endsAt = patch.endsAt;
  if (patch.requests !== undefined) changes.requests = patch.requests;
  // Stored only while closed, so a night that never closed joins is stored as before.
  let next = session;
  if (patch.joinsOpen === true && session.joinsOpen !== undefined) {
    const { joinsOpen: _closed, ...open } = session;
    next = open;
  } else if (patch.joinsOpen === false) changes.joinsOpen = false;
  if (patch.status !== undefined && patch.status !== session.status) {
    changes.undo = remember(session, now, STATUS_LABELS[patch.status], { kind: 'status', from: session.status });
  }
  // Switching rotation does not reorder what is queued; it decides where new requests go.
  return touch(next, now, changes);
}

function assertTakesRequests(session: StoredSession): void {
  if (session.status === 'closed') throw Errors.sessionClosed();
  if (session.status === 'paused') throw Errors.sessionPaused();
}

/** A phone joins: refused while requests are paused or closed, joins are closed, the night is full or the name is taken. */
export function addSinger(session: StoredSession, singer: StoredSinger, now: Date, limits: NightLimits = DEFAULT_LIMITS): StoredSession {
  assertCanJoin(session, singer.name, limits);
  return touch(session, now, { singers: [...session.singers, singer] });
}

/** The host's walk-in singer of that name, reused so a walk-in's second song rotates fairly. */
export function findWalkIn(session: StoredSession, name: string): StoredSinger | undefined {
  return session.singers.find((s) => s.keyHash === null && sameName(s.name, name));
}

export interface NewRequest {
  id: string;
  singer: SingerRef;
  title: string;
  artist: string;
  link: string | null;
  songId?: string;
  inSongbook?: boolean;
}

/** Where a new request goes, after the checks every request passes; throws an HttpError. */
function placeRequest(session: StoredSession, input: NewRequest, now: Date, limits: NightLimits): { queue: SongRequest[]; index: number } {
  assertTakesRequests(session);
  assertRoomForSong(session, limits);
  const mine = session.queue.filter((r) => r.singer.id === input.singer.id);
  if (mine.length >= session.maxQueuedPerSinger) throw Errors.queueLimit(session.maxQueuedPerSinger);
  if (mine.some((r) => sameSong(r, input))) throw Errors.duplicate();
  const index = session.rotation === 'fifo' ? session.queue.length : fairInsertIndex(session, input.singer.id);
  const held = heldSingers(session);
  // A song on hold has no start time to be too late for; the others start in the slots left.
  const slot = startSlots([...session.queue.slice(0, index), input], held)[index];
  if (session.endsAt !== null && slot != null && estimatedStartMs(schedule(session, now.getTime()), slot) > Date.parse(session.endsAt)) {
    throw Errors.pastEnd();
  }
  const { songId, inSongbook, ...fields } = input;
  const request: SongRequest = {
    ...fields,
    createdAt: now.toISOString(),
    ...(songId !== undefined ? { songId } : {}),
    ...(inSongbook !== undefined ? { inSongbook } : {}),
  };
  return { queue: [...session.queue.slice(0, index), request, ...session.queue.slice(index)], index };
}

export function addRequest(
  session: StoredSession,
  input: NewRequest,
  now: Date,
  limits: NightLimits = DEFAULT_LIMITS,
): { session: StoredSession; position: number } {
  const { queue, index } = placeRequest(session, input, now, limits);
  return { session: touch(session, now, { queue }), position: index + 1 };
}

export interface SongInput {
  /** Typed in by hand; or `song`, picked from the songbook. */
  title?: string | undefined;
  song?: Pick<Song, 'id' | 'title' | 'artist'> | undefined;
  artist?: string | undefined;
  link?: string | undefined;
  /** The host names the walk-in singer a request is for; guests request for themselves. */
  singerName?: string | undefined;
  /** Or the host picks a singer who is already in (a guest who joined by phone) by id. */
  singerId?: string | undefined;
}

/**
 * A song request by a guest (for themselves) or by the host (for a walk-in, added as a singer
 * without a key if the name is new, reused if the host named them before). One change, one version.
 * `ids` are the ids to use for the request and, if one is made, the walk-in.
 */
export function requestSong(
  session: StoredSession,
  actor: Actor,
  input: SongInput,
  ids: { request: string; singer: string },
  now: Date,
  limits: NightLimits = DEFAULT_LIMITS,
): { session: StoredSession; position: number } {
  let singer: StoredSinger;
  let singers = session.singers;
  if (actor.role === 'guest') {
    if (input.singerName !== undefined || input.singerId !== undefined) throw Errors.hostOnly();
    singer = actor.singer;
  } else if (input.singerId !== undefined) {
    const chosen = session.singers.find((s) => s.id === input.singerId);
    if (!chosen) throw Errors.singerNotFound();
    singer = chosen;
  } else {
    if (input.singerName === undefined) throw Errors.invalidInput('the host must name the walk-in singer', 'singerName');
    const known = findWalkIn(session, input.singerName);
    if (known) singer = known;
    else {
      assertTakesRequests(session);
      // Someone of that name joined by phone: the host says whether it is them (singerId) or another (an initial).
      const guest = session.singers.find((s) => sameName(s.name, input.singerName!));
      if (guest) throw Errors.walkInNameTaken({ id: guest.id, name: guest.name });
      assertRoomForSinger(session, limits);
      singer = { id: ids.singer, name: input.singerName, keyHash: null, createdAt: now.toISOString() };
      singers = [...singers, singer];
    }
  }
  // Fields in the schema's order: a reload re-serialises sessions in that order, and the bytes must match.
  const ref = { id: singer.id, name: singer.name };
  const link = input.link ?? null;
  let request: NewRequest;
  if (input.song) {
    request = { id: ids.request, singer: ref, title: input.song.title, artist: input.song.artist, link, songId: input.song.id };
  } else {
    if (input.title === undefined) throw Errors.invalidInput('name the song (title) or pick one from the songbook (songId)', 'title');
    // A songbook room may refuse anything else; otherwise the host sees what is not in the list.
    if (session.songbook !== null && session.requests === 'songbook') throw Errors.notInSongbook();
    request = { id: ids.request, singer: ref, title: input.title, artist: input.artist ?? '', link, ...(session.songbook !== null ? { inSongbook: false } : {}) };
  }
  const { queue, index } = placeRequest(session, request, now, limits);
  const undo =
    actor.role === 'host'
      ? remember(session, now, `walk-in ${singer.name}: ${quoted(request.title)}`, { kind: 'walkIn', requestId: request.id, singerId: singers === session.singers ? null : singer.id })
      : session.undo;
  return { session: touch(session, now, { singers, queue, undo }), position: index + 1 };
}

export function cancelRequest(session: StoredSession, requestId: string, actor: Actor, now: Date): StoredSession {
  const index = session.queue.findIndex((r) => r.id === requestId);
  if (index === -1) {
    if (session.nowSinging?.id === requestId) throw Errors.alreadySinging();
    throw Errors.requestNotFound();
  }
  const request = session.queue[index]!;
  if (actor.role === 'guest' && request.singer.id !== actor.singer.id) throw Errors.notYours();
  const rest = session.queue.filter((_, i) => i !== index);
  // The singer's other songs are not left behind: one round fewer, they are placed again.
  const queue = session.rotation === 'fair' ? reflow({ ...session, queue: rest }, [request.singer.id]) : rest;
  const label = actor.role === 'host' ? `remove ${quoted(request.title)}` : `cancel ${quoted(request.title)}`;
  const by = actor.role === 'host' ? null : actor.singer.id;
  const undo = remember(session, now, label, { kind: 'cancel', request, index }, by, forgetRequest(session.undo, request.id));
  return touch(session, now, { queue, undo });
}

/** Host reorder to a 1-based position; positions past the end mean "last". */
export function moveRequest(session: StoredSession, requestId: string, position: number, now: Date): StoredSession {
  const from = session.queue.findIndex((r) => r.id === requestId);
  if (from === -1) throw Errors.requestNotFound();
  const to = Math.min(position, session.queue.length) - 1;
  const moved = session.queue[from]!;
  const queue = session.queue.filter((_, i) => i !== from);
  // Pinned: rotation leaves a song the host placed where the host put it.
  queue.splice(to, 0, moved.pinned === true ? moved : { ...moved, pinned: true });
  const undo = remember(session, now, `move ${quoted(moved.title)}`, { kind: 'move', requestId: requestId, from, pinned: moved.pinned === true });
  return touch(session, now, { queue, undo });
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
  // Songs on hold are passed over: the first song not on hold comes on stage.
  const held = heldSingers(session);
  const index = session.queue.findIndex((r) => !held.has(r.singer.id));
  if (!session.nowSinging && index === -1) throw Errors.nothingToAdvance(session.queue.length > 0);
  const at = now.toISOString();
  const ended = session.nowSinging;
  const history: PastRequest[] = ended ? [...session.history, { ...ended, endedAt: at, outcome }] : [...session.history];
  const head = index === -1 ? undefined : session.queue[index]!;
  let queue = session.queue.filter((_, i) => i !== index);
  let nowSinging: StoredSession['nowSinging'] = null;
  if (head) {
    const { pinned: _pinned, ...request } = head;
    nowSinging = { ...request, startedAt: at };
  }
  // A skipped song was no turn: that singer's next songs catch up.
  if (ended && outcome === 'skipped' && session.rotation === 'fair') queue = reflow({ ...session, history, nowSinging, queue }, [ended.singer.id]);
  const label = ended && outcome === 'skipped' ? `skip ${ended.singer.name}` : ended ? 'next' : `start with ${head!.singer.name}`;
  const undo = remember(session, now, label, { kind: 'next', ended: ended?.id ?? null, started: head?.id ?? null });
  return touch(session, now, { history, queue, nowSinging, undo });
}

/** A singer on hold (a guest for themselves, the host for anyone), or back. */
export function setHold(session: StoredSession, singerId: string, onHold: boolean, actor: Actor, now: Date): StoredSession {
  const singer = session.singers.find((s) => s.id === singerId);
  if (!singer) throw Errors.singerNotFound();
  if (actor.role === 'guest' && actor.singer.id !== singerId) throw Errors.notYourHold();
  if ((singer.onHold === true) === onHold) return session;
  // Held songs keep their places, so a singer who is back is where the rotation had them.
  const { onHold: _was, ...rest } = singer;
  const changed: StoredSinger = onHold ? { ...rest, onHold: true } : rest;
  return touch(session, now, { singers: session.singers.map((s) => (s === singer ? changed : s)) });
}

/** Undo the actor's newest undoable action (see undo.ts); 409 nothing_to_undo if there is none. */
export function undo(session: StoredSession, actor: Actor, now: Date, limits: NightLimits = DEFAULT_LIMITS): StoredSession {
  return touch(session, now, undoChanges(session, actor, now, limits));
}

/**
 * End tonight and start a fresh night in the same room: the songs, the singer on stage, the queue
 * and the singers go to the archive; the code, QR, keys, settings and songbook stay. The singer on
 * stage counts as sung. Guests of tonight are remembered by key hash, so their phones can be told.
 */
export function startNight(session: StoredSession, now: Date): { session: StoredSession; archived: ArchivedNight } {
  const at = now.toISOString();
  const songs = session.nowSinging ? [...session.history, { ...session.nowSinging, endedAt: at, outcome: 'sung' as const }] : session.history;
  const archived: ArchivedNight = {
    night: session.night,
    startedAt: session.nightStartedAt,
    endedAt: at,
    songs,
    unsung: session.queue,
    singers: session.singers.map(({ id, name }) => ({ id, name })),
  };
  const pastKeyHashes = session.singers.flatMap((s) => (s.keyHash === null ? [] : [s.keyHash]));
  return {
    archived,
    session: touch(session, now, {
      status: 'open',
      singers: [],
      queue: [],
      nowSinging: null,
      history: [],
      night: session.night + 1,
      nightStartedAt: at,
      pastKeyHashes,
      undo: [],
    }),
  };
}

/** The room's songbook changed (a new upload, or none any more). */
export function setSongbook(session: StoredSession, songbook: StoredSession['songbook'], now: Date): StoredSession {
  return touch(session, now, { songbook });
}
