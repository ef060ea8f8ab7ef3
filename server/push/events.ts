import { heldSingers, type SongRequest, type StoredSession } from '../model/session.js';

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
 * The request that sings after the one on stage: the first not on hold, as next takes it
 * (sessions/queue.ts `advance`). A singer on hold is told nothing; back, their song rings if it is first.
 */
export function nextUp(session: StoredSession): SongRequest | undefined {
  const held = heldSingers(session);
  return held.size === 0 ? session.queue[0] : session.queue.find((r) => !held.has(r.singer.id));
}

/**
 * How many notifications a singer's record remembers. A song rings at most three times (next, on
 * stage, then skipped or removed) and an undo reaches back 30 minutes: a few songs at most.
 */
export const TOLD_PER_SINGER = 20;

const toldMark = (event: PushEvent): string => `${event.requestId}:${event.kind}`;

/**
 * The events of a change that nobody was told yet, and the session to commit, which records them
 * on their singers (`told`). One notification per event, never repeated for the same song: a song
 * moved away from first place and back, or an undone next, finds its mark, whether the first ring
 * came before a restart or from another instance. Only singers with a phone to tell get marks.
 * Returns the same session when there is nothing new to mark.
 */
export function markTold(session: StoredSession, events: readonly PushEvent[], keep = TOLD_PER_SINGER): { session: StoredSession; events: PushEvent[] } {
  const fresh: PushEvent[] = [];
  const marks = new Map<string, string[]>();
  for (const event of events) {
    const singer = session.singers.find((s) => s.id === event.singerId);
    if (!singer?.push?.length) continue;
    const mark = toldMark(event);
    const added = marks.get(singer.id) ?? [];
    if (singer.told?.includes(mark) || added.includes(mark)) continue;
    marks.set(singer.id, [...added, mark]);
    fresh.push(event);
  }
  if (fresh.length === 0) return { session, events: fresh };
  const singers = session.singers.map((s) => {
    const added = marks.get(s.id);
    return added ? { ...s, told: [...(s.told ?? []), ...added].slice(-keep) } : s;
  });
  return { session: { ...session, singers }, events: fresh };
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
