import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Errors } from './errors.js';
import { EventHub } from './events.js';
import type { StoredSession } from './sessions/model.js';
import { publicState } from './sessions/view.js';
import { InvalidExportError, parseExport, writeBackup } from './store/backups.js';
import type { SessionStore } from './store/store.js';

export interface AdminDeps {
  config: Readonly<Config>;
  store: SessionStore;
  hub: EventHub;
  /** Applied before authentication, like every /api route. */
  limit: RequestHandler;
  now: () => Date;
  log: Logger;
}

/** An export is every session in data.json's format; far above the API's body limit, still bounded. */
export const IMPORT_LIMIT_BYTES = 64 * 1024 * 1024;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Hashing both sides gives equal lengths, so the comparison time says nothing about the token. */
function tokenMatches(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/**
 * Operator endpoints: export and restore the whole store. They exist only when ADMIN_TOKEN is
 * set; without it they answer 404 like any unknown /api path.
 */
export function adminRoutes({ config, store, hub, limit, now, log }: AdminDeps): Router {
  const router = Router();
  if (!config.adminToken) return router;
  const expected = digest(config.adminToken);

  // Authenticate before reading a large body.
  router.use('/api/admin', limit, (req, _res, next) => {
    const match = /^Bearer +(\S+) *$/.exec(req.get('authorization') ?? '');
    if (!match || !tokenMatches(match[1]!, expected)) throw Errors.adminUnauthorized();
    next();
  });

  router.get('/api/admin/export', (_req, res) => {
    const stamp = now().toISOString().replace(/[:.]/g, '-');
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="karaoke-export-${stamp}.json"`,
        'Cache-Control': 'no-store',
      })
      .send(store.snapshot());
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
      const backup = await writeBackup(store.dataDir, store.snapshot(), 'pre-import', now()).catch((err: unknown) => {
        throw Errors.storageUnavailable(err);
      });

      // No await from here to replaceAll: the plan is made on the state it replaces.
      const next: Record<string, StoredSession> = {};
      const replacedOrigins = new Map<string, string>();
      for (const [id, incoming] of Object.entries(parsed.data.sessions)) {
        const current = store.latest(id);
        if (current) replacedOrigins.set(id, current.origin);
        if (current && JSON.stringify(current) === JSON.stringify(incoming)) next[id] = current;
        // A restore is a change: versions keep rising, so clients never take it for a stale state.
        else next[id] = current ? { ...incoming, version: Math.max(incoming.version, current.version + 1) } : incoming;
      }
      const summary = await store.replaceAll(next);

      for (const session of summary.removed) {
        hub.endSession(session.id, EventHub.frame('deleted', session.version + 1, { id: session.id }));
        await store.qr.remove(session.id).catch((err: unknown) => log.warn({ err, sessionId: session.id }, 'could not remove a QR file'));
      }
      for (const session of [...summary.added, ...summary.updated]) {
        const state = publicState(session, config.publicUrl, now().getTime());
        hub.publish(session.id, EventHub.frame('state', state.version, state));
        // A PNG left from before may encode another origin; the next request rebuilds it from the restored session.
        if (session.origin !== replacedOrigins.get(session.id)) {
          await store.qr.remove(session.id).catch((err: unknown) => log.warn({ err, sessionId: session.id }, 'could not remove a QR file'));
        }
      }
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
