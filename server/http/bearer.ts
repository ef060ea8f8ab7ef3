import type { Request } from 'express';

/** The token of `Authorization: Bearer <token>`, for host and guest keys and the admin token alike. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer +(\S{1,256}) *$/.exec(req.get('authorization') ?? '')?.[1];
}
