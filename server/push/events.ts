import type { SongRequest, StoredSession } from '../model/session.js';

/**
 * What a change means to the guests it concerns, read from the state before and after it: pure,
 * so every way a queue can change (a song ends, the host reorders, a guest cancels) is covered by
 * one comparison rather than a call in each route.
 */

export type PushEventKind = 'next' | 'on-stage' | 'removed' | 'skipped';

export interface PushEvent {
  kind: PushEventKind;
  singerId: string;
  requestId: string;
  title: string;
}

/** Who made the change: a guest cancelling their own song is not told about it. */
export type ChangeCause = 'host' | 'guest' | 'system';

/**
 * The request that sings after the one on stage. Holds (a singer who stepped out) do not exist
 * yet: when they do, a held request is passed over here, and only here.
 */
export function nextUp(session: StoredSession): SongRequest | undefined {
  return session.queue[0];
}

export function pushEvents(before: StoredSession | undefined, after: StoredSession, by: ChangeCause): PushEvent[] {
  // A new session, or a new night (its queue goes to the archive): nothing to tell anyone.
  if (!before || before.night !== after.night) return [];
  const events: PushEvent[] = [];
  const event = (kind: PushEventKind, r: SongRequest): void => {
    events.push({ kind, singerId: r.singer.id, requestId: r.id, title: r.title });
  };

  const onStage = after.nowSinging;
  if (onStage && onStage.id !== before.nowSinging?.id) event('on-stage', onStage);

  // "You're up after this song" means someone is singing; with the stage empty, the next song is the next on stage.
  const head = nextUp(after);
  const headBefore = before.nowSinging ? nextUp(before) : undefined;
  if (onStage && head && head.id !== headBefore?.id) event('next', head);

  const left = before.nowSinging;
  if (left && left.id !== onStage?.id) {
    const ended = after.history.at(-1);
    if (ended?.id === left.id && ended.outcome === 'skipped') event('skipped', left);
  }

  if (by === 'host') {
    const still = new Set(after.queue.map((r) => r.id));
    if (onStage) still.add(onStage.id);
    for (const r of before.queue) if (!still.has(r.id)) event('removed', r);
  }
  return events;
}
