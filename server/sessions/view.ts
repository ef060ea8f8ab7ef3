import { sessionLinks } from '../model/links.js';
import { RECENT_HISTORY, type HistoryPage, type PublicState } from '../model/public-state.js';
import { heldSingers, nightOver, type PastRequest, type SongRequest, type StoredSession } from '../model/session.js';
import { averageSongMs, queueStartsMs, schedule, type Schedule } from './eta.js';
import { undoOffer } from './undo.js';

export type { HistoryPage, PublicState } from '../model/public-state.js';

interface Cached {
  publicUrl: string | undefined;
  /** `{"id":…` up to and including `"displayUrl":"…",` */
  head: Buffer;
  songMs: number;
  /** From `"averageSongSeconds"` to the end, for the last start time asked for. */
  tail: { firstStartMs: number; bytes: Buffer } | undefined;
}

// Sessions and their requests are immutable (every change builds new objects), so JSON made
// from them can be cached by identity. The estimates only move when the queue's start time
// does, which, while a song is being sung on time, it does not: a read then formats one date.
const sessionCache = new WeakMap<StoredSession, Cached>();
// Queued and playing requests get fields appended (open); past ones are sent whole (closed).
const openCache = new WeakMap<SongRequest, string>();
const closedCache = new WeakMap<SongRequest, string>();
/** The history's part of the state, per history array (a next makes a new one, a rename keeps it). */
const historyCache = new WeakMap<readonly PastRequest[], string>();
/** The same once the night is over: the counts without the names (see nightOver). */
const hiddenHistoryCache = new WeakMap<readonly PastRequest[], string>();

// The average song length reads every song of the night (two date parses each): on a night of 300
// songs that was most of the cost of a state after a rename or a move, which keep the history.
const songMsCache = new WeakMap<readonly PastRequest[], number>();
function songMs(history: readonly PastRequest[]): number {
  let ms = songMsCache.get(history);
  if (ms === undefined) songMsCache.set(history, (ms = averageSongMs({ history })));
  return ms;
}

/** An item's JSON, cached by identity; without its closing brace when open, so fields can be appended. */
function cachedJson(item: SongRequest, open: boolean): string {
  const cache = open ? openCache : closedCache;
  let json = cache.get(item);
  if (json === undefined) {
    json = JSON.stringify(item);
    if (open) json = json.slice(0, -1);
    cache.set(item, json);
  }
  return json;
}

/**
 * Only the newest songs of the night and the counts: a long night's whole history would make
 * every state and every event-stream frame grow without bound. The rest is paged from /history.
 */
function historyJson(history: readonly PastRequest[], hidden: boolean): string {
  const cache = hidden ? hiddenHistoryCache : historyCache;
  let json = cache.get(history);
  if (json === undefined) {
    const recent = hidden ? [] : history.slice(-RECENT_HISTORY).map((p) => cachedJson(p, false));
    let sung = 0;
    for (const p of history) if (p.outcome === 'sung') sung += 1;
    json = `"historyCount":${history.length},"sungCount":${sung},"history":[${recent.join(',')}],"historyHidden":${hidden}`;
    cache.set(history, json);
  }
  return json;
}

function cached(session: StoredSession, publicUrl: string | undefined): Cached {
  let entry = sessionCache.get(session);
  if (entry === undefined || entry.publicUrl !== publicUrl) {
    const links = sessionLinks(session, publicUrl);
    const { id, name, status, rotation, maxQueuedPerSinger, endsAt, createdAt, updatedAt, version, night, nightStartedAt, requests, songbook } = session;
    const joinsOpen = session.joinsOpen !== false;
    const fields = { id, name, status, rotation, maxQueuedPerSinger, endsAt, createdAt, updatedAt, version, night, nightStartedAt, requests, songbook, joinsOpen };
    const head = `${JSON.stringify({ ...fields, ...links }).slice(0, -1)},`;
    entry = { publicUrl, head: Buffer.from(head), songMs: songMs(session.history), tail: undefined };
    sessionCache.set(session, entry);
  }
  return entry;
}

const isoAt = (ms: number) => new Date(ms).toISOString();

/** A queued request as the state shows it: its place, whether its singer is on hold, when it should start. */
function queuedJson(r: SongRequest, index: number, start: number | null, held: ReadonlySet<string>): string {
  const eta = start === null ? 'null' : `"${isoAt(start)}"`;
  return `${cachedJson(r, true)},"position":${index + 1},"onHold":${held.has(r.singer.id)},"estimatedStartAt":${eta}}`;
}

function tailBytes(session: StoredSession, plan: Schedule): Buffer {
  const playing = session.nowSinging;
  const nowSinging = playing ? `${cachedJson(playing, true)},"estimatedEndAt":"${isoAt(plan.firstStartMs)}"}` : 'null';
  const held = heldSingers(session);
  const starts = queueStartsMs(session, plan);
  const queue = session.queue.map((r, i) => queuedJson(r, i, starts[i]!, held));
  return Buffer.from(
    `"averageSongSeconds":${Math.round(plan.songMs / 1000)},"singerCount":${session.singers.length},` +
      `"nowSinging":${nowSinging},"queue":[${queue.join(',')}],${historyJson(session.history, nightOver(session))}}`,
  );
}

/**
 * The public state as JSON bytes, the one serializer of it: reads, event streams and the host's
 * answers send this, built from cached pieces so a read does not re-serialise the queue.
 */
export function publicStateBytes(session: StoredSession, publicUrl: string | undefined, nowMs: number): Buffer {
  const entry = cached(session, publicUrl);
  const plan = schedule(session, nowMs, entry.songMs);
  if (entry.tail?.firstStartMs !== plan.firstStartMs) entry.tail = { firstStartMs: plan.firstStartMs, bytes: tailBytes(session, plan) };
  // The undo offer expires with time, so it is made for each answer, like generatedAt.
  const undo = JSON.stringify(undoOffer(session, nowMs));
  return Buffer.concat([entry.head, Buffer.from(`"generatedAt":"${isoAt(nowMs)}","undo":${undo},`), entry.tail.bytes]);
}

/**
 * One queued request as the state would show it, without building the state: a guest's new request
 * is answered with its own entry, and parsing the whole state back to pick it out was a fifth of
 * that answer's cost.
 */
export function queuedRequestJson(session: StoredSession, nowMs: number, index: number): string {
  const plan = schedule(session, nowMs, songMs(session.history));
  return queuedJson(session.queue[index]!, index, queueStartsMs(session, plan)[index]!, heldSingers(session));
}

/** The same state as an object, for the few answers that wrap it in more (a new session, a new request). */
export function publicState(session: StoredSession, publicUrl: string | undefined, nowMs: number): PublicState {
  return JSON.parse(publicStateBytes(session, publicUrl, nowMs).toString('utf8')) as PublicState;
}

/**
 * A page of tonight's history, oldest first: the songs at positions [start, before) with at most
 * `limit` of them, and `nextBefore` for the page before it (null at the night's first song).
 * `before` past the end (a page asked for just before an undo) reads as the end.
 */
export function historyPageBytes(session: StoredSession, before: number | undefined, limit: number): Buffer {
  const { history } = session;
  const end = Math.min(before ?? history.length, history.length);
  const start = Math.max(0, end - limit);
  const items = history.slice(start, end).map((p) => cachedJson(p, false));
  const page: Omit<HistoryPage, 'history'> = { night: session.night, historyCount: history.length, start, nextBefore: start > 0 ? start : null };
  return Buffer.from(`${JSON.stringify(page).slice(0, -1)},"history":[${items.join(',')}]}`);
}
