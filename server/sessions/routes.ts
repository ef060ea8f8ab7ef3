import { Router, type Request, type RequestHandler, type Response } from 'express';
import { customAlphabet, nanoid } from 'nanoid';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import { EventHub } from '../events.js';
import type { QrCodes } from '../qr.js';
import type { SessionStore } from '../store/store.js';
import { authenticate, hashKey, newKey, requireHost } from './auth.js';
import { isItemId, normalizeSessionId, SESSION_ID_ALPHABET, SESSION_ID_LENGTH, type StoredSession } from './model.js';
import * as queue from './queue.js';
import { publicRequestAt, publicState, publicStateBytes, type PublicState } from './view.js';
import {
  CreateSessionBody,
  JoinBody,
  MoveBody,
  NextBody,
  parseBody,
  RequestBody,
  UpdateSessionBody,
} from './validation.js';

export interface SessionRoutesDeps {
  config: Readonly<Config>;
  store: SessionStore;
  hub: EventHub;
  qr: QrCodes;
  limits: { create: RequestHandler; join: RequestHandler; request: RequestHandler };
  now: () => Date;
}

const newSessionId = customAlphabet(SESSION_ID_ALPHABET, SESSION_ID_LENGTH);
const newItemId = () => nanoid(12);

/** The origin the QR code should encode when PUBLIC_URL is unset: what the client used to reach us. */
function requestOrigin(req: Request): string {
  try {
    return new URL(`${req.protocol}://${req.host}`).origin;
  } catch {
    return 'http://localhost';
  }
}

/**
 * Send JSON made elsewhere (the cached state). res.json would serialise again and hash the body
 * for an ETag that can never match: every state carries the time it was made.
 */
function sendJson(res: Response, body: Buffer): void {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

export function sessionRoutes({ config, store, hub, qr, limits, now }: SessionRoutesDeps): Router {
  const router = Router();

  const view = (session: StoredSession): PublicState => publicState(session, config.publicUrl, now().getTime());

  /** For writes: the newest state, so a change builds on every change before it. */
  const latest = (rawId: unknown): StoredSession => {
    const id = normalizeSessionId(String(rawId));
    const session = id ? store.latest(id) : undefined;
    if (!session) throw Errors.sessionNotFound();
    return session;
  };

  /** For reads: only what is already durable. */
  const durable = (rawId: unknown): StoredSession => {
    const id = normalizeSessionId(String(rawId));
    const session = id ? store.get(id) : undefined;
    if (!session) throw Errors.sessionNotFound();
    return session;
  };

  const requestId = (raw: string): string => {
    if (!isItemId(raw)) throw Errors.requestNotFound();
    return raw;
  };

  const stateBytes = (session: StoredSession, nowMs = now().getTime()): Buffer => publicStateBytes(session, config.publicUrl, nowMs);

  /**
   * Commit durably, then push the whole new state to every open stream of the session (if it has
   * any: nobody else needs it made). Returns the time the new state is shown at.
   */
  const commit = async (session: StoredSession): Promise<number> => {
    await store.put(session);
    const nowMs = now().getTime();
    if (hub.watching(session.id)) hub.publish(session.id, EventHub.frameBytes('state', session.version, stateBytes(session, nowMs)));
    return nowMs;
  };

  router.post('/api/sessions', limits.create, async (req, res) => {
    const { name } = parseBody(CreateSessionBody, req);
    let id = newSessionId();
    while (store.latest(id)) id = newSessionId();
    const hostKey = newKey();
    const session = queue.createSession({
      id,
      name,
      hostKeyHash: hashKey(hostKey),
      origin: config.publicUrl ?? requestOrigin(req),
      now: now(),
    });
    await qr.write(session);
    await store.put(session);
    const state = view(session);
    res.status(201).json({
      session: state,
      hostKey,
      joinUrl: state.joinUrl,
      qrUrl: state.qrUrl,
      displayUrl: state.displayUrl,
      // In the fragment, so the key never reaches a server or proxy log.
      hostUrl: `${new URL(state.joinUrl).origin}/host/${id}#key=${hostKey}`,
    });
  });

  router.get('/api/sessions/:id', (req, res) => {
    sendJson(res, stateBytes(durable(req.params.id)));
  });

  router.patch('/api/sessions/:id', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, req);
    const patch = parseBody(UpdateSessionBody, req);
    const changed = queue.updateSettings(session, patch, now());
    sendJson(res, stateBytes(changed, await commit(changed)));
  });

  router.delete('/api/sessions/:id', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, req);
    await store.remove(session.id);
    await store.qr.remove(session.id);
    hub.endSession(session.id, EventHub.frame('deleted', session.version + 1, { id: session.id }));
    res.status(204).end();
  });

  router.post('/api/sessions/:id/singers', limits.join, async (req, res) => {
    const session = latest(req.params.id);
    const { name } = parseBody(JoinBody, req);
    const guestKey = newKey();
    const singer = { id: newItemId(), name, keyHash: hashKey(guestKey), createdAt: now().toISOString() };
    await commit(queue.addSinger(session, singer, now()));
    res.status(201).json({ singer: { id: singer.id, name: singer.name }, guestKey });
  });

  router.post('/api/sessions/:id/requests', limits.request, async (req, res) => {
    let session = latest(req.params.id);
    const actor = authenticate(session, req);
    const body = parseBody(RequestBody, req);
    let singer;
    if (actor.role === 'guest') {
      if (body.singerName !== undefined) throw Errors.hostOnly();
      singer = actor.singer;
    } else {
      if (body.singerName === undefined) throw Errors.invalidInput('singerName: the host must name the walk-in singer');
      singer = queue.findWalkIn(session, body.singerName);
      if (!singer) {
        singer = { id: newItemId(), name: body.singerName, keyHash: null, createdAt: now().toISOString() };
        session = queue.addSinger(session, singer, now());
      }
    }
    const added = queue.addRequest(
      session,
      {
        id: newItemId(),
        singer: { id: singer.id, name: singer.name },
        title: body.title,
        artist: body.artist ?? '',
        link: body.link ?? null,
      },
      now(),
    );
    const nowMs = await commit(added.session);
    const request = publicRequestAt(added.session, added.position - 1, nowMs);
    res.status(201).json({ request, position: added.position });
  });

  router.delete('/api/sessions/:id/requests/:requestId', async (req, res) => {
    const session = latest(req.params.id);
    const actor = authenticate(session, req);
    await commit(queue.cancelRequest(session, requestId(String(req.params.requestId)), actor, now()));
    res.status(204).end();
  });

  router.patch('/api/sessions/:id/requests/:requestId', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, req);
    const id = requestId(String(req.params.requestId));
    const { position } = parseBody(MoveBody, req);
    const moved = queue.moveRequest(session, id, position, now());
    sendJson(res, stateBytes(moved, await commit(moved)));
  });

  router.post('/api/sessions/:id/next', async (req, res) => {
    const session = latest(req.params.id);
    requireHost(session, req);
    const body = req.body === undefined ? {} : parseBody(NextBody, req);
    const advanced = queue.advance(session, body.outcome ?? 'sung', now(), body.expectedCurrentId);
    sendJson(res, stateBytes(advanced, await commit(advanced)));
  });

  // Phones arriving together (the QR code on the TV, everyone reconnecting after a deploy) share
  // one first frame: the same session in the same millisecond gives the same bytes.
  let firstFrame: { session: StoredSession; nowMs: number; bytes: Buffer } | undefined;

  router.get('/api/sessions/:id/events', (req, res) => {
    const session = durable(req.params.id);
    // HEAD must not open a stream that never ends.
    if (req.method === 'HEAD') {
      res.status(200).type('text/event-stream').end();
      return;
    }
    const nowMs = now().getTime();
    if (firstFrame?.session !== session || firstFrame.nowMs !== nowMs) {
      firstFrame = { session, nowMs, bytes: EventHub.frameBytes('state', session.version, stateBytes(session, nowMs)) };
    }
    hub.subscribe(session.id, res, firstFrame.bytes);
  });

  return router;
}
