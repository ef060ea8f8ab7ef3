import { Router, type RequestHandler, type Response } from 'express';
import { Errors } from '../errors.js';
import { normalizeSessionId, type StoredSession } from '../model/session.js';
import { StoreConflictError, type SessionStore } from '../store/index.js';

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

/**
 * How long a change keeps being made again while other instances' changes to the same session win
 * the race, before it answers 503 busy. A time, not a count: an instance whose changes to a busy
 * room queue up locally commits them back to back, and a count of eight tries (70 ms of waits in
 * all) lost to that in benchmark runs on two instances (one write in 10,000 answered 503).
 */
export const CONFLICT_BUDGET_MS = 2000;

/**
 * Run a change route again when the store says the session changed meanwhile (another instance's
 * change to the same session, on a shared database): the route reads the newest state again and
 * builds on it, so neither change is lost. Nothing has been answered when the conflict comes: the
 * store raises it before a response is sent.
 */
export function retryOnConflict(handler: RequestHandler, budgetMs = CONFLICT_BUDGET_MS): RequestHandler {
  return async (req, res, next) => {
    const started = performance.now();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await handler(req, res, next);
      } catch (err) {
        if (!(err instanceof StoreConflictError) || res.headersSent) throw err;
        if (performance.now() - started >= budgetMs) throw Errors.busy();
        // A short, growing, random wait: two instances retrying in lockstep would collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(5 * attempt, 50)));
      }
    }
  };
}

/** A Router whose change routes (POST, PUT, PATCH, DELETE) are made again on a conflict. */
export function changeRouter(): Router {
  const router = Router();
  for (const method of ['post', 'put', 'patch', 'delete'] as const) {
    const original = router[method].bind(router) as (path: string, ...handlers: RequestHandler[]) => Router;
    (router as unknown as Record<string, unknown>)[method] = (path: string, ...handlers: RequestHandler[]) =>
      original(path, ...handlers.slice(0, -1), retryOnConflict(handlers.at(-1)!));
  }
  return router;
}
