import { Router } from 'express';
import { z } from 'zod';
import { nightOver } from '../model/session.js';
import { authenticate } from '../sessions/auth.js';
import { historyPageBytes } from '../sessions/view.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { parse } from './bodies.js';
import { sendJson, sessionFor } from './lookup.js';

export interface HistoryRoutesDeps {
  store: SessionStore;
}

const MAX_PAGE = 100;
// Positions, not request ids: the night's history only grows at its end (an undo takes back the
// last song only), so a position stays valid while the guest scrolls back through the night.
const position = (field: string) =>
  z
    .string({ error: `${field} must be given once` })
    .regex(/^\d{1,7}$/, { error: `${field} must be a whole number from 0` })
    .transform(Number);

const HistoryQuery = z.strictObject({
  before: position('before').optional(),
  limit: position('limit')
    .refine((n) => n >= 1 && n <= MAX_PAGE, { error: `limit must be from 1 to ${MAX_PAGE}` })
    .default(50),
});

/**
 * The night's songs page by page, for "load more" under the newest ones the public state carries.
 * The same audience as the state while the night goes on; once it is over, only its singers and
 * its host (with their key), since a code found later must not show who sang.
 */
export function historyRoutes({ store }: HistoryRoutesDeps): Router {
  const router = Router();
  router.get('/api/sessions/:id/history', (req, res) => {
    const session = sessionFor(store, req.params.id, 'durable');
    const { before, limit } = parse(HistoryQuery, req.query);
    if (nightOver(session)) authenticate(session, bearerToken(req));
    sendJson(res, historyPageBytes(session, before, limit));
  });
  return router;
}
