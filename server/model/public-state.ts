import type { PastRequest, PlayingRequest, RequestMode, Rotation, SongRequest, Status, StoredSession } from './session.js';
import type { SessionLinks } from './links.js';

/**
 * How many of the night's newest songs the public state carries. The state goes to every phone on
 * every change, so it must not grow with the night: the rest is paged from GET …/history.
 */
export const RECENT_HISTORY = 20;

/**
 * What every page sees of a session (GET, event streams, the host's answers): no key or hash.
 * No runtime imports, so the pages' JSDoc types (public/js/types.js) use it too.
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
  /** false: the host closed joining (new phones are refused; singers already in and walk-ins are not). */
  joinsOpen: boolean;
  /** The server's clock when this state was made, so clients can correct their own. */
  generatedAt: string;
  /** The host's newest action that can still be undone (30 minutes), for the "Undo: <label>" button. */
  undo: { label: string; at: string } | null;
  averageSongSeconds: number;
  singerCount: number;
  nowSinging: PublicNowSinging | null;
  queue: PublicRequest[];
  /** Songs that went to history tonight (sung and skipped); `history` holds the newest RECENT_HISTORY of them. */
  historyCount: number;
  /** Of those, the ones sung ("N sung tonight"). */
  sungCount: number;
  /** The newest songs of the night, oldest first; empty once the night is over (historyHidden). */
  history: readonly PastRequest[];
  /**
   * The night is over (requests closed, nobody on stage, nothing queued): its songs and singers'
   * names are no longer shown to anyone with the code, only to its singers and host through
   * GET …/history with their key.
   */
  historyHidden: boolean;
}

/** GET /api/sessions/:id/history: tonight's songs at positions [start, start + history.length), oldest first. */
export interface HistoryPage {
  night: number;
  historyCount: number;
  /** The position (0 = the night's first song) of the first song of this page. */
  start: number;
  /** `before` for the page of older songs; null when this page starts the night. */
  nextBefore: number | null;
  history: readonly PastRequest[];
}

/**
 * The largest state (and SSE `state` frame) a session can make at the limits: 200 queued songs,
 * the song on stage and RECENT_HISTORY past ones, each with its name, title, artist and link as
 * long as validation allows and made of the characters costliest in JSON, a PUBLIC_URL of 100
 * characters (test/history.test.ts builds it: about 1.03 MB while lone surrogates, 6 bytes each as
 * JSON, are accepted in text; 0.55 MB without them). The singers and the rest of the night are not
 * in it. It fits an event-stream client's default buffer (SSE_MAX_BUFFER_BYTES).
 */
export const MAX_STATE_BYTES = 2 ** 20;
