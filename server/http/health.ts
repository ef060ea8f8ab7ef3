import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import type { EventHub } from '../events.js';
import { storageInfo } from '../ops/disk.js';
import type { SessionStore } from '../store/index.js';

export interface HealthDeps {
  dataDir: string;
  store: SessionStore;
  hub: EventHub;
  /** The project root, where package.json names the version. */
  root: string;
}

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** GET /healthz: 200 while the data folder takes writes, 503 when it does not (Fly's checks restart on that). */
export function healthRoutes({ dataDir, store, hub, root }: HealthDeps): Router {
  const router = Router();
  const version = packageVersion(root);
  const startedAt = Date.now();
  router.get('/healthz', async (_req, res) => {
    const storage = await storageInfo(dataDir);
    res.status(storage.writable ? 200 : 503).json({
      status: storage.writable ? 'ok' : 'unavailable',
      dataDir,
      sessions: store.count(),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      startedAt: new Date(startedAt).toISOString(),
      version,
      node: process.version,
      storage,
      sseConnections: hub.connections,
      writes: store.stats(),
    });
  });
  return router;
}
