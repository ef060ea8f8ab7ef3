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

/** Who holds this bearer key: the host, a guest of this session, or (401) nobody we know. */
export function authenticate(session: StoredSession, key: string | undefined): Actor {
  if (!key) throw Errors.unauthorized();
  const hash = hashKey(key);
  if (sameHash(hash, session.hostKeyHash)) return { role: 'host' };
  let found: StoredSinger | undefined;
  for (const singer of session.singers) {
    if (singer.keyHash !== null && sameHash(hash, singer.keyHash)) found = singer;
  }
  if (!found) throw session.pastKeyHashes.some((h) => sameHash(hash, h)) ? Errors.newNight() : Errors.unauthorized();
  return { role: 'guest', singer: found };
}

export function requireHost(session: StoredSession, key: string | undefined): void {
  if (authenticate(session, key).role !== 'host') throw Errors.hostOnly();
}
