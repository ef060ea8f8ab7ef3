/** Storage shapes. Every change builds new objects: the store caches each session's JSON by identity. */
export type Status = 'open' | 'paused' | 'closed';
export type Rotation = 'fair' | 'fifo';
export type Outcome = 'sung' | 'skipped';

export interface SingerRef {
  readonly id: string;
  readonly name: string;
}

export interface StoredSinger extends SingerRef {
  /** SHA-256 of the guest key; null for a walk-in the host added. */
  readonly keyHash: string | null;
  readonly createdAt: string;
}

export interface SongRequest {
  readonly id: string;
  readonly singer: SingerRef;
  readonly title: string;
  readonly artist: string;
  readonly link: string | null;
  readonly createdAt: string;
}

export interface PlayingRequest extends SongRequest {
  readonly startedAt: string;
}

export interface PastRequest extends PlayingRequest {
  readonly endedAt: string;
  readonly outcome: Outcome;
}

export interface StoredSession {
  readonly id: string;
  readonly name: string;
  readonly status: Status;
  readonly rotation: Rotation;
  readonly maxQueuedPerSinger: number;
  readonly endsAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
  /** Origin the QR code encodes when PUBLIC_URL is unset; kept so a rebuilt PNG is identical. */
  readonly origin: string;
  readonly hostKeyHash: string;
  readonly singers: readonly StoredSinger[];
  readonly queue: readonly SongRequest[];
  readonly nowSinging: PlayingRequest | null;
  readonly history: readonly PastRequest[];
}

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
