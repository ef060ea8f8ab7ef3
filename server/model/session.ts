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
/**
 * A browser's Web Push subscription (PushSubscription.toJSON()). The endpoint is a capability URL:
 * it is kept here and in backups, never shown in the public state or written to a log.
 */
export const PushSubscriptionSchema = z.object({
  endpoint: z.string(),
  keys: z.object({ p256dh: z.string(), auth: z.string() }),
  createdAt: iso,
});
/**
 * A guest's phones that asked to be told when they are up: a few at most, newest last. The setting
 * (MAX_PUSH_SUBSCRIPTIONS_PER_SINGER) goes up to this ceiling, so a singer stored under a higher
 * setting still loads after it was lowered.
 */
export const MAX_PUSH_SUBSCRIPTIONS = 10;

export const StoredSingerSchema = SingerRefSchema.extend({
  /** SHA-256 of the guest key; null for a walk-in the host added. */
  keyHash: z.string().nullable(),
  createdAt: iso,
  /** On hold ("hold my place"): the songs stay queued, next passes over them, ETAs leave them out. */
  onHold: z.boolean().optional(),
  push: z.array(PushSubscriptionSchema).max(MAX_PUSH_SUBSCRIPTIONS).optional(),
  /**
   * The notifications this singer was sent, as `<requestId>:<kind>`, newest last and bounded
   * (push/events.ts): committed with the change that set each off, so a song does not ring twice
   * after a restart or through another instance. Not in the public state (singers are not).
   */
  told: z.array(z.string()).optional(),
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
  /** Placed by the host (a move): fair rotation leaves it where the host put it. */
  pinned: z.boolean().optional(),
});
export const PlayingRequestSchema = SongRequestSchema.extend({ startedAt: iso });
export const PastRequestSchema = PlayingRequestSchema.extend({ endedAt: iso, outcome: z.enum(OUTCOMES) });

/** What undoing an action needs: the inverse is applied to the queue as it is by then. */
export const UndoActionSchema = z.discriminatedUnion('kind', [
  /** `ended` went to history (null: nobody was on stage), `started` came up (null: nobody). */
  z.object({ kind: z.literal('next'), ended: z.string().nullable(), started: z.string().nullable() }),
  /** A cancel or a host's remove: the request as it was, and where. */
  z.object({ kind: z.literal('cancel'), request: SongRequestSchema, index: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('move'), requestId: z.string(), from: z.number().int().nonnegative(), pinned: z.boolean() }),
  z.object({ kind: z.literal('status'), from: z.enum(STATUSES) }),
  /** A walk-in's request; `singerId` when that request also added the walk-in singer. */
  z.object({ kind: z.literal('walkIn'), requestId: z.string(), singerId: z.string().nullable() }),
]);
export const UndoEntrySchema = z.object({
  /** What the host page's button says: "Undo: <label>". */
  label: z.string(),
  at: iso,
  /** null: the host's action; a singer id: that guest's own cancel. */
  by: z.string().nullable(),
  action: UndoActionSchema,
});

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
  /** The newest undoable actions, oldest first, bounded (sessions/undo.ts). */
  undo: z.array(UndoEntrySchema),
  /** false: the host closed joins (new phones are refused; walk-ins and singers already in are not). Absent: open. */
  joinsOpen: z.boolean().optional(),
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
export type StoredPushSubscription = DeepReadonly<z.infer<typeof PushSubscriptionSchema>>;
export type StoredSinger = DeepReadonly<z.infer<typeof StoredSingerSchema>>;
export type SongRequest = DeepReadonly<z.infer<typeof SongRequestSchema>>;
export type PlayingRequest = DeepReadonly<z.infer<typeof PlayingRequestSchema>>;
export type PastRequest = DeepReadonly<z.infer<typeof PastRequestSchema>>;
export type UndoAction = DeepReadonly<z.infer<typeof UndoActionSchema>>;
export type UndoEntry = DeepReadonly<z.infer<typeof UndoEntrySchema>>;
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

const nameKey = (s: string) => s.replace(/\s+/gu, '');
/** Names of one singer: case and spaces do not matter ("Maya", "maya", "Ma ya"), accents do. */
export const sameName = (a: string, b: string): boolean => nameCollator.compare(nameKey(a), nameKey(b)) === 0;
// One collator for every comparison: localeCompare with options builds one per call, which made a
// join to a 300-singer night spend a fifth of its time comparing names.
const nameCollator = new Intl.Collator(undefined, { sensitivity: 'accent' });

const songKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLocaleLowerCase();
/** One song asked for twice: spacing and case do not matter. */
export const sameSong = (a: { title: string; artist: string }, b: { title: string; artist: string }): boolean =>
  songKey(a.title) === songKey(b.title) && songKey(a.artist) === songKey(b.artist);

/** Singers on hold tonight. */
/** Requests closed and the last song sung: nothing more happens tonight. */
export const nightOver = (session: Pick<StoredSession, 'status' | 'nowSinging' | 'queue'>): boolean =>
  session.status === 'closed' && !session.nowSinging && session.queue.length === 0;

export const heldSingers = (session: { readonly singers: readonly { readonly id: string; readonly onHold?: boolean | undefined }[] }): Set<string> =>
  new Set(session.singers.filter((s) => s.onHold === true).map((s) => s.id));

/**
 * Control and invisible characters, and those that change text direction: a name must render as typed.
 * Not U+200D ZWJ, which joins emoji (👨‍👩‍👧): lib/text.ts allows it between emoji only.
 */
export const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200b\u200c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
