import express, { type Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import type { StoredSession } from '../model/session.js';
import { requireHost } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import * as queue from '../sessions/queue.js';
import type { SongbookCache } from '../songbook/cache.js';
import { SongbookParseError } from '../songbook/parse.js';
import type { ParsedUpload, SongbookWorker } from '../songbook/worker-client.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { changeRouter, sessionFor } from './lookup.js';
import { parse } from './bodies.js';

export interface SongbookRoutesDeps {
  config: Readonly<Config>;
  store: SessionStore;
  changes: SessionChanges;
  songbooks: SongbookCache;
  songbookWorker: SongbookWorker;
  now: () => Date;
}

/** The types a song list arrives as; the real format is read from the content, not from these. */
export const SONGBOOK_TYPES = ['text/csv', 'text/tab-separated-values', 'text/plain'];

const SearchQuery = z.object({
  q: z.string({ error: 'q must be text' }).max(200, { error: 'q must be at most 200 characters' }).default(''),
  limit: z.coerce.number({ error: 'limit must be a number' }).int({ error: 'limit must be a whole number' }).min(1).max(50).default(20),
});

/** The host's songbook: upload, read, remove, and the search guests run as they type. */
export function songbookRoutes({ config, store, changes, songbooks, songbookWorker, now }: SongbookRoutesDeps): Router {
  const router = changeRouter();

  const session = (rawId: unknown, newest: boolean): StoredSession => sessionFor(store, rawId, newest ? 'newest' : 'durable');

  // The host is checked before a large body is read.
  const host: express.RequestHandler = (req, _res, next) => {
    requireHost(session(req.params.id, true), bearerToken(req));
    next();
  };
  const body = express.raw({ type: () => true, limit: config.songbookMaxBytes });

  router.put('/api/sessions/:id/songbook', host, (req, _res, next) => {
    if (!req.is(SONGBOOK_TYPES)) {
      throw Errors.unsupportedMediaType('Send the song list as the body, with Content-Type text/csv, text/tab-separated-values or text/plain.');
    }
    next();
  }, body, async (req, res) => {
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const updatedAt = now().toISOString();
    let parsed: ParsedUpload;
    try {
      // On the worker: up to 20 MB would hold every other request for seconds.
      parsed = await songbookWorker.parse(bytes, updatedAt);
    } catch (err) {
      if (!(err instanceof SongbookParseError)) throw err;
      if (err.code === 'too_many_songs') throw Errors.payloadTooLarge(err.message);
      throw Errors.invalidSongbook(err.message, err.badLines);
    }
    const { id } = session(req.params.id, true);
    await store.songbooks.putEncoded(id, parsed.encoded);
    songbooks.invalidate(id);
    // Built on the newest state after the file is down: other changes may have landed meanwhile.
    await changes.commit(queue.setSongbook(session(id, true), { songs: parsed.songs, updatedAt }, now()));
    res.json({ songs: parsed.songs, skipped: parsed.skipped, skippedCount: parsed.skippedCount, format: parsed.format });
  });

  router.get('/api/sessions/:id/songbook', async (req, res) => {
    const { id } = session(req.params.id, false);
    const stored = await store.songbooks.get(id);
    if (!stored) throw Errors.songbookNotFound();
    res.json({ songs: stored.songs, updatedAt: stored.updatedAt });
  });

  router.delete('/api/sessions/:id/songbook', host, async (req, res) => {
    const { id } = session(req.params.id, true);
    await store.songbooks.remove(id);
    songbooks.invalidate(id);
    await changes.commit(queue.setSongbook(session(id, true), null, now()));
    res.status(204).end();
  });

  router.get('/api/sessions/:id/songs', async (req, res) => {
    const { id } = session(req.params.id, false);
    const { q, limit } = parse(SearchQuery, req.query);
    const index = await songbooks.get(id);
    if (!index) throw Errors.songbookNotFound();
    res.json(index.search(q, limit));
  });

  return router;
}
