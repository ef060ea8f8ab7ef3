import type { NightLimits } from '../config.js';
import { Errors } from '../errors.js';
import { sameName, type StoredSession } from '../model/session.js';

/**
 * How much one night holds, as pure checks. Only additions are refused: a night stored over a limit
 * that was lowered since still loads and works, and shrinks as songs are sung and singers leave.
 */

/** The settings' defaults (config.ts), for callers that build sessions without a config. */
export const DEFAULT_LIMITS: Readonly<NightLimits> = Object.freeze({ singersPerNight: 300, queuedSongs: 200, songsPerNight: 1000, pushPerSinger: 3 });

/** Songs of tonight: sung or skipped, on stage, and waiting. */
export const songsTonight = (session: StoredSession): number => session.history.length + (session.nowSinging ? 1 : 0) + session.queue.length;

/** Room for one more singer tonight (a phone joining, or the host's new walk-in). */
export function assertRoomForSinger(session: StoredSession, limits: NightLimits): void {
  if (session.singers.length >= limits.singersPerNight) throw Errors.sessionFull(limits.singersPerNight);
}

/**
 * Room for one more song in the queue and in tonight's list. Next and skip are never refused (the
 * show goes on), so the history stays within the night's bound because the queue feeding it does.
 */
export function assertRoomForSong(session: StoredSession, limits: NightLimits): void {
  if (session.queue.length >= limits.queuedSongs) throw Errors.queueFull(limits.queuedSongs);
  if (songsTonight(session) >= limits.songsPerNight) throw Errors.nightFull(limits.songsPerNight);
}

/** Whether a phone may join now: requests open, joins open, room left, and the name not taken. */
export function assertCanJoin(session: StoredSession, name: string, limits: NightLimits): void {
  if (session.status === 'closed') throw Errors.sessionClosed();
  if (session.status === 'paused') throw Errors.sessionPaused();
  if (session.joinsOpen === false) throw Errors.joinsClosed();
  assertRoomForSinger(session, limits);
  // Two phones called "Maya" and "maya" would be one name on the TV and two singers in the rotation.
  const taken = session.singers.find((s) => sameName(s.name, name));
  if (taken) throw Errors.nameTaken(taken.name);
}
