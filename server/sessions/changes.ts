import type { Logger } from 'pino';
import { sseFrame, type EventHub } from '../events.js';
import type { StoredSession } from '../model/session.js';
import { markTold, pushEvents, type ChangeCause } from '../push/events.js';
import type { PushSender } from '../push/sender.js';
import type { QrCodes } from '../qr.js';
import type { SongbookCache } from '../songbook/cache.js';
import type { ExternalChange, ReplaceSummary, SessionStore } from '../store/index.js';
import { removePushSubscription } from './push-subscriptions.js';
import { publicStateBytes } from './view.js';

export interface SessionChangesDeps {
  store: SessionStore;
  hub: EventHub;
  qr: QrCodes;
  songbooks: SongbookCache;
  push: PushSender;
  publicUrl: string | undefined;
  log: Logger;
  now: () => Date;
}

/**
 * The one owner of what a change to a session sets off: the durable commit, the new state on the
 * session's event streams, the QR file. Routes, admin, housekeeping and the legacy import all go
 * through here; nothing else touches the store, the hub and the QR files together.
 */
export class SessionChanges {
  // Phones arriving together (the QR code on the TV, everyone reconnecting after a deploy) share
  // one first frame: the same session in the same millisecond gives the same bytes.
  private lastFrame: { session: StoredSession; nowMs: number; bytes: Buffer } | undefined;

  constructor(private readonly deps: SessionChangesDeps) {
    deps.store.onExternalChange((change) => this.external(change));
  }

  /**
   * A change another instance committed (a shared database): this instance's streams get it as if
   * it were made here. Push notifications are that instance's to send, so none go from here.
   */
  private external({ id, session, before }: ExternalChange): void {
    if (!session) {
      this.deps.songbooks.invalidate(id);
      if (before) this.ended(before);
      return;
    }
    if (session.songbook?.updatedAt !== before?.songbook?.updatedAt) this.deps.songbooks.invalidate(id);
    this.publish(session, this.deps.now().getTime());
  }

  /** The public state's bytes as shown at `nowMs`. */
  stateBytes(session: StoredSession, nowMs: number): Buffer {
    return publicStateBytes(session, this.deps.publicUrl, nowMs);
  }

  /** An SSE `state` frame of the session. */
  stateFrame(session: StoredSession, nowMs: number): Buffer {
    const last = this.lastFrame;
    if (last?.session === session && last.nowMs === nowMs) return last.bytes;
    const bytes = sseFrame('state', session.version, this.stateBytes(session, nowMs));
    this.lastFrame = { session, nowMs, bytes };
    return bytes;
  }

  /** A new session: its QR PNG first (a cache, rebuilt if this fails later), then the durable commit. */
  async create(session: StoredSession): Promise<void> {
    await this.deps.qr.write(session);
    await this.deps.store.put(session);
  }

  /**
   * Commit durably, then push the whole new state to the session's open streams (if it has any:
   * nobody else needs it made), then hand what it means to each guest to the push sender, which
   * sends in the background. `by` says who made the change. Returns the time the new state is shown at.
   */
  async commit(change: StoredSession, { by = 'system' }: { by?: ChangeCause } = {}): Promise<number> {
    const before = this.deps.store.latest(change.id);
    // What is sent is decided with the change and committed with it: a song told before a restart,
    // or by another instance (a conflict runs the route again on its state), is not told twice.
    const { session, events } = markTold(change, pushEvents(before, change, by));
    await this.deps.store.put(session);
    const nowMs = this.deps.now().getTime();
    this.publish(session, nowMs);
    if (events.length > 0) this.deps.push.notify(session, events);
    return nowMs;
  }

  /** A push service said this subscription is dead: forget it, through the same commit as every change. */
  async pushGone(sessionId: string, singerId: string, endpoint: string): Promise<void> {
    const session = this.deps.store.latest(sessionId);
    if (!session) return;
    const next = removePushSubscription(session, singerId, endpoint, this.deps.now());
    if (next !== session) await this.commit(next);
  }

  /**
   * Remove a session: the durable removal, then its songbook, archive and QR file, then the
   * `deleted` event. Those files are removed best effort: once the session is gone nothing reads
   * them, so a failure is logged, never an error to the caller.
   */
  async remove(session: StoredSession): Promise<void> {
    await this.deps.store.remove(session.id);
    await this.removeFiles(session.id);
    this.ended(session);
  }

  /** What a removed session leaves: nothing reads it any more, so failures are only logged. */
  private async removeFiles(sessionId: string): Promise<void> {
    const { store, songbooks, log } = this.deps;
    songbooks.invalidate(sessionId);
    await store.songbooks.remove(sessionId).catch((err: unknown) => log.warn({ err, sessionId }, 'could not remove a songbook'));
    await store.nights.removeAll(sessionId).catch((err: unknown) => log.warn({ err, sessionId }, 'could not remove the archive of nights'));
    await this.removeQr(sessionId);
  }

  /**
   * Replace every session (an import): one durable commit, then streams of removed sessions end,
   * the others get their new state, and QR files that may encode another origin are dropped.
   */
  async replaceAll(next: Readonly<Record<string, StoredSession>>): Promise<ReplaceSummary> {
    const before = new Map(Object.keys(next).map((id) => [id, this.deps.store.latest(id)?.origin]));
    const summary = await this.deps.store.replaceAll(next);
    for (const session of summary.removed) {
      this.ended(session);
      await this.removeFiles(session.id);
    }
    const nowMs = this.deps.now().getTime();
    for (const session of [...summary.added, ...summary.updated]) {
      this.publish(session, nowMs);
      // A PNG left from before may encode another origin; the next request rebuilds it.
      if (session.origin !== before.get(session.id)) await this.removeQr(session.id);
    }
    return summary;
  }

  private publish(session: StoredSession, nowMs: number): void {
    if (this.deps.hub.watching(session.id)) this.deps.hub.publish(session.id, this.stateFrame(session, nowMs));
  }

  private ended(session: StoredSession): void {
    const json = Buffer.from(JSON.stringify({ id: session.id }));
    this.deps.hub.endSession(session.id, sseFrame('deleted', session.version + 1, json));
  }

  private async removeQr(sessionId: string): Promise<void> {
    await this.deps.qr.remove(sessionId).catch((err: unknown) => this.deps.log.warn({ err, sessionId }, 'could not remove a QR file'));
  }
}
