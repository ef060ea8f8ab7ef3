import express, { Router, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import { fileSafeTimestamp } from '../lib/time.js';
import type { StoredSession } from '../model/session.js';
import type { SessionChanges } from '../sessions/changes.js';
import { InvalidExportError, parseExport, type SessionStore } from '../store/index.js';
import { adminCheck } from './bearer.js';
import { sessionFor } from './lookup.js';

export interface AdminDeps {
  config: Readonly<Config>;
  store: SessionStore;
  changes: SessionChanges;
  /** Applied before authentication, like every /api route. */
  limit: RequestHandler;
  now: () => Date;
  log: Logger;
}

/** An export is every session in data.json's format; far above the API's body limit, still bounded. */
export const IMPORT_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Operator endpoints: export and restore the whole store, delete one session. They exist only when ADMIN_TOKEN is
 * set; without it they answer 404 like any unknown /api path.
 */
export function adminRoutes({ config, store, changes, limit, now, log }: AdminDeps): Router {
  const router = Router();
  if (!config.adminToken) return router;
  const isAdmin = adminCheck(config.adminToken);

  // Authenticate before reading a large body.
  router.use('/api/admin', limit, (req, _res, next) => {
    if (!isAdmin(req)) throw Errors.adminUnauthorized();
    next();
  });

  router.get('/api/admin/export', async (_req, res) => {
    const stamp = fileSafeTimestamp(now());
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="karaoke-export-${stamp}.json"`,
        'Cache-Control': 'no-store',
      })
      .send(await store.exportData());
  });

  // One session, gone for good (a prank night, a venue that asks): the same removal as the host's.
  router.delete('/api/admin/sessions/:id', async (req, res) => {
    const session = sessionFor(store, req.params.id, 'newest');
    await changes.remove(session);
    log.info({ sessionId: session.id }, 'removed a session with the admin token');
    res.status(204).end();
  });

  router.post(
    '/api/admin/import',
    express.text({ type: ['application/json', 'application/*+json'], limit: IMPORT_LIMIT_BYTES }),
    async (req, res) => {
      if (typeof req.body !== 'string') {
        throw Errors.invalidExport('send the export file as the body, with Content-Type: application/json.');
      }
      let parsed: ReturnType<typeof parseExport>;
      try {
        parsed = parseExport(req.body, 'the uploaded file');
      } catch (err) {
        if (err instanceof InvalidExportError) throw Errors.invalidExport(err.message);
        throw err;
      }
      // What is replaced stays recoverable from the volume.
      const backup = (await store.backup('pre-import', { at: now() }).catch((err: unknown) => {
        throw Errors.storageUnavailable(err);
      }))!;

      // No await from here to replaceAll: the plan is made on the state it replaces.
      const next: Record<string, StoredSession> = {};
      for (const [id, incoming] of Object.entries(parsed.data.sessions)) {
        const current = store.latest(id);
        if (current && JSON.stringify(current) === JSON.stringify(incoming)) next[id] = current;
        // A restore is a change: versions keep rising, so clients never take it for a stale state.
        else next[id] = current ? { ...incoming, version: Math.max(incoming.version, current.version + 1) } : incoming;
      }
      const summary = await changes.replaceAll(next);
      for (const id of Object.keys(next)) await store.nights.replace(id, parsed.nights[id] ?? []);

      log.info(
        {
          backup: backup.name,
          added: summary.added.length,
          updated: summary.updated.length,
          removed: summary.removed.length,
          unchanged: summary.unchanged,
        },
        'restored the store from an uploaded export',
      );
      res.json({
        imported: {
          sessions: Object.keys(next).length,
          added: summary.added.length,
          updated: summary.updated.length,
          removed: summary.removed.length,
          unchanged: summary.unchanged,
        },
        migratedFrom: parsed.migratedFrom,
        backup: backup.name,
      });
    },
  );
  return router;
}
