import { z } from 'zod';
import { ArchivedNightSchema, type ArchivedNight } from '../model/night.js';
import { normalizeSessionId } from '../model/session.js';
import { parseData, type DbData } from './data-file.js';
import { UnreadableDataError } from './errors.js';

/**
 * The export format is data.json's, `{"version": n, "sessions": {code: session}}`, plus the archive
 * of nights, `"nights": {code: [night, ...]}`, when there is one. The admin export sends it, an
 * import and an offline restore take it, backups are written in it.
 */
export class InvalidExportError extends Error {
  override name = 'InvalidExportError';
}

/**
 * Check that text is a complete data.json export (any schema version this server can migrate)
 * with sane session ids, and return it in the current schema.
 */
export interface ParsedExport {
  data: DbData;
  /** Archived nights by session code, oldest first. */
  nights: Record<string, ArchivedNight[]>;
  migratedFrom: number | null;
}

const NightsSchema = z.record(z.string(), z.array(ArchivedNightSchema));

export function parseExport(text: string, label: string): ParsedExport {
  if (text.trim() === '') throw new InvalidExportError(`${label} is empty.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidExportError(`${label} is not valid JSON (${(err as Error).message}).`);
  }
  const rawNights = (raw as { nights?: unknown } | null)?.nights;
  let parsed: ReturnType<typeof parseData>;
  try {
    parsed = parseData(raw, label);
  } catch (err) {
    if (err instanceof UnreadableDataError) throw new InvalidExportError(err.problem);
    throw err;
  }
  for (const [key, session] of Object.entries(parsed.data.sessions)) {
    // Ids name QR files on disk, so only real session codes may come in.
    if (normalizeSessionId(key) !== key || session.id !== key) {
      throw new InvalidExportError(`${label} holds a session under the key ${JSON.stringify(key.slice(0, 20))}, which is not a valid session code.`);
    }
  }
  let byId: Record<string, ArchivedNight[]> = {};
  if (rawNights !== undefined) {
    const nights = NightsSchema.safeParse(rawNights);
    if (!nights.success) {
      const issue = nights.error.issues[0];
      throw new InvalidExportError(`${label} has an archive of nights that is not valid (nights.${issue?.path.join('.')}: ${issue?.message}).`);
    }
    byId = nights.data;
  }
  for (const id of Object.keys(byId)) {
    if (!Object.hasOwn(parsed.data.sessions, id)) throw new InvalidExportError(`${label} has archived nights of ${JSON.stringify(id.slice(0, 20))}, a session it does not hold.`);
  }
  return { ...parsed, nights: byId };
}

/** data.json's bytes with the archive of nights (oldest first) added: the export format. */
export function exportBytes(sessions: Buffer, nights: Readonly<Record<string, readonly ArchivedNight[]>>): Buffer {
  if (Object.keys(nights).length === 0) return sessions;
  // `{"version":n,"sessions":{…}}` becomes `{"version":n,"sessions":{…},"nights":{…}}`.
  return Buffer.concat([sessions.subarray(0, -1), Buffer.from(`,"nights":${JSON.stringify(nights)}}`)]);
}
