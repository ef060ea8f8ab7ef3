import { z } from 'zod';

/**
 * The stored shape of a session, defined once: the types are derived from this schema, which
 * data.json, the journal and imports are checked against. A field added here is kept across a
 * restart; a field added anywhere else does not compile.
 *
 * Every change builds new objects: the store and the public view cache JSON by identity.
 */
export const STATUSES = ['open', 'paused', 'closed'] as const;
export const ROTATIONS = ['fair', 'fifo'] as const;
export const OUTCOMES = ['sung', 'skipped'] as const;
/** Whether guests may ask for songs that are not in the host's songbook. */
export const REQUEST_MODES = ['any', 'songbook'] as const;

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

export const SingerRefSchema = z.object({ id: z.string(), name: z.string() });
export const StoredSingerSchema = SingerRefSchema.extend({
  /** SHA-256 of the guest key; null for a walk-in the host added. */
  keyHash: z.string().nullable(),
  createdAt: iso,
});
export const SongRequestSchema = z.object({
  id: z.string(),
  singer: SingerRefSchema,
  title: z.string(),
  artist: z.string(),
  link: z.string().nullable(),
  createdAt: iso,
  /** The songbook entry it was picked from. */
  songId: z.string().optional(),
  /** false: typed in by hand while the room has a songbook, so the host may not have the track. */
  inSongbook: z.boolean().optional(),
});
export const PlayingRequestSchema = SongRequestSchema.extend({ startedAt: iso });
export const PastRequestSchema = PlayingRequestSchema.extend({ endedAt: iso, outcome: z.enum(OUTCOMES) });

export const StoredSessionSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(STATUSES),
  rotation: z.enum(ROTATIONS),
  maxQueuedPerSinger: z.number().int().positive(),
  endsAt: iso.nullable(),
  createdAt: iso,
  updatedAt: iso,
  version: z.number().int().nonnegative(),
  /** Origin the QR code encodes when PUBLIC_URL is unset; kept so a rebuilt PNG is identical. */
  origin: z.string(),
  hostKeyHash: z.string(),
  singers: z.array(StoredSingerSchema),
  queue: z.array(SongRequestSchema),
  nowSinging: PlayingRequestSchema.nullable(),
  history: z.array(PastRequestSchema),
  /** Tonight: 1 for the room's first night, one more for each new night the host starts. */
  night: z.number().int().positive(),
  nightStartedAt: iso,
  requests: z.enum(REQUEST_MODES),
  /** What the stored songbook holds (the songs themselves live apart from the session). */
  songbook: z.object({ songs: z.number().int().nonnegative(), updatedAt: iso }).nullable(),
  /** Key hashes of the previous night's guests: their phones are told a new night began. */
  pastKeyHashes: z.array(z.string()),
});

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type Status = (typeof STATUSES)[number];
export type Rotation = (typeof ROTATIONS)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type RequestMode = (typeof REQUEST_MODES)[number];
export type SingerRef = DeepReadonly<z.infer<typeof SingerRefSchema>>;
export type StoredSinger = DeepReadonly<z.infer<typeof StoredSingerSchema>>;
export type SongRequest = DeepReadonly<z.infer<typeof SongRequestSchema>>;
export type PlayingRequest = DeepReadonly<z.infer<typeof PlayingRequestSchema>>;
export type PastRequest = DeepReadonly<z.infer<typeof PastRequestSchema>>;
export type StoredSession = DeepReadonly<z.infer<typeof StoredSessionSchema>>;

export const SESSION_ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const SESSION_ID_LENGTH = 6;
const SESSION_ID_PATTERN = /^[2-9A-HJKMNP-Z]{6,8}$/;
const ITEM_ID_PATTERN = /^[A-Za-z0-9_-]{6,32}$/;

/** Session codes are typed by people: accept any case, reject anything that cannot be a code. */
export function normalizeSessionId(raw: string): string | undefined {
  const id = raw.trim().toUpperCase();
  return SESSION_ID_PATTERN.test(id) ? id : undefined;
}

export function isItemId(raw: string): boolean {
  return ITEM_ID_PATTERN.test(raw);
}

/** Names of one singer: case does not matter ("Maya" and "maya"), accents do. */
export const sameName = (a: string, b: string): boolean => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

/** Control and invisible characters, and those that change text direction: a name must render as typed. */
export const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
