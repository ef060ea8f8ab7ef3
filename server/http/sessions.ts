import { type Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import type { EventHub } from '../events.js';
import { hostUrl } from '../model/links.js';
import { isItemId, sameName, type StoredSession } from '../model/session.js';
import { authenticate, hashKey, newKey, requireHost } from '../sessions/auth.js';
import type { SessionChanges } from '../sessions/changes.js';
import { newItemId, newSessionId } from '../sessions/ids.js';
import * as queue from '../sessions/queue.js';
import { publicState, queuedRequestJson } from '../sessions/view.js';
import type { SongbookCache } from '../songbook/cache.js';
import type { SessionStore } from '../store/index.js';
import { bearerToken } from './bearer.js';
import { clientAddress } from './rate-limits.js';
import { changeRouter, sendJson, sessionFor } from './lookup.js';
import { CreateSessionBody, JoinBody, jsonBody, MoveBody, NextBody, parse, RequestBody, UpdateSessionBody } from './bodies.js';

export interface SessionRoutesDeps {
  config: Readonly<Config>;
  store: SessionStore;
  hub: EventHub;
  changes: SessionChanges;
  songbooks: SongbookCache;
  limits: { create: RequestHandler; join: RequestHandler; request: RequestHandler };
  now: () => Date;
}

/** The origin the QR code should encode when PUBLIC_URL is unset: what the client used to reach us. */
function requestOrigin(req: Request): string {
  try {
    return new URL(`${req.protocol}://${req.host}`).origin;
  } catch {
    return 'http://localhost';
  }
}

/** Who holds a key that need not be sent (a join): undefined for none, or for a key of nobody here. */
function keyHolder(session: StoredSession, key: string | undefined): ReturnType<typeof authenticate> | undefined {
  if (key === undefined) return undefined;
  try {
    return authenticate(session, key);
  } catch {
    return undefined;
  }
}

/**
 * The session API. Each route reads the clock once, checks the body and the key, calls the queue
 * logic, and hands the result to the change owner.
 */
export function sessionRoutes({ config, store, hub, changes, songbooks, limits, now }: SessionRoutesDeps): Router {
  const router = changeRouter();

  const latest = (rawId: unknown): StoredSession => sessionFor(store, rawId, 'newest');
  const durable = (rawId: unknown): StoredSession => sessionFor(store, rawId, 'durable');

  const findSong = async (sessionId: string, songId: string) => {
    const song = (await songbooks.get(sessionId))?.find(songId);
    if (!song) throw Errors.songNotFound();
    return song;
  };

  const requestId = (raw: string): string => {
    if (!isItemId(raw)) throw Errors.requestNotFound();
    return raw;
  };

  /** Commit, then answer with the new state as shown at the moment it was published. */
  const commitAndSend = async (res: Response, session: StoredSession): Promise<void> => {
    sendJson(res, changes.stateBytes(session, await changes.commit(session)));
  };

  router.post('/api/sessions', limits.create, async (req, res) => {
    const { name } = parse(CreateSessionBody, jsonBody(req));
    const at = now();
    let id = newSessionId();
    while (store.latest(id)) id = newSessionId();
    const hostKey = newKey();
    const session = queue.createSession({ id, name, hostKeyHash: hashKey(hostKey), origin: config.publicUrl ?? requestOrigin(req), now: at });
    await changes.create(session);
    const state = publicState(session, config.publicUrl, at.getTime());
    res.status(201).json({
      session: state,
      hostKey,
      joinUrl: state.joinUrl,
      qrUrl: state.qrUrl,
      displayUrl: state.displayUrl,
      hostUrl: hostUrl(session, config.publicUrl, hostKey),
    });
  });

  router.get('/api/sessions/:id', (req, res) => {
    sendJson(res, changes.stateBytes(durable(req.params.id), now().getTime()));
  });

  router.patch('/api/sessions/:id', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, bearerToken(req));
    const patch = parse(UpdateSessionBody, jsonBody(req));
    await commitAndSend(res, queue.updateSettings(session, patch, now()));
  });

  router.delete('/api/sessions/:id', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, bearerToken(req));
    await changes.remove(session);
    res.status(204).end();
  });

  router.post('/api/sessions/:id/singers', limits.join, async (req, res) => {
    const session = latest(req.params.id);
    const { name } = parse(JoinBody, jsonBody(req));
    // A phone that already joined under this name (its key sent along) is that singer, not a second one.
    const key = bearerToken(req);
    const actor = keyHolder(session, key);
    if (actor?.role === 'guest' && sameName(actor.singer.name, name)) {
      res.status(200).json({ singer: { id: actor.singer.id, name: actor.singer.name }, guestKey: key });
      return;
    }
    const at = now();
    const guestKey = newKey();
    const singer = { id: newItemId(), name, keyHash: hashKey(guestKey), createdAt: at.toISOString() };
    await changes.commit(queue.addSinger(session, singer, at, config.limits));
    res.status(201).json({ singer: { id: singer.id, name: singer.name }, guestKey });
  });

  router.post('/api/sessions/:id/requests', limits.request, async (req, res) => {
    const key = bearerToken(req);
    authenticate(latest(req.params.id), key);
    const { songId, ...body } = parse(RequestBody, jsonBody(req));
    const song = songId === undefined ? undefined : await findSong(latest(req.params.id).id, songId);
    // Read again after the songbook lookup: the newest state is what the change builds on.
    const session = latest(req.params.id);
    const added = queue.requestSong(session, authenticate(session, key), { ...body, song }, { request: newItemId(), singer: newItemId() }, now(), config.limits);
    const shownAt = await changes.commit(added.session);
    const request = queuedRequestJson(added.session, shownAt, added.position - 1);
    sendJson(res.status(201), Buffer.from(`{"request":${request},"position":${added.position}}`));
  });

  router.delete('/api/sessions/:id/requests/:requestId', async (req, res) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, bearerToken(req));
    // Who cancelled: a guest whose song the host took off is told by push; one who cancelled is not.
    await changes.commit(queue.cancelRequest(session, requestId(String(req.params.requestId)), actor, now()), { by: actor.role });
    res.status(204).end();
  });

  router.patch('/api/sessions/:id/requests/:requestId', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, bearerToken(req));
    const id = requestId(String(req.params.requestId));
    const { position } = parse(MoveBody, jsonBody(req));
    await commitAndSend(res, queue.moveRequest(session, id, position, now()));
  });

  router.post('/api/sessions/:id/next', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, bearerToken(req));
    const body = req.body === undefined ? {} : parse(NextBody, req.body);
    await commitAndSend(res, queue.advance(session, body.outcome ?? 'sung', now(), body.expectedCurrentId));
  });

  const streamAddress = clientAddress(config.clientIpHeader);
  router.get('/api/sessions/:id/events', (req, res) => {
    const session = durable(req.params.id);
    // HEAD must not open a stream that never ends; it says whether one would be let in now, with the
    // same 429/503 and Retry-After, since a page's EventSource cannot read a refusal (public/js/api.js).
    if (req.method === 'HEAD') {
      const refused = hub.refusal(session.id, streamAddress(req));
      if (refused) throw refused;
      res.status(200).type('text/event-stream').end();
      return;
    }
    hub.subscribe(session.id, res, changes.stateFrame(session, now().getTime()), streamAddress(req));
  });

  return router;
}
