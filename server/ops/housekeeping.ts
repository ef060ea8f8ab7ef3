import { promises as fs } from 'node:fs';
import type { Logger } from 'pino';
import { EventHub } from '../events.js';
import type { SessionStore } from '../store/store.js';

export interface HousekeepingDeps {
  store: SessionStore;
  ttlDays: number;
  log: Logger;
  now: () => Date;
  hub?: EventHub | undefined;
}

export interface HousekeepingResult {
  expired: string[];
  orphanQrFiles: string[];
}

const DAY_MS = 24 * 60 * 60_000;
/** A PNG is written just before its session is committed: a young file may belong to a session being created. */
export const ORPHAN_GRACE_MS = 10 * 60_000;

/** Remove sessions idle for longer than the TTL, with their QR PNGs, and PNGs whose session is gone. */
export async function runHousekeeping({ store, ttlDays, log, now, hub }: HousekeepingDeps): Promise<HousekeepingResult> {
  const nowMs = now().getTime();
  const cutoff = nowMs - ttlDays * DAY_MS;
  const expired: string[] = [];

  for (const committed of [...store.sessions()]) {
    // Check the newest state: a change still being flushed means the session is in use.
    const session = store.latest(committed.id);
    if (!session || Date.parse(session.updatedAt) >= cutoff) continue;
    try {
      await store.remove(session.id);
    } catch (err) {
      log.warn({ sessionId: session.id, err }, 'could not remove an idle session; will retry at the next run');
      continue;
    }
    await store.qr.remove(session.id).catch((err: unknown) => log.warn({ sessionId: session.id, err }, 'could not remove a QR file'));
    hub?.endSession(session.id, EventHub.frame('deleted', session.version + 1, { id: session.id }));
    expired.push(session.id);
    log.info(
      { sessionId: session.id, name: session.name, updatedAt: session.updatedAt, ttlDays },
      `removed session ${session.id}: idle for more than ${ttlDays} days`,
    );
  }

  const orphanQrFiles: string[] = [];
  for (const id of await store.qr.list()) {
    if (store.latest(id) || store.get(id)) continue;
    const stat = await fs.stat(store.qr.pathOf(id)).catch(() => undefined);
    if (!stat || nowMs - stat.mtimeMs < ORPHAN_GRACE_MS) continue;
    try {
      await store.qr.remove(id);
    } catch (err) {
      log.warn({ file: `${id}.png`, err }, 'could not remove a QR file without a session');
      continue;
    }
    orphanQrFiles.push(`${id}.png`);
  }
  if (orphanQrFiles.length > 0) {
    log.info({ files: orphanQrFiles }, `removed ${orphanQrFiles.length} QR file(s) without a session`);
  }
  return { expired, orphanQrFiles };
}
