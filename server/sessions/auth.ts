import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { Errors } from '../errors.js';
import type { StoredSession, StoredSinger } from './model.js';
import type { Actor } from './queue.js';

/** Keys are 256-bit random secrets, so a plain SHA-256 is enough to keep them unusable at rest. */
export const newKey = (): string => randomBytes(32).toString('base64url');
export const hashKey = (key: string): string => createHash('sha256').update(key).digest('base64url');

const sameHash = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function bearerKey(req: Request): string | undefined {
  const match = /^Bearer +([A-Za-z0-9_-]{16,128}) *$/.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/** Who is asking: the host, a guest of this session, or (401) nobody we know. */
export function authenticate(session: StoredSession, req: Request): Actor {
  const key = bearerKey(req);
  if (!key) throw Errors.unauthorized();
  const hash = hashKey(key);
  if (sameHash(hash, session.hostKeyHash)) return { role: 'host' };
  let found: StoredSinger | undefined;
  for (const singer of session.singers) {
    if (singer.keyHash !== null && sameHash(hash, singer.keyHash)) found = singer;
  }
  if (!found) throw Errors.unauthorized();
  return { role: 'guest', singer: found };
}

export function requireHost(session: StoredSession, req: Request): void {
  if (authenticate(session, req).role !== 'host') throw Errors.hostOnly();
}
