import { type Router, type Request, type Response } from 'express';
import { Errors } from '../errors.js';
import { isItemId, type StoredSession } from '../model/session.js';
import { authenticate } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import * as queue from '../sessions/queue.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { changeRouter, sendJson, sessionFor } from './lookup.js';

export interface TurnRoutesDeps {
  store: SessionStore;
  changes: SessionChanges;
  now: () => Date;
}

/**
 * Undo and hold: the host undoes their last actions, a guest their own last cancel; a singer is
 * put on hold (a guest for themselves, the host for anyone) and back.
 */
export function turnRoutes({ store, changes, now }: TurnRoutesDeps): Router {
  const router = changeRouter();

  const latest = (rawId: unknown): StoredSession => sessionFor(store, rawId, 'newest');
  const commitAndSend = async (res: Response, session: StoredSession): Promise<void> => {
    sendJson(res, changes.stateBytes(session, await changes.commit(session)));
  };

  router.post('/api/sessions/:id/undo', async (req, res) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, bearerToken(req));
    await commitAndSend(res, queue.undo(session, actor, now()));
  });

  const hold = (onHold: boolean) => async (req: Request, res: Response) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, bearerToken(req));
    const singerId = String(req.params.singerId);
    if (!isItemId(singerId)) throw Errors.singerNotFound();
    const at = now();
    const next = queue.setHold(session, singerId, onHold, actor, at);
    // Already so: nothing to commit; the state as it is.
    if (next === session) sendJson(res, changes.stateBytes(session, at.getTime()));
    else await commitAndSend(res, next);
  };
  router.post('/api/sessions/:id/singers/:singerId/hold', hold(true));
  router.delete('/api/sessions/:id/singers/:singerId/hold', hold(false));

  return router;
}
