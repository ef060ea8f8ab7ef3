import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Errors } from '../errors.js';
import { sha256 } from '../lib/hash.js';
import type { StoredSession, StoredSinger } from '../model/session.js';

export type Actor = { role: 'host' } | { role: 'guest'; singer: StoredSinger };

/** Keys are 256-bit random secrets, so a plain SHA-256 is enough to keep them unusable at rest. */
export const newKey = (): string => randomBytes(32).toString('base64url');
export const hashKey = (key: string): string => sha256(key, 'base64url');
/** A key long and plain enough to keep (an imported one): what newKey makes is 43 such characters. */
export const isStrongKey = (key: string): boolean => /^[A-Za-z0-9_-]{16,128}$/.test(key);

const sameHash = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

// Guests are found by their key's hash in a Map, not by comparing it with every singer's: a
// 30,000-singer session made a wrong key cost 15 ms. Sessions are immutable and every change to
// the singers makes a new array, so an index cached by the array's identity is never stale; it is
// rebuilt once after a change, on the first key checked. A Map lookup is not constant-time in the
// way timingSafeEqual is, but what it could leak is how a guess's SHA-256 compares with stored
// hashes, which tells nothing about any key.
const singerIndex = new WeakMap<readonly StoredSinger[], ReadonlyMap<string, StoredSinger>>();
const pastIndex = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The singer holding the key with this hash; with two such (never made here) the later one, as before. */
export function singerByKeyHash(singers: readonly StoredSinger[], hash: string): StoredSinger | undefined {
  let index = singerIndex.get(singers);
  if (index === undefined) {
    const map = new Map<string, StoredSinger>();
    for (const singer of singers) if (singer.keyHash !== null) map.set(singer.keyHash, singer);
    singerIndex.set(singers, (index = map));
  }
  return index.get(hash);
}

function isPastKeyHash(hashes: readonly string[], hash: string): boolean {
  let index = pastIndex.get(hashes);
  if (index === undefined) pastIndex.set(hashes, (index = new Set(hashes)));
  return index.has(hash);
}

/** Who holds this bearer key: the host, a guest of this session, or (401) nobody we know. */
export function authenticate(session: StoredSession, key: string | undefined): Actor {
  if (!key) throw Errors.unauthorized();
  const hash = hashKey(key);
  if (sameHash(hash, session.hostKeyHash)) return { role: 'host' };
  const found = singerByKeyHash(session.singers, hash);
  if (!found) throw isPastKeyHash(session.pastKeyHashes, hash) ? Errors.newNight() : Errors.unauthorized();
  return { role: 'guest', singer: found };
}

export function requireHost(session: StoredSession, key: string | undefined): void {
  if (authenticate(session, key).role !== 'host') throw Errors.hostOnly();
}
