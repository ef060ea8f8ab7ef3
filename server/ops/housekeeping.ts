import type { Logger } from 'pino';
import type { QrCodes } from '../qr.js';
import type { SessionChanges } from '../sessions/changes.js';
import type { SessionStore } from '../store/index.js';

export interface HousekeepingDeps {
  store: SessionStore;
  changes: SessionChanges;
  qr: QrCodes;
  ttlDays: number;
  log: Logger;
  now: () => Date;
}

export interface HousekeepingResult {
  expired: string[];
  orphanQrFiles: string[];
}

const DAY_MS = 24 * 60 * 60_000;
/** A PNG is written just before its session is committed: a young file may belong to a session being created. */
export const ORPHAN_GRACE_MS = 10 * 60_000;

/** Remove sessions idle for longer than the TTL, with their QR PNGs, and PNGs whose session is gone. */
export async function runHousekeeping({ store, changes, qr, ttlDays, log, now }: HousekeepingDeps): Promise<HousekeepingResult> {
  const nowMs = now().getTime();
  const cutoff = nowMs - ttlDays * DAY_MS;
  const expired: string[] = [];

  for (const committed of [...store.sessions()]) {
    // Check the newest state: a change still being flushed means the session is in use.
    const session = store.latest(committed.id);
    if (!session || Date.parse(session.updatedAt) >= cutoff) continue;
    try {
      await changes.remove(session);
    } catch (err) {
      log.warn({ sessionId: session.id, err }, 'could not remove an idle session; will retry at the next run');
      continue;
    }
    expired.push(session.id);
    log.info(
      { sessionId: session.id, name: session.name, updatedAt: session.updatedAt, ttlDays },
      `removed session ${session.id}: idle for more than ${ttlDays} days`,
    );
  }

  const orphanQrFiles: string[] = [];
  const orphans = await qr.orphans((id) => store.latest(id) !== undefined || store.get(id) !== undefined, nowMs - ORPHAN_GRACE_MS);
  for (const id of orphans) {
    try {
      await qr.remove(id);
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
