import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { sha256 } from '../lib/hash.js';

/** The token of `Authorization: Bearer <token>`, for host and guest keys and the admin token alike. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer +(\S{1,256}) *$/.exec(req.get('authorization') ?? '')?.[1];
}

/**
 * Does the request carry ADMIN_TOKEN? False when none is set. Hashing both sides gives equal
 * lengths, so the comparison time says nothing about the token.
 */
export function adminCheck(adminToken: string | undefined): (req: Request) => boolean {
  if (!adminToken) return () => false;
  const expected = sha256(adminToken);
  return (req) => {
    const token = bearerToken(req);
    return token !== undefined && timingSafeEqual(sha256(token), expected);
  };
}
