import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router, type Request, type RequestHandler } from 'express';
import type { EventHub } from '../events.js';
import type { SessionStore } from '../store/index.js';

/** What the store's write probe found: the disk under DATA_DIR, or the database. */
export type StoreHealth = { writable: boolean } & Record<string, unknown>;

export interface HealthDeps {
  /** A real write where the data lives (an fsynced file, a database row). */
  probe: () => Promise<StoreHealth>;
  /** Where the data lives, for the operator: `{dataDir}` or `{database}` (never a password). */
  where: Record<string, string>;
  store: SessionStore;
  hub: EventHub;
  /** The project root, where package.json names the version. */
  root: string;
  /** Applied first, like every /api route: /healthz is public. */
  limit: RequestHandler;
  /** Does the request carry ADMIN_TOKEN? Only then are the details shown. */
  isAdmin: (req: Request) => boolean;
  /** Why the server runs degraded (say, a damaged journal at start), or null. */
  degraded?: () => string | null;
  /** How long a good write probe is believed (a failed one never is). */
  probeCacheMs?: number;
}

/** A probe is an fsynced write: 1,500 calls a second of them doubled every session's write time. */
export const HEALTH_PROBE_CACHE_MS = 5000;

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * GET /healthz: 200 while the data folder takes writes, 503 when it does not (Fly's checks restart
 * on that). Anyone sees `{status, startedAt, uptimeSeconds}`; the data folder, versions, disk and
 * write counters only with `Authorization: Bearer <ADMIN_TOKEN>`.
 */
export function healthRoutes({ probe, where, store, hub, root, limit, isAdmin, degraded = () => null, probeCacheMs = HEALTH_PROBE_CACHE_MS }: HealthDeps): Router {
  const router = Router();
  const version = packageVersion(root);
  const startedAt = Date.now();
  let cached: { info: StoreHealth; at: number; failedFlushes: number } | undefined;
  let inFlight: Promise<StoreHealth> | undefined;
  // One probe at a time, whatever the call rate. A good answer holds for probeCacheMs unless a
  // commit has failed since; a bad one is asked again at the next call, so recovery shows at once.
  const storage = (): Promise<StoreHealth> => {
    const failedFlushes = store.stats().failedFlushes;
    if (cached && cached.info.writable && cached.failedFlushes === failedFlushes && Date.now() - cached.at < probeCacheMs) {
      return Promise.resolve(cached.info);
    }
    inFlight ??= probe()
      .then((info) => {
        cached = { info, at: Date.now(), failedFlushes };
        return info;
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
  router.get('/healthz', limit, async (req, res) => {
    const info = await storage();
    const problem = degraded();
    const status = !info.writable ? 'unavailable' : problem !== null ? 'degraded' : 'ok';
    const brief = {
      status,
      startedAt: new Date(startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
    // Degraded still serves (every acknowledged change it holds is safe): a restart would not help.
    res.status(info.writable ? 200 : 503);
    if (!isAdmin(req)) {
      res.json(brief);
      return;
    }
    res.json({
      ...brief,
      ...(problem !== null ? { reason: problem } : {}),
      store: store.kind,
      ...where,
      sessions: store.count(),
      version,
      node: process.version,
      storage: info,
      sseConnections: hub.connections,
      writes: store.stats(),
    });
  });
  return router;
}
