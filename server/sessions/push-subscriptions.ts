import type { StoredPushSubscription, StoredSession, StoredSinger } from '../model/session.js';
import { DEFAULT_LIMITS } from './limits.js';

/** A singer's push subscriptions, kept with the singer. Pure: each returns a new session, or the same one when nothing changes. */

function withSinger(session: StoredSession, singerId: string, now: Date, change: (s: StoredSinger) => StoredSinger): StoredSession {
  let changed = false;
  const singers = session.singers.map((s) => {
    if (s.id !== singerId) return s;
    const next = change(s);
    changed ||= next !== s;
    return next;
  });
  return changed ? { ...session, singers, version: session.version + 1, updatedAt: now.toISOString() } : session;
}

/** Keep a phone's subscription: the same endpoint again replaces its keys; past the limit the oldest goes. */
export function addPushSubscription(
  session: StoredSession,
  singerId: string,
  subscription: StoredPushSubscription,
  now: Date,
  max = DEFAULT_LIMITS.pushPerSinger,
): StoredSession {
  return withSinger(session, singerId, now, (singer) => {
    // A page resubscribes each time it loads (Safari has answered 200 for dead endpoints): the same one again changes nothing.
    const same = singer.push?.find((p) => p.endpoint === subscription.endpoint);
    if (same && same.keys.p256dh === subscription.keys.p256dh && same.keys.auth === subscription.keys.auth) return singer;
    const others = (singer.push ?? []).filter((p) => p.endpoint !== subscription.endpoint);
    return { ...singer, push: [...others, subscription].slice(-max) };
  });
}

/** Forget one subscription (the push service said it is gone), or, without an endpoint, all of the singer's. */
export function removePushSubscription(session: StoredSession, singerId: string, endpoint: string | undefined, now: Date): StoredSession {
  return withSinger(session, singerId, now, (singer) => {
    if (!singer.push) return singer;
    const push = endpoint === undefined ? [] : singer.push.filter((p) => p.endpoint !== endpoint);
    if (push.length === singer.push.length) return singer;
    const { push: _dropped, ...rest } = singer;
    return push.length > 0 ? { ...rest, push } : rest;
  });
}
