import { normalizeSessionId } from '../model/session.js';
import { parseData, type DbData } from './data-file.js';
import { UnreadableDataError } from './errors.js';

/**
 * The export format is data.json's: `{"version": n, "sessions": {code: session}}`. The admin export
 * sends it, an import and an offline restore take it, backups are written in it.
 */
export class InvalidExportError extends Error {
  override name = 'InvalidExportError';
}

/**
 * Check that text is a complete data.json export (any schema version this server can migrate)
 * with sane session ids, and return it in the current schema.
 */
export function parseExport(text: string, label: string): { data: DbData; migratedFrom: number | null } {
  if (text.trim() === '') throw new InvalidExportError(`${label} is empty.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidExportError(`${label} is not valid JSON (${(err as Error).message}).`);
  }
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
  return parsed;
}
