import { averageSongMs, nextStartMs } from './eta.js';
import type { PastRequest, PlayingRequest, SongRequest, StoredSession } from './model.js';

export interface PublicRequest extends SongRequest {
  position: number;
  estimatedStartAt: string;
}

export interface PublicNowSinging extends PlayingRequest {
  estimatedEndAt: string;
}

export interface PublicState {
  id: string;
  name: string;
  status: StoredSession['status'];
  rotation: StoredSession['rotation'];
  maxQueuedPerSinger: number;
  endsAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
  /** The server's clock when this state was made, so clients can correct their own. */
  generatedAt: string;
  averageSongSeconds: number;
  singerCount: number;
  nowSinging: PublicNowSinging | null;
  queue: PublicRequest[];
  history: readonly PastRequest[];
}

export interface SessionLinks {
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
}

export function sessionLinks(session: StoredSession, publicUrl: string | undefined): SessionLinks {
  const origin = publicUrl ?? session.origin;
  return {
    joinUrl: `${origin}/s/${session.id}`,
    qrUrl: `${origin}/qr-codes/${session.id}.png`,
    displayUrl: `${origin}/display/${session.id}`,
  };
}

/** The public state: no key or hash ever leaves through here. */
export function publicState(session: StoredSession, publicUrl: string | undefined, nowMs: number): PublicState {
  const avg = averageSongMs(session);
  const start = nextStartMs(session, nowMs, avg);
  const playing = session.nowSinging;
  return {
    id: session.id,
    name: session.name,
    status: session.status,
    rotation: session.rotation,
    maxQueuedPerSinger: session.maxQueuedPerSinger,
    endsAt: session.endsAt,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    version: session.version,
    ...sessionLinks(session, publicUrl),
    generatedAt: new Date(nowMs).toISOString(),
    averageSongSeconds: Math.round(avg / 1000),
    singerCount: session.singers.length,
    nowSinging: playing ? { ...playing, estimatedEndAt: new Date(start).toISOString() } : null,
    queue: session.queue.map((r, i) => ({
      ...r,
      position: i + 1,
      estimatedStartAt: new Date(start + i * avg).toISOString(),
    })),
    history: session.history,
  };
}
