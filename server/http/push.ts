import type { Router } from 'express';
import { Errors } from '../errors.js';
import type { StoredSession } from '../model/session.js';
import { checkEndpoint } from '../push/endpoints.js';
import type { PushSender } from '../push/sender.js';
import { authenticate } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import { addPushSubscription, removePushSubscription } from '../sessions/push-subscriptions.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { changeRouter, sessionFor } from './lookup.js';
import { jsonBody, parse, PushSubscriptionBody } from './bodies.js';

export interface PushRoutesDeps {
  store: SessionStore;
  changes: SessionChanges;
  push: PushSender;
  allowLoopback: boolean;
  /** Phones kept per singer (MAX_PUSH_SUBSCRIPTIONS_PER_SINGER); past it the oldest is let go. */
  perSinger: number;
  now: () => Date;
}

/** "Tell me when I'm up": the server's application key, and a guest's phone subscribing or not. */
export function pushRoutes({ store, changes, push, allowLoopback, perSinger, now }: PushRoutesDeps): Router {
  const router = changeRouter();

  /** The newest state, with the key's holder: only the singer's own phone may subscribe for them. */
  const mine = (rawId: unknown, rawSinger: unknown, key: string | undefined): StoredSession => {
    const session = sessionFor(store, rawId, 'newest');
    const actor = authenticate(session, key);
    if (actor.role !== 'guest' || actor.singer.id !== String(rawSinger)) throw Errors.notYourPhone();
    return session;
  };

  // null when push is off: the guest page asks at every load, and a 404 would show as an error in its console.
  router.get('/api/push/key', (_req, res) => {
    res.json({ publicKey: push.publicKey ?? null });
  });

  router.put('/api/sessions/:id/singers/:singerId/push', async (req, res) => {
    const key = bearerToken(req);
    mine(req.params.id, req.params.singerId, key);
    if (push.publicKey === undefined) throw Errors.pushUnavailable();
    const { endpoint, keys } = parse(PushSubscriptionBody, jsonBody(req));
    await checkEndpoint(endpoint, { allowLoopback });
    // Read again after the lookup: the newest state is what the change builds on.
    const session = mine(req.params.id, req.params.singerId, key);
    const at = now();
    const subscription = { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth }, createdAt: at.toISOString() };
    await changes.commit(addPushSubscription(session, String(req.params.singerId), subscription, at, perSinger));
    res.status(204).end();
  });

  router.delete('/api/sessions/:id/singers/:singerId/push', async (req, res) => {
    const session = mine(req.params.id, req.params.singerId, bearerToken(req));
    const next = removePushSubscription(session, String(req.params.singerId), undefined, now());
    if (next !== session) await changes.commit(next);
    res.status(204).end();
  });

  return router;
}
