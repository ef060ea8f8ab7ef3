import { averageSongMs, nextStartMs } from './eta.js';
import type { PastRequest, PlayingRequest, SongRequest, StoredSession } from './model.js';

export interface PublicRequest extends SongRequest {
  position: number;
  estimatedStartAt: string;
}

export interface PublicNowSinging extends PlayingRequest {
  estimatedEndAt: string;
}

export interface PublicState {
  id: string;
  name: string;
  status: StoredSession['status'];
  rotation: StoredSession['rotation'];
  maxQueuedPerSinger: number;
  endsAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
  /** The server's clock when this state was made, so clients can correct their own. */
  generatedAt: string;
  averageSongSeconds: number;
  singerCount: number;
  nowSinging: PublicNowSinging | null;
  queue: PublicRequest[];
  history: readonly PastRequest[];
}

export interface SessionLinks {
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
}

export function sessionLinks(session: StoredSession, publicUrl: string | undefined): SessionLinks {
  const origin = publicUrl ?? session.origin;
  return {
    joinUrl: `${origin}/s/${session.id}`,
    qrUrl: `${origin}/qr-codes/${session.id}.png`,
    displayUrl: `${origin}/display/${session.id}`,
  };
}

/** The public state: no key or hash ever leaves through here. */
export function publicState(session: StoredSession, publicUrl: string | undefined, nowMs: number): PublicState {
  const avg = averageSongMs(session);
  const start = nextStartMs(session, nowMs, avg);
  const playing = session.nowSinging;
  return {
    id: session.id,
    name: session.name,
    status: session.status,
    rotation: session.rotation,
    maxQueuedPerSinger: session.maxQueuedPerSinger,
    endsAt: session.endsAt,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    version: session.version,
    ...sessionLinks(session, publicUrl),
    generatedAt: new Date(nowMs).toISOString(),
    averageSongSeconds: Math.round(avg / 1000),
    singerCount: session.singers.length,
    nowSinging: playing ? { ...playing, estimatedEndAt: new Date(start).toISOString() } : null,
    queue: session.queue.map((r, i) => ({
      ...r,
      position: i + 1,
      estimatedStartAt: new Date(start + i * avg).toISOString(),
    })),
    history: session.history,
  };
}

interface Cached {
  publicUrl: string | undefined;
  /** `{"id":…` up to and including `"displayUrl":"…",` */
  head: string;
  headBytes: Buffer;
  avgMs: number;
  /** From `"averageSongSeconds"` to the end, for the last start time asked for. */
  tail: { start: number; json: string; bytes: Buffer | undefined } | undefined;
}

// Sessions and their requests are immutable (every change builds new objects), so JSON made
// from them can be cached by identity. The estimates only move when the queue's start time
// does, which, while a song is being sung on time, it does not: a read then formats one date.
const sessionCache = new WeakMap<StoredSession, Cached>();
const itemCache = new WeakMap<object, string>();
const historyCache = new WeakMap<readonly PastRequest[], string>();

/** The object's JSON without its closing brace, so fields can be appended in spread order. */
function openJson(item: SongRequest): string {
  let json = itemCache.get(item);
  if (json === undefined) {
    json = JSON.stringify(item).slice(0, -1);
    itemCache.set(item, json);
  }
  return json;
}

function cached(session: StoredSession, publicUrl: string | undefined): Cached {
  let entry = sessionCache.get(session);
  if (entry === undefined || entry.publicUrl !== publicUrl) {
    const links = sessionLinks(session, publicUrl);
    const { id, name, status, rotation, maxQueuedPerSinger, endsAt, createdAt, updatedAt, version } = session;
    const head = `${JSON.stringify({ id, name, status, rotation, maxQueuedPerSinger, endsAt, createdAt, updatedAt, version, ...links }).slice(0, -1)},`;
    entry = { publicUrl, head, headBytes: Buffer.from(head), avgMs: averageSongMs(session), tail: undefined };
    sessionCache.set(session, entry);
  }
  return entry;
}

function tailFor(session: StoredSession, entry: Cached, start: number): NonNullable<Cached['tail']> {
  if (entry.tail?.start === start) return entry.tail;
  const { avgMs } = entry;
  const playing = session.nowSinging;
  const nowSinging = playing ? `${openJson(playing)},"estimatedEndAt":"${new Date(start).toISOString()}"}` : 'null';
  const queue = session.queue.map(
    (r, i) => `${openJson(r)},"position":${i + 1},"estimatedStartAt":"${new Date(start + i * avgMs).toISOString()}"}`,
  );
  let history = historyCache.get(session.history);
  if (history === undefined) {
    history = JSON.stringify(session.history);
    historyCache.set(session.history, history);
  }
  const json = `"averageSongSeconds":${Math.round(avgMs / 1000)},"singerCount":${session.singers.length},"nowSinging":${nowSinging},"queue":[${queue.join(',')}],"history":${history}}`;
  entry.tail = { start, json, bytes: undefined };
  return entry.tail;
}

const generatedAt = (nowMs: number) => `"generatedAt":"${new Date(nowMs).toISOString()}",`;

/**
 * Exactly `JSON.stringify(publicState(session, publicUrl, nowMs))`, built from cached pieces:
 * reads and event streams send this on every request, so it must not re-serialise the queue.
 */
export function publicStateJson(session: StoredSession, publicUrl: string | undefined, nowMs: number): string {
  const entry = cached(session, publicUrl);
  const tail = tailFor(session, entry, nextStartMs(session, nowMs, entry.avgMs));
  return `${entry.head}${generatedAt(nowMs)}${tail.json}`;
}

/** The same as UTF-8 bytes, for a response body: the cached parts are encoded once, not per read. */
export function publicStateBytes(session: StoredSession, publicUrl: string | undefined, nowMs: number): Buffer {
  const entry = cached(session, publicUrl);
  const tail = tailFor(session, entry, nextStartMs(session, nowMs, entry.avgMs));
  tail.bytes ??= Buffer.from(tail.json);
  return Buffer.concat([entry.headBytes, Buffer.from(generatedAt(nowMs)), tail.bytes]);
}

/** One queue entry as `publicState` shows it. */
export function publicRequestAt(session: StoredSession, index: number, nowMs: number): PublicRequest {
  const avg = averageSongMs(session);
  return {
    ...session.queue[index]!,
    position: index + 1,
    estimatedStartAt: new Date(nextStartMs(session, nowMs, avg) + index * avg).toISOString(),
  };
}
