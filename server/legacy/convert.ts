import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { hashKey, isStrongKey, newKey } from '../sessions/auth.js';
import { createSession } from '../sessions/queue.js';
import { FORBIDDEN_CHARACTERS, normalizeSessionId, sameName, type PastRequest, type PlayingRequest, type SongRequest, type StoredSession, type StoredSinger } from '../model/session.js';
import { writeFileDurable } from '../lib/durable-file.js';
import { parseData, type DbData } from '../store/index.js';

/**
 * The layout of the app before DATA_DIR existed: `data.json` in the app folder, QR PNGs in
 * `public/qr-codes/<id>.png`, no schema version, plain host keys, songs without ids and singers
 * known only by name. Its join links had the same `/s/<code>` form.
 */
const time = z.union([z.number().finite(), z.string()]);
const LegacySong = z.looseObject({
  singer: z.string(),
  title: z.string(),
  artist: z.string().nullish(),
  link: z.string().nullish(),
  addedAt: time.nullish(),
});
const LegacySession = z.looseObject({
  id: z.string(),
  name: z.string(),
  hostKey: z.string(),
  createdAt: time.nullish(),
  closed: z.boolean().nullish(),
  queue: z.array(LegacySong).default([]),
  current: LegacySong.extend({ startedAt: time.nullish() }).nullish(),
  played: z.array(LegacySong.extend({ playedAt: time.nullish(), skipped: z.boolean().nullish() })).default([]),
});
export const LegacyDataSchema = z.looseObject({ baseUrl: z.string().nullish(), sessions: z.array(LegacySession) });
export type LegacyData = z.infer<typeof LegacyDataSchema>;
type LegacySongT = z.infer<typeof LegacySong>;

/** The schema version this converter writes; newer versions are reached through the migration steps. */
export const LEGACY_TARGET_VERSION = 1;

export interface ConvertOptions {
  now: Date;
  origin: string;
  /** Session codes already in use in DATA_DIR. */
  takenIds: ReadonlySet<string>;
  newSessionId: () => string;
  newItemId: () => string;
}

export interface ConvertedSession {
  session: StoredSession;
  legacyId: string;
  /** The legacy code was not a valid code, or was taken: printed QR codes of this session are dead. */
  idChanged: boolean;
  /** Set when the legacy host key could not be kept (too short or odd characters for a bearer key). */
  newHostKey: string | null;
  skippedSongs: number;
}

// The characters the API refuses in new input become spaces.
const CONTROL = new RegExp(FORBIDDEN_CHARACTERS.source, 'g');
const clean = (s: string | null | undefined, max: number): string => (s ?? '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim().slice(0, max);

function iso(value: number | string | null | undefined, fallback: string): string {
  if (value === null || value === undefined) return fallback;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : fallback;
}

function httpLink(raw: string | null | undefined): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href.slice(0, 500) : null;
  } catch {
    return null;
  }
}

/** Parse a legacy data.json; a file that is not one gets a message saying what is wrong. */
export function parseLegacy(raw: unknown, file: string): LegacyData {
  if (typeof raw === 'object' && raw !== null && 'version' in raw) {
    throw new Error(`${file} has a schema "version": it is already in the current layout, not a legacy file. Copy it into DATA_DIR or restore it with the backup tools instead.`);
  }
  const parsed = LegacyDataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not a legacy data file (${issue?.path.join('.') || 'top level'}: ${issue?.message}).`);
  }
  return parsed.data;
}

export function convertLegacySession(legacy: z.infer<typeof LegacySession>, options: ConvertOptions, usedIds: Set<string>): ConvertedSession {
  const nowIso = options.now.toISOString();
  const createdAt = iso(legacy.createdAt, nowIso);
  let id = normalizeSessionId(legacy.id);
  const idChanged = id === undefined || usedIds.has(id);
  if (idChanged) {
    do id = options.newSessionId();
    while (usedIds.has(id));
  }
  usedIds.add(id!);

  const singers: StoredSinger[] = [];
  const singerFor = (rawName: string) => {
    const name = clean(rawName, 40) || 'Guest';
    let singer = singers.find((s) => sameName(s.name, name));
    if (!singer) {
      // Legacy guests had no keys: they come back as the host's walk-ins.
      singer = { id: options.newItemId(), name, keyHash: null, createdAt };
      singers.push(singer);
    }
    return { id: singer.id, name: singer.name };
  };
  let skippedSongs = 0;
  const song = (s: LegacySongT): SongRequest | null => {
    const title = clean(s.title, 120);
    if (!title) {
      skippedSongs += 1;
      return null;
    }
    return {
      id: options.newItemId(),
      singer: singerFor(s.singer),
      title,
      artist: clean(s.artist, 80),
      link: httpLink(s.link),
      createdAt: iso(s.addedAt, createdAt),
    };
  };

  const history: PastRequest[] = [];
  for (const p of legacy.played) {
    const request = song(p);
    if (!request) continue;
    const at = iso(p.playedAt, request.createdAt);
    history.push({ ...request, startedAt: at, endedAt: at, outcome: p.skipped ? 'skipped' : 'sung' });
  }
  let nowSinging: PlayingRequest | null = null;
  if (legacy.current) {
    const request = song(legacy.current);
    if (request) nowSinging = { ...request, startedAt: iso(legacy.current.startedAt, nowIso) };
  }
  const queue = legacy.queue.map(song).filter((r): r is SongRequest => r !== null);

  const keepKey = isStrongKey(legacy.hostKey);
  const newHostKey = keepKey ? null : newKey();
  const session: StoredSession = {
    ...createSession({ id: id!, name: clean(legacy.name, 40) || `Session ${id}`, hostKeyHash: hashKey(newHostKey ?? legacy.hostKey), origin: options.origin, now: options.now }),
    status: legacy.closed ? 'closed' : 'open',
    // The old app appended requests in order; the host can switch to fair rotation.
    rotation: 'fifo',
    createdAt,
    singers,
    queue,
    nowSinging,
    history,
  };
  return { session, legacyId: legacy.id, idChanged, newHostKey, skippedSongs };
}

/** Was this legacy session imported before? Its host key (or code, name and creation time) gives it away. */
export function alreadyImported(existing: StoredSession, legacy: LegacyData['sessions'][number]): boolean {
  if (existing.hostKeyHash === hashKey(legacy.hostKey)) return true;
  return (
    legacy.createdAt != null &&
    normalizeSessionId(legacy.id) === existing.id &&
    existing.name === clean(legacy.name, 40) &&
    existing.createdAt === iso(legacy.createdAt, '')
  );
}

/** Convert every legacy session, then check the result exactly as data.json is checked at start. */
export function convertLegacy(legacy: LegacyData, options: ConvertOptions): { converted: ConvertedSession[]; data: DbData } {
  const used = new Set(options.takenIds);
  const converted = legacy.sessions.map((s) => convertLegacySession(s, options, used));
  const raw = { version: LEGACY_TARGET_VERSION, sessions: Object.fromEntries(converted.map((c) => [c.session.id, c.session])) };
  const { data } = parseData(raw, 'the converted legacy data');
  return { converted, data };
}

/** Which legacy sessions went where, kept in DATA_DIR so a later --merge never imports one twice. */
export interface ImportRecord {
  imports: { at: string; from: string; sessions: Record<string, string> }[];
}

export const IMPORT_RECORD_FILE = 'legacy-import.json';

export async function readImportRecord(dataDir: string): Promise<ImportRecord> {
  const text = await fs.readFile(path.join(dataDir, IMPORT_RECORD_FILE), 'utf8').catch(() => null);
  if (text === null) return { imports: [] };
  try {
    const parsed = JSON.parse(text) as ImportRecord;
    if (Array.isArray(parsed.imports)) return parsed;
  } catch {
    // fall through: an unreadable record must not be silently replaced
  }
  throw new Error(`${path.join(dataDir, IMPORT_RECORD_FILE)} is not readable; move it away to import again.`);
}

export const importedLegacyIds = (record: ImportRecord): Map<string, string> =>
  new Map(record.imports.flatMap((i) => Object.entries(i.sessions)));

export async function appendImportRecord(dataDir: string, entry: ImportRecord['imports'][number]): Promise<void> {
  const record = await readImportRecord(dataDir);
  record.imports.push(entry);
  await writeFileDurable(path.join(dataDir, IMPORT_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
