import type { Logger } from 'pino';
import type { QrCodes } from '../qr.js';
import type { StoredSession } from '../model/session.js';
import type { SessionChanges } from '../sessions/changes.js';
import { startNight } from '../sessions/queue.js';
import type { SessionStore } from '../store/index.js';

export interface HousekeepingDeps {
  store: SessionStore;
  changes: SessionChanges;
  qr: QrCodes;
  ttlDays: number;
  /** A night idle this long is over (NIGHT_IDLE_HOURS); one the host closed, after an hour. */
  nightIdleHours?: number;
  /** Archived nights kept per room. */
  nightsKeep?: number;
  log: Logger;
  now: () => Date;
}

export interface HousekeepingResult {
  expired: string[];
  /** Rooms whose night was over: archived, and opened fresh, so the code no longer shows who sang. */
  nightsPutAway: string[];
  orphanQrFiles: string[];
}

const HOUR_MS = 60 * 60_000;
/** The end screen and setlist stay this long after the host closes the night. */
export const CLOSED_NIGHT_HOURS = 1;

const hasNight = (s: StoredSession) => s.singers.length > 0 || s.history.length > 0 || s.queue.length > 0 || s.nowSinging !== null;

/**
 * Put away nights that are over: the host closed them an hour ago, or nothing happened for
 * `idleHours`. They go to the archive, as "Start a new night" does, and the room stays with its
 * code and QR: whoever finds or keeps the code later sees an empty room, not who sang what.
 */
async function putAwayNights({ store, changes, log, now, nightIdleHours = 12, nightsKeep = 52 }: HousekeepingDeps): Promise<string[]> {
  const at = now();
  const done: string[] = [];
  for (const committed of [...store.sessions()]) {
    const session = store.latest(committed.id);
    if (!session || !hasNight(session)) continue;
    const idleMs = at.getTime() - Date.parse(session.updatedAt);
    if (idleMs < (session.status === 'closed' ? CLOSED_NIGHT_HOURS : nightIdleHours) * HOUR_MS) continue;
    try {
      const { session: next, archived } = startNight(session, at);
      await store.nights.put(session.id, archived, nightsKeep);
      await changes.commit(next);
    } catch (err) {
      log.warn({ sessionId: session.id, err }, 'could not put away a night that is over; will retry at the next run');
      continue;
    }
    done.push(session.id);
    log.info({ sessionId: session.id, night: session.night, status: session.status }, `night ${session.night} of ${session.id} is over (idle since ${session.updatedAt}): archived, the room opened fresh`);
  }
  return done;
}

const DAY_MS = 24 * 60 * 60_000;
/** A PNG is written just before its session is committed: a young file may belong to a session being created. */
export const ORPHAN_GRACE_MS = 10 * 60_000;

/** Remove sessions idle for longer than the TTL, with their QR PNGs, and PNGs whose session is gone. */
export async function runHousekeeping(deps: HousekeepingDeps): Promise<HousekeepingResult> {
  const { store, changes, qr, ttlDays, log, now } = deps;
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

  const nightsPutAway = await putAwayNights(deps);

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
  return { expired, nightsPutAway, orphanQrFiles };
}
