import { isIP } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type Options } from 'express-rate-limit';
import type { RateLimits } from '../config.js';
import { Errors } from '../errors.js';
import { normalizeSessionId, type StoredSession } from '../model/session.js';
import { hashKey } from '../sessions/auth.js';
import { bearerToken } from './bearer.js';

export interface Limiters {
  api: RequestHandler;
  create: RequestHandler;
  /** Per device, then per session, then per address: a refused join never reaches the next budget. */
  join: RequestHandler;
  /** A guest's requests per guest key; the host's walk-ins per host key, on a budget of their own. */
  request: RequestHandler;
  /** Lookups of session codes: after too many unknown codes, every lookup from that address waits. */
  misses: RequestHandler;
}

export interface LimiterDeps {
  /** The session a code names, pending changes included; undefined when there is none. */
  find: (id: string) => StoredSession | undefined;
  /** The trusted proxy's header naming the client (Fly-Client-IP); unset = Express's req.ip. */
  clientIpHeader?: string | undefined;
}

/** The header the pages send with a random id they keep in localStorage (public/js/api.js). */
export const DEVICE_HEADER = 'X-Device-Id';
const DEVICE_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The client's address as every limit and stream cap counts it: the trusted proxy's header when
 * one is configured (TRUST_PROXY=fly), else Express's req.ip, which believes X-Forwarded-For only
 * from TRUST_PROXY's proxies. IPv6 addresses count by their /56, as one household's do.
 */
export function clientAddress(clientIpHeader: string | undefined): (req: Request) => string {
  if (clientIpHeader === undefined) return (req) => ipKeyGenerator(req.ip ?? '');
  return (req) => {
    const named = req.get(clientIpHeader)?.trim();
    // Without the header the request did not come through the proxy: its own peer, never a header it sent.
    return ipKeyGenerator(named !== undefined && isIP(named) !== 0 ? named : (req.socket.remoteAddress ?? ''));
  };
}

/** The session code of /api/sessions/:id…, /s/:id, /display/:id… and /qr-codes/:id.png. */
function sessionCode(req: Request): string | undefined {
  const { id, file } = req.params as Record<string, string | undefined>;
  const raw = id ?? file?.replace(/\.png$/i, '');
  return raw === undefined ? undefined : normalizeSessionId(raw);
}

const pass: RequestHandler = (_req, _res, next) => next();

/** Run handlers in turn, as Express would an array: the first to answer (or fail) ends the chain. */
function inTurn(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined || i === handlers.length) return next(err);
      void handlers[i++]!(req, res, step);
    };
    step();
  };
}

/**
 * Every limit is express-rate-limit's, counted in this process's memory. A whole bar often shares
 * one public address, so the per-address budgets are ceilings for a full room; what one phone or
 * one guest can do is bounded by the device and key budgets, which are much smaller.
 */
export function createLimiters(limits: RateLimits, deps: LimiterDeps): Limiters {
  if (!limits.enabled) return { api: pass, create: pass, join: pass, request: pass, misses: pass };
  const address = clientAddress(deps.clientIpHeader);
  const limiter = (windowMs: number, limit: number, key: (req: Request) => string, extra: Partial<Options> = {}) =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: key,
      handler: (_req, res, next) => next(Errors.rateLimited(res.getHeader('Retry-After')?.toString())),
      ...extra,
    });
  const byAddress = (req: Request) => `ip:${address(req)}`;

  const isHost = (req: Request): boolean => {
    const code = sessionCode(req);
    const key = bearerToken(req);
    const session = code === undefined ? undefined : deps.find(code);
    return session !== undefined && key !== undefined && hashKey(key) === session.hostKeyHash;
  };
  const byKey = (req: Request) => {
    const key = bearerToken(req);
    return key ? `key:${hashKey(key)}` : byAddress(req);
  };

  // A join without a device id (a script, not our page) shares one small budget per address.
  const device = (req: Request) => {
    const id = req.get(DEVICE_HEADER);
    return id !== undefined && DEVICE_ID.test(id) ? `device:${id}` : `anonymous:${address(req)}`;
  };
  const join = inTurn(
    limiter(60_000, limits.joinPerDevicePerMinute, device),
    limiter(60_000, limits.joinPerSessionPerMinute, (req) => `session:${sessionCode(req) ?? '-'}`),
    limiter(60_000, limits.joinPerMinute, byAddress),
  );
  const request = inTurn(
    limiter(60_000, limits.requestPerMinute, byKey, { skip: isHost }),
    limiter(60_000, limits.walkInPerMinute, byKey, { skip: (req) => !isHost(req) }),
  );

  // Only misses count, but once an address is over, hits wait too: a 429 that came only for
  // unknown codes would itself say which codes exist.
  const missStore = new MemoryStore();
  const missKey = (req: Request) => `miss:${address(req)}`;
  const misses = limiter(60_000, limits.missesPerMinute, missKey, {
    store: missStore,
    skip: async (req) => {
      const code = sessionCode(req);
      if (code === undefined || deps.find(code) === undefined) return false;
      return ((await missStore.get(missKey(req)))?.totalHits ?? 0) < limits.missesPerMinute;
    },
    // A hit that was counted (the address was over) stays counted; only a 404 is a miss.
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 404 && res.statusCode !== 429,
    handler: (req, res, next) => {
      const retryAfter = res.getHeader('Retry-After')?.toString();
      if (req.originalUrl.startsWith('/api/') || !req.accepts('html')) return next(Errors.rateLimited(retryAfter));
      // A page: one sentence a person can act on, not an API error body.
      res.status(429).type('text/plain').send(`Too many wrong session codes from this network. Wait ${retryAfter ?? 60} seconds, then check the code and try again.`);
    },
  });

  return {
    api: limiter(60_000, limits.apiPerMinute, byAddress),
    create: limiter(3_600_000, limits.createPerHour, byAddress),
    join,
    request,
    misses,
  };
}
