import { type Router, type Request, type Response } from 'express';
import type { NightLimits } from '../config.js';
import { Errors } from '../errors.js';
import { isItemId, type StoredSession } from '../model/session.js';
import { authenticate, requireHost } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import * as queue from '../sessions/queue.js';
import { removeSinger } from '../sessions/singers.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { changeRouter, sendJson, sessionFor } from './lookup.js';

export interface TurnRoutesDeps {
  store: SessionStore;
  changes: SessionChanges;
  limits: Readonly<NightLimits>;
  now: () => Date;
}

/**
 * Undo, hold and the night's singers: the host undoes their last actions, a guest their own last
 * cancel; a singer is put on hold (a guest for themselves, the host for anyone) and back; the host
 * sees who is in, removes a singer with their songs.
 */
export function turnRoutes({ store, changes, limits, now }: TurnRoutesDeps): Router {
  const router = changeRouter();

  const latest = (rawId: unknown): StoredSession => sessionFor(store, rawId, 'newest');
  const commitAndSend = async (res: Response, session: StoredSession): Promise<void> => {
    sendJson(res, changes.stateBytes(session, await changes.commit(session)));
  };
  const singerId = (req: Request): string => {
    const id = String(req.params.singerId);
    if (!isItemId(id)) throw Errors.singerNotFound();
    return id;
  };

  router.post('/api/sessions/:id/undo', async (req, res) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, bearerToken(req));
    await commitAndSend(res, queue.undo(session, actor, now(), limits));
  });

  const hold = (onHold: boolean) => async (req: Request, res: Response) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, bearerToken(req));
    const id = singerId(req);
    const at = now();
    const next = queue.setHold(session, id, onHold, actor, at);
    // Already so: nothing to commit; the state as it is.
    if (next === session) sendJson(res, changes.stateBytes(session, at.getTime()));
    else await commitAndSend(res, next);
  };
  router.post('/api/sessions/:id/singers/:singerId/hold', hold(true));
  router.delete('/api/sessions/:id/singers/:singerId/hold', hold(false));

  // The host's list of tonight's singers: the public state carries only their count.
  router.get('/api/sessions/:id/singers', (req, res) => {
    const session = sessionFor(store, req.params.id, 'durable');
    requireHost(session, bearerToken(req));
    const queued = new Map<string, number>();
    for (const r of session.queue) queued.set(r.singer.id, (queued.get(r.singer.id) ?? 0) + 1);
    const sung = new Map<string, number>();
    for (const r of session.history) if (r.outcome === 'sung') sung.set(r.singer.id, (sung.get(r.singer.id) ?? 0) + 1);
    res.json({
      version: session.version,
      joinsOpen: session.joinsOpen !== false,
      limits: { singersPerNight: limits.singersPerNight, queuedSongs: limits.queuedSongs, songsPerNight: limits.songsPerNight },
      singers: session.singers.map((s) => ({
        id: s.id,
        name: s.name,
        byPhone: s.keyHash !== null,
        queued: queued.get(s.id) ?? 0,
        sung: sung.get(s.id) ?? 0,
        onStage: session.nowSinging?.singer.id === s.id,
        onHold: s.onHold === true,
      })),
    });
  });

  router.delete('/api/sessions/:id/singers/:singerId', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, bearerToken(req));
    await commitAndSend(res, removeSinger(session, singerId(req), now()));
  });

  return router;
}
