import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RateLimits } from '../config.js';
import { Errors } from '../errors.js';
import { hashKey } from '../sessions/auth.js';
import { bearerToken } from './bearer.js';

export interface Limiters {
  api: RequestHandler;
  create: RequestHandler;
  join: RequestHandler;
  request: RequestHandler;
}

const pass: RequestHandler = (_req, _res, next) => next();

/**
 * A whole bar often shares one public IP, so guests' song requests are limited per guest key,
 * and only creation, joining and the overall API rate per IP.
 */
export function createLimiters(limits: RateLimits): Limiters {
  if (!limits.enabled) return { api: pass, create: pass, join: pass, request: pass };
  const limiter = (windowMs: number, limit: number, key: 'ip' | 'key') =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => {
        const ip = ipKeyGenerator(req.ip ?? '');
        const bearer = key === 'key' ? bearerToken(req) : undefined;
        return bearer ? `key:${hashKey(bearer)}` : `ip:${ip}`;
      },
      handler: (_req, res, next) => next(Errors.rateLimited(res.getHeader('Retry-After')?.toString())),
    });
  return {
    api: limiter(60_000, limits.apiPerMinute, 'ip'),
    create: limiter(3_600_000, limits.createPerHour, 'ip'),
    join: limiter(60_000, limits.joinPerMinute, 'ip'),
    request: limiter(60_000, limits.requestPerMinute, 'key'),
  };
}
