import { type Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import { summarizeNight } from '../model/night.js';
import type { StoredSession } from '../model/session.js';
import { requireHost } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import * as queue from '../sessions/queue.js';
import { archivedSetlist, toCsv, tonightSetlist } from '../sessions/setlist.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { changeRouter, sendJson, sessionFor } from './lookup.js';

export interface NightRoutesDeps {
  config: Readonly<Config>;
  store: SessionStore;
  changes: SessionChanges;
  now: () => Date;
}

function sendCsv(res: Response, name: string, csv: string): void {
  res
    .status(200)
    .set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' })
    // A byte-order mark, so spreadsheets open the accents in singers' names as UTF-8.
    .send(`\ufeff${csv}`);
}

/** Recurring nights: start a fresh one, list the archive, download a night's songs. */
export function nightRoutes({ config, store, changes, now }: NightRoutesDeps): Router {
  const router = changeRouter();

  const hostSession = (req: Request): StoredSession => {
    const session = sessionFor(store, req.params.id, 'newest');
    requireHost(session, bearerToken(req));
    return session;
  };

  router.post('/api/sessions/:id/nights', async (req, res) => {
    const session = hostSession(req);
    const { session: next, archived } = queue.startNight(session, now());
    // Archived first: a crash before the commit leaves tonight as it was, and the retry writes the same file.
    await store.nights.put(session.id, archived, config.nightsKeep);
    const shownAt = await changes.commit(next);
    sendJson(res, changes.stateBytes(next, shownAt));
  });

  router.get('/api/sessions/:id/nights', async (req, res) => {
    const session = hostSession(req);
    res.json((await store.nights.list(session.id)).map(summarizeNight));
  });

  router.get('/api/sessions/:id/nights/:night/songs.csv', async (req, res) => {
    const session = hostSession(req);
    const which = String(req.params.night);
    if (which === 'current') {
      sendCsv(res, `karaoke-${session.id}-night-${session.night}.csv`, toCsv(tonightSetlist(session)));
      return;
    }
    const number = /^\d{1,9}$/.test(which) ? Number(which) : NaN;
    const night = Number.isInteger(number) ? await store.nights.get(session.id, number) : undefined;
    if (!night) throw Errors.nightNotFound();
    sendCsv(res, `karaoke-${session.id}-night-${night.night}.csv`, toCsv(archivedSetlist(night)));
  });

  return router;
}
