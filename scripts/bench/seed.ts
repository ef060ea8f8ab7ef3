// Fills a DATA_DIR the way a season of nights would: sessions made through the real API (singers,
// queued songs, songs already sung), then, with the server stopped, cloned into a larger data.json
// so a 10,000-session store does not take half an hour of HTTP to build.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SESSION_ID_ALPHABET, SESSION_ID_LENGTH, type PastRequest, type SongRequest, type StoredSession } from '../../server/model/session.js';
import { writeFileDurable } from '../../server/lib/durable-file.js';
import { hashKey, newKey } from '../../server/sessions/auth.js';
import { createSession } from '../../server/sessions/queue.js';
import { DATA_FILE, readStoredData, serializeData } from '../../server/store/index.js';

/** A small deterministic PRNG (mulberry32): the same seed gives the same store in every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ana', 'Ben', 'Chloé', 'Dmitri', 'Emma', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kasia', 'Léa', 'Marco', 'Noor', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tomás', 'Uma', 'Vik', 'Wren', 'Yara', 'Zoë', '美咲'];
const SONGS: [string, string][] = [
  ['Bohemian Rhapsody', 'Queen'], ["Don't Stop Believin'", 'Journey'], ['I Will Survive', 'Gloria Gaynor'],
  ['Dancing Queen', 'ABBA'], ['Livin’ on a Prayer', 'Bon Jovi'], ['Total Eclipse of the Heart', 'Bonnie Tyler'],
  ['Wonderwall', 'Oasis'], ['Mr. Brightside', 'The Killers'], ['Africa', 'Toto'], ['Valerie', 'Amy Winehouse'],
  ['Sweet Caroline', 'Neil Diamond'], ['Rolling in the Deep', 'Adele'], ['Hey Jude', 'The Beatles'],
  ['Zombie', 'The Cranberries'], ['Shallow', 'Lady Gaga & Bradley Cooper'], ['Toxic', 'Britney Spears'],
  ['Take On Me', 'a-ha'], ['I Want It That Way', 'Backstreet Boys'], ['Purple Rain', 'Prince'],
  ['99 Luftballons', 'Nena'], ['La Bamba', 'Ritchie Valens'], ['Respect', 'Aretha Franklin'],
];

export interface Api {
  url: string;
  call<T = unknown>(method: string, pathname: string, body?: unknown, key?: string): Promise<T>;
}

export function api(url: string): Api {
  return {
    url,
    async call<T>(method: string, pathname: string, body?: unknown, key?: string): Promise<T> {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (key) headers.Authorization = `Bearer ${key}`;
      const res = await fetch(`${url}${pathname}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

export interface SessionProfile {
  singers: number;
  queued: number;
  /** Songs already sung; one more is being sung whenever this is above zero. */
  sung: number;
}

export interface SeededSession {
  id: string;
  hostKey: string;
}

/** Make one session through the API: create, join, request, and let the host advance through the sung songs. */
export async function seedSession(client: Api, name: string, profile: SessionProfile, random: () => number): Promise<SeededSession> {
  const created = await client.call<{ session: { id: string }; hostKey: string }>('POST', '/api/sessions', { name });
  const { id } = created.session;
  const { hostKey } = created;
  const singers: { key: string; songs: number }[] = [];
  for (let i = 0; i < profile.singers; i += 1) {
    const name = `${FIRST[Math.floor(random() * FIRST.length)]} ${i + 1}`;
    const joined = await client.call<{ guestKey: string }>('POST', `/api/sessions/${id}/singers`, { name });
    singers.push({ key: joined.guestKey, songs: 0 });
  }
  let turn = 0;
  const request = async () => {
    const singer = singers[turn % singers.length]!;
    turn += 1;
    const [title, artist] = SONGS[(singer.songs * 7 + turn) % SONGS.length]!;
    singer.songs += 1;
    const link = random() < 0.3 ? `https://www.youtube.com/watch?v=${Math.floor(random() * 1e11).toString(36)}` : undefined;
    // The song number keeps a singer's titles distinct once the list wraps around.
    await client.call('POST', `/api/sessions/${id}/requests`, { title: `${title} (${singer.songs})`, artist, ...(link ? { link } : {}) }, singer.key);
  };
  // Each singer may hold 3 songs at once, so sung songs go through the queue in rounds.
  let toAdvance = profile.sung > 0 ? profile.sung + 1 : 0;
  while (toAdvance > 0) {
    const round = Math.min(toAdvance, 3 * singers.length);
    for (let i = 0; i < round; i += 1) await request();
    for (let i = 0; i < round; i += 1) await client.call('POST', `/api/sessions/${id}/next`, {}, hostKey);
    toAdvance -= round;
  }
  for (let i = 0; i < Math.min(profile.queued, 3 * singers.length); i += 1) await request();
  return { id, hostKey };
}

/** The session every read and fan-out scenario uses: a busy night, 30 songs waiting. */
export const HOT_PROFILE: SessionProfile = { singers: 15, queued: 30, sung: 12 };

/** A mix of small and busy sessions, about 3 KB each on disk. */
export function typicalProfile(random: () => number): SessionProfile {
  const singers = 1 + Math.floor(random() * 12);
  return { singers, queued: Math.floor(random() * 9), sung: Math.floor(random() * 9) };
}

/** Seed `count` sessions (the first one hot) through the API, `concurrency` sessions at a time. */
export async function seedThroughApi(url: string, count: number, concurrency = 8, seed = 1): Promise<{ hot: SeededSession; sessions: SeededSession[] }> {
  const client = api(url);
  const random = rng(seed);
  const profiles = Array.from({ length: count }, (_, i) => (i === 0 ? HOT_PROFILE : typicalProfile(random)));
  const sessions: SeededSession[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      sessions[i] = await seedSession(client, `Night ${i + 1}`, profiles[i]!, rng(seed + i + 1));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { hot: sessions[0]!, sessions };
}

/**
 * Write `target` sessions into `toDir`/data.json: the hot one and the other seeded ones as they
 * are, then copies of the seeded ones (never of the hot one: a store full of 30-song queues is not
 * what a venue holds) under fresh ids until the count is reached. Returns every session id.
 */
export async function padStore(fromDir: string, toDir: string, target: number, hotId: string, seed = 2): Promise<string[]> {
  // What a restart would load: data.json with the journal replayed onto it.
  const data = await readStoredData(fromDir);
  const hot = data.sessions[hotId];
  if (!hot) throw new Error(`session ${hotId} is not in ${fromDir}`);
  const templates = Object.values(data.sessions).filter((s) => s.id !== hotId);
  if (templates.length === 0) throw new Error(`no sessions besides ${hotId} in ${fromDir} to copy`);
  const random = rng(seed);
  const sessions: Record<string, StoredSession> = { [hotId]: hot };
  for (const s of templates.slice(0, target - 1)) sessions[s.id] = s;
  let count = Object.keys(sessions).length;
  while (count < target) {
    let id = '';
    do {
      id = Array.from({ length: SESSION_ID_LENGTH }, () => SESSION_ID_ALPHABET[Math.floor(random() * SESSION_ID_ALPHABET.length)]).join('');
    } while (Object.hasOwn(sessions, id));
    const template = templates[count % templates.length]!;
    sessions[id] = { ...template, id, name: `${template.name} (${count + 1})` };
    count += 1;
  }
  await fs.mkdir(toDir, { recursive: true });
  await writeFileDurable(path.join(toDir, DATA_FILE), serializeData({ version: data.version, sessions }));
  return Object.keys(sessions);
}

export async function fileSize(dataDir: string): Promise<number> {
  return (await fs.stat(path.join(dataDir, DATA_FILE))).size;
}

export interface BuiltSession extends SeededSession {
  session: StoredSession;
}

/**
 * A night built as plain data, not through the API: `singers` guests, `sung` songs in history and
 * one being sung, `queued` waiting (round-robin over the singers), fair rotation. The host key is
 * returned; the guests' keys are random and thrown away (the scenarios act as the host or join).
 */
export function builtSession(id: string, profile: SessionProfile, random: () => number): BuiltSession {
  const hostKey = newKey();
  // Songs of 5.5 minutes, the one on stage started now: it stays on time through a benchmark run,
  // as the busy seeded session's does, so estimates (and the cached state) hold still while it lasts.
  const at = Date.now() - profile.sung * 360_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const base = createSession({ id, name: `Big night ${id}`, hostKeyHash: hashKey(hostKey), origin: 'http://127.0.0.1', now: new Date(at) });
  const singers = Array.from({ length: profile.singers }, (_, i) => ({
    id: `s${id}${String(i).padStart(5, '0')}`,
    name: `${FIRST[Math.floor(random() * FIRST.length)]} ${i + 1}`,
    keyHash: hashKey(newKey()),
    createdAt: iso(at + i),
  }));
  let serial = 0;
  const song = (i: number): SongRequest => {
    const singer = singers[i % Math.max(1, singers.length)]!;
    const [title, artist] = SONGS[(i * 7) % SONGS.length]!;
    serial += 1;
    return { id: `r${id}${String(serial).padStart(6, '0')}`, singer: { id: singer.id, name: singer.name }, title: `${title} (${i + 1})`, artist, link: null, createdAt: iso(at + i) };
  };
  const history: PastRequest[] = Array.from({ length: profile.sung }, (_, i) => {
    const startedAt = at + i * 360_000;
    return { ...song(i), startedAt: iso(startedAt), endedAt: iso(startedAt + 330_000), outcome: 'sung' as const };
  });
  const nowSinging = profile.sung > 0 ? { ...song(profile.sung), startedAt: iso(at + profile.sung * 360_000) } : null;
  const queue = Array.from({ length: profile.queued }, (_, i) => song(profile.sung + 1 + i));
  const session: StoredSession = { ...base, singers, history, nowSinging, queue, maxQueuedPerSinger: 20, version: 1 + singers.length + history.length + queue.length };
  return { id, hostKey, session };
}

/** Add sessions made as plain data to the store in `dataDir` (stopped). */
export async function addSessions(dataDir: string, extra: readonly StoredSession[]): Promise<void> {
  const data = await readStoredData(dataDir);
  const sessions: Record<string, StoredSession> = { ...data.sessions };
  for (const s of extra) {
    if (Object.hasOwn(sessions, s.id)) throw new Error(`session ${s.id} is already in ${dataDir}`);
    sessions[s.id] = s;
  }
  await writeFileDurable(path.join(dataDir, DATA_FILE), serializeData({ version: data.version, sessions }));
}
