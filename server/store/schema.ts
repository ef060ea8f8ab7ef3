import { z } from 'zod';
import type { StoredSession } from '../sessions/model.js';
import { UnreadableDataError } from './durable-file.js';
import { migrations } from './migrations.js';

export const SCHEMA_VERSION = migrations.length + 1;

export interface DbData {
  version: number;
  sessions: Record<string, StoredSession>;
}

export const emptyData = (): DbData => ({ version: SCHEMA_VERSION, sessions: {} });

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');
const singerRef = z.object({ id: z.string(), name: z.string() });
const songRequest = z.object({
  id: z.string(),
  singer: singerRef,
  title: z.string(),
  artist: z.string(),
  link: z.string().nullable(),
  createdAt: iso,
});
const playing = songRequest.extend({ startedAt: iso });
const past = playing.extend({ endedAt: iso, outcome: z.enum(['sung', 'skipped']) });

export const StoredSessionSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['open', 'paused', 'closed']),
  rotation: z.enum(['fair', 'fifo']),
  maxQueuedPerSinger: z.number().int().positive(),
  endsAt: iso.nullable(),
  createdAt: iso,
  updatedAt: iso,
  version: z.number().int().nonnegative(),
  origin: z.string(),
  hostKeyHash: z.string(),
  singers: z.array(z.object({ id: z.string(), name: z.string(), keyHash: z.string().nullable(), createdAt: iso })),
  queue: z.array(songRequest),
  nowSinging: playing.nullable(),
  history: z.array(past),
});

/**
 * Older files are migrated step by step; a newer or malformed file stops the start, naming the file.
 * Takes `raw` apart: its sessions are moved into the result as they are checked.
 */
export function parseData(raw: unknown, file: string): { data: DbData; migratedFrom: number | null } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UnreadableDataError(`${file} does not hold a JSON object. Restore it from a backup.`);
  }
  const version = (raw as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new UnreadableDataError(`${file} has no valid schema "version". Restore it from a backup.`);
  }
  if (version > SCHEMA_VERSION) {
    throw new UnreadableDataError(
      `${file} has schema version ${version}, newer than this server understands (${SCHEMA_VERSION}). ` +
        'Run the newer release, or restore a backup made by this one.',
    );
  }
  let current: unknown = raw;
  for (let v = version; v < SCHEMA_VERSION; v += 1) current = migrations[v - 1]!(current);
  const shapeError = (where: string, message: string) =>
    new UnreadableDataError(`${file} does not have the expected shape (${where}: ${message}). Restore it from a backup.`);
  const sessions = (current as { sessions?: unknown }).sessions;
  if (typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) {
    throw shapeError('sessions', 'not an object of sessions by id');
  }
  const parsed: Record<string, StoredSession> = {};
  for (const id of Object.keys(sessions)) {
    const result = StoredSessionSchema.safeParse((sessions as Record<string, unknown>)[id]);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw shapeError(['sessions', id, ...(issue?.path ?? [])].join('.'), issue?.message ?? 'invalid');
    }
    parsed[id] = result.data as StoredSession;
    // One session at a time, letting go of each raw one: a validated copy of every session beside
    // the parsed file ran a 512 MB VM out of memory at start.
    delete (sessions as Record<string, unknown>)[id];
  }
  return { data: { version: SCHEMA_VERSION, sessions: parsed }, migratedFrom: version === SCHEMA_VERSION ? null : version };
}
