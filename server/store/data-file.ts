import { StoredSessionSchema, type StoredSession } from '../model/session.js';
import { UnreadableDataError } from './errors.js';
import { migrations } from './migrations.js';

const RESTORE = 'Restore it from a backup.';

export const SCHEMA_VERSION = migrations.length + 1;

export interface DbData {
  version: number;
  sessions: Record<string, StoredSession>;
}

export const emptyData = (): DbData => ({ version: SCHEMA_VERSION, sessions: {} });

/**
 * Older files are migrated step by step; a newer or malformed file stops the start, naming the file.
 * Takes `raw` apart: its sessions are moved into the result as they are checked.
 */
export function parseData(raw: unknown, file: string): { data: DbData; migratedFrom: number | null } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UnreadableDataError(`${file} does not hold a JSON object.`, RESTORE);
  }
  const version = (raw as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new UnreadableDataError(`${file} has no valid schema "version".`, RESTORE);
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
    new UnreadableDataError(`${file} does not have the expected shape (${where}: ${message}).`, RESTORE);
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
    parsed[id] = result.data;
    // One session at a time, letting go of each raw one: a validated copy of every session beside
    // the parsed file ran a 512 MB VM out of memory at start.
    delete (sessions as Record<string, unknown>)[id];
  }
  return { data: { version: SCHEMA_VERSION, sessions: parsed }, migratedFrom: version === SCHEMA_VERSION ? null : version };
}
