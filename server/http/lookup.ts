import type { Response } from 'express';
import { Errors } from '../errors.js';
import { normalizeSessionId, type StoredSession } from '../model/session.js';
import type { SessionStore } from '../store/index.js';

/**
 * The session a route's `:id` names, or 404: the newest state for a change (it must build on every
 * change before it), the durable one for a read (only what is already saved).
 */
export function sessionFor(store: SessionStore, rawId: unknown, which: 'newest' | 'durable'): StoredSession {
  const id = normalizeSessionId(String(rawId));
  const session = id === undefined ? undefined : which === 'newest' ? store.latest(id) : store.get(id);
  if (!session) throw Errors.sessionNotFound();
  return session;
}

/**
 * Send JSON made elsewhere (the cached state). res.json would serialise again and hash the body
 * for an ETag that can never match: every state carries the time it was made.
 */
export function sendJson(res: Response, body: Buffer): void {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}
