import type { PastRequest, PlayingRequest, RequestMode, Rotation, SongRequest, Status, StoredSession } from './session.js';
import type { SessionLinks } from './links.js';

/**
 * What every page sees of a session (GET, event streams, the host's answers): no key or hash.
 * Type-only, with no runtime imports, so the pages' JSDoc types (public/js/types.js) use it too.
 */
export interface PublicRequest extends SongRequest {
  position: number;
  /** The singer is on hold: next passes over this song. */
  onHold: boolean;
  /** null while on hold; the others' estimates leave held songs out. */
  estimatedStartAt: string | null;
}

export interface PublicNowSinging extends PlayingRequest {
  estimatedEndAt: string;
}

export interface PublicState extends SessionLinks {
  id: string;
  name: string;
  status: Status;
  rotation: Rotation;
  maxQueuedPerSinger: number;
  endsAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  night: number;
  nightStartedAt: string;
  requests: RequestMode;
  songbook: StoredSession['songbook'];
  /** The server's clock when this state was made, so clients can correct their own. */
  generatedAt: string;
  /** The host's newest action that can still be undone (30 minutes), for the "Undo: <label>" button. */
  undo: { label: string; at: string } | null;
  averageSongSeconds: number;
  singerCount: number;
  nowSinging: PublicNowSinging | null;
  queue: PublicRequest[];
  history: readonly PastRequest[];
}
