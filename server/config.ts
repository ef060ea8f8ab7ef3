import path from 'node:path';
import { z } from 'zod';
import { StartupError } from './lib/startup-error.js';
import { MAX_PUSH_SUBSCRIPTIONS } from './model/session.js';

export interface RateLimits {
  enabled: boolean;
  createPerHour: number;
  joinPerMinute: number;
  requestPerMinute: number;
  apiPerMinute: number;
  /** Joins per device (the id the page keeps) per minute; a join without one counts per address at this rate. */
  joinPerDevicePerMinute: number;
  /** Joins into one session per minute, from everyone. */
  joinPerSessionPerMinute: number;
  /** The host's walk-in requests per host key per minute: not the guests' budget. */
  walkInPerMinute: number;
  /** Unknown session codes one address may look up per minute before every lookup of its answers 429. */
  missesPerMinute: number;
}

/** Caps on open event streams; over one, 429 (address, session) or 503 (server) with Retry-After. */
export interface StreamLimits {
  perAddress: number;
  perSession: number;
  total: number;
  /** A stream is ended after this long (give or take a tenth) and the page reconnects at once. */
  maxLifetimeMs: number;
  /** What Retry-After says over a cap (the page waits this, plus a little at random). */
  retryAfterSeconds: number;
}

/** How much one night may hold; new additions past a limit are refused, what is stored stays (sessions/limits.ts). */
export interface NightLimits {
  /** Singers who joined or were added tonight, walk-ins too. */
  singersPerNight: number;
  /** Songs waiting in the queue. */
  queuedSongs: number;
  /** Songs of the night: sung or skipped, on stage and queued. */
  songsPerNight: number;
  /** Phones one singer may have told to notify them; past it the oldest is let go. */
  pushPerSinger: number;
}

export interface Config {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string | undefined;
  trustProxy: string | number | boolean;
  /** A header the trusted proxy sets to the client's address (TRUST_PROXY=fly: Fly-Client-IP); rate limits key on it. */
  clientIpHeader: string | undefined;
  logLevel: string;
  rateLimits: RateLimits;
  bodyLimitBytes: number;
  sseHeartbeatMs: number;
  sseMaxBufferBytes: number;
  backupIntervalMs: number;
  backupKeep: number;
  sessionTtlDays: number;
  allowEphemeralData: boolean;
  adminToken: string | undefined;
  shutdownTimeoutMs: number;
  /** Largest songbook upload. */
  songbookMaxBytes: number;
  /** Memory the loaded songbook indexes may use together; least recently searched ones are let go. */
  songbookMemoryBytes: number;
  /** Archived nights kept per room (oldest dropped first). */
  nightsKeep: number;
  /** A night idle this long is over: archived by housekeeping, the room opened fresh. */
  nightIdleHours: number;
  /** How often the DATA_DIR lock's holder renews it; a newcomer elsewhere waits 3 of these before taking a silent lock. */
  lockHeartbeatMs: number;
  push: PushConfig;
  /** Bounded work (issue 12): event-stream caps, the bound on connections and the slow-client timeouts. */
  streams: StreamLimits;
  /** Open TCP connections the server accepts (`server.maxConnections`), below Fly's hard_limit; 0 = no bound. */
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  limits: NightLimits;
  /** Set: sessions live in PostgreSQL (several instances may share it) instead of DATA_DIR. */
  database: DatabaseConfig | undefined;
}

export interface DatabaseConfig {
  url: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export interface PushConfig {
  /** VAPID keys from the environment (base64url); unset = generated at the first start and kept under DATA_DIR. */
  publicKey: string | undefined;
  privateKey: string | undefined;
  /** The contact in every VAPID token; unset = PUBLIC_URL when it is https, else push is off. */
  subject: string | undefined;
  /** Tests and development only: also accept push endpoints on loopback addresses. */
  allowLocalEndpoints: boolean;
}

export class ConfigError extends StartupError {
  override name = 'ConfigError';
}

const flag = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const ADMIN_TOKEN_MIN_DISTINCT = 10;

/** A run a person types instead of a secret: every step between neighbours the same (aaaa…, abcdef…, 987654…). */
const steadyRun = (s: string): boolean => {
  const codes = [...s].map((c) => c.codePointAt(0)!);
  return codes.every((c, i) => i < 2 || c - codes[i - 1]! === codes[1]! - codes[0]!);
};

/**
 * One rule for ADMIN_TOKEN, at the server's start and in the scripts (adminTokenProblem): the token
 * guards the whole store's export and import, so 24 characters of `aaaa…` or `0123…` are no guard.
 * Ten distinct characters is the floor `openssl rand -hex 32` clears with room to spare.
 */
const AdminTokenSchema = z
  .string()
  .min(24, { error: 'must be at least 24 characters (make one with `openssl rand -hex 32`)' })
  .refine((s) => !steadyRun(s), { error: 'is a simple run of characters, not a secret (make one with `openssl rand -hex 32`)', abort: true })
  .refine((s) => new Set(s).size >= ADMIN_TOKEN_MIN_DISTINCT, {
    error: `must have at least ${ADMIN_TOKEN_MIN_DISTINCT} distinct characters (make one with \`openssl rand -hex 32\`)`,
  });

/** What is wrong with an admin token, as the check of ADMIN_TOKEN at start says it; undefined when it is fine. */
export function adminTokenProblem(token: string): string | undefined {
  const result = AdminTokenSchema.safeParse(token);
  return result.success ? undefined : result.error.issues[0]?.message;
}

const base64url = (bytes: number, what: string) =>
  z.string().refine((s) => /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').length === bytes, {
    error: `must be ${what} (${bytes} bytes, base64url), as made by \`npx web-push generate-vapid-keys\``,
  });

/** A host Apple's push service would refuse in a VAPID subject (web-push issue #947). */
const localHost = (host: string) =>
  /^(localhost|.*\.localhost|.*\.local|.*\.internal|.*\.test|.*\.invalid)$/i.test(host) || host.startsWith('[') || /^[\d.]+$/.test(host);

/** mailto: with a real domain, or an https URL that is not localhost. */
function realSubject(s: string): boolean {
  if (s.startsWith('mailto:')) {
    const domain = /^mailto:[^@\s]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})$/.exec(s)?.[1];
    return domain !== undefined && !localHost(domain);
  }
  return URL.canParse(s) && new URL(s).protocol === 'https:' && !localHost(new URL(s).hostname);
}

const EnvSchema = z.object({
  NODE_ENV: optional(z.string()),
  PORT: optional(int(0, 65535)),
  HOST: optional(z.string().min(1)),
  DATA_DIR: optional(z.string().min(1)),
  PUBLIC_URL: optional(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) origin such as https://my-karaoke.fly.dev' })
      // The url check above already reports what URL cannot parse; zod runs this check anyway.
      .refine((u) => !URL.canParse(u) || (new URL(u).pathname === '/' && !new URL(u).search && !new URL(u).hash), {
        error: 'must be an origin with no path, such as https://my-karaoke.fly.dev',
      })
      .transform((u) => new URL(u).origin),
  ),
  TRUST_PROXY: optional(z.string().min(1)),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  RATE_LIMIT: optional(flag),
  RATE_LIMIT_CREATE_PER_HOUR: optional(int(1, 1_000_000)),
  RATE_LIMIT_JOIN_PER_MINUTE: optional(int(1, 1_000_000)),
  RATE_LIMIT_REQUEST_PER_MINUTE: optional(int(1, 1_000_000)),
  RATE_LIMIT_API_PER_MINUTE: optional(int(1, 10_000_000)),
  RATE_LIMIT_JOIN_PER_DEVICE_PER_MINUTE: optional(int(1, 1_000_000)),
  RATE_LIMIT_JOIN_PER_SESSION_PER_MINUTE: optional(int(1, 1_000_000)),
  RATE_LIMIT_WALK_IN_PER_MINUTE: optional(int(1, 1_000_000)),
  RATE_LIMIT_MISSES_PER_MINUTE: optional(int(1, 1_000_000)),
  SSE_MAX_PER_ADDRESS: optional(int(1, 1_000_000)),
  SSE_MAX_PER_SESSION: optional(int(1, 1_000_000)),
  SSE_MAX_STREAMS: optional(int(1, 1_000_000)),
  SSE_MAX_LIFETIME_MINUTES: optional(int(1, 24 * 60)),
  SSE_RETRY_AFTER_SECONDS: optional(int(1, 3600)),
  MAX_CONNECTIONS: optional(int(0, 1_000_000)),
  HEADERS_TIMEOUT_SECONDS: optional(int(1, 300)),
  REQUEST_TIMEOUT_SECONDS: optional(int(1, 3600)),
  BODY_LIMIT_BYTES: optional(int(256, 1_048_576)),
  SSE_HEARTBEAT_SECONDS: optional(int(1, 25)),
  SSE_MAX_BUFFER_BYTES: optional(int(16_384, 64 * 1_048_576)),
  BACKUP_INTERVAL_MINUTES: optional(int(0, 7 * 24 * 60)),
  BACKUP_KEEP: optional(int(1, 1000)),
  SESSION_TTL_DAYS: optional(int(1, 3650)),
  ALLOW_EPHEMERAL_DATA: optional(flag),
  ADMIN_TOKEN: optional(AdminTokenSchema),
  SHUTDOWN_TIMEOUT_SECONDS: optional(int(1, 300)),
  SONGBOOK_MAX_MB: optional(int(1, 200)),
  SONGBOOK_MEMORY_MB: optional(int(8, 16_384)),
  NIGHTS_KEEP: optional(int(1, 1000)),
  NIGHT_IDLE_HOURS: optional(int(1, 24 * 14)),
  LOCK_HEARTBEAT_SECONDS: optional(int(1, 60)),
  VAPID_PUBLIC_KEY: optional(base64url(65, 'an uncompressed P-256 public key')),
  VAPID_PRIVATE_KEY: optional(base64url(32, 'a P-256 private key')),
  VAPID_SUBJECT: optional(
    z.string().refine(realSubject, {
      error: "must be a mailto: address or an https: URL on a real domain (Apple's push service refuses localhost with 403 BadJwtToken)",
    }),
  ),
  PUSH_ALLOW_LOCAL_ENDPOINTS: optional(flag),
  MAX_SINGERS_PER_NIGHT: optional(int(1, 10_000)),
  MAX_QUEUED_SONGS: optional(int(1, 10_000)),
  MAX_SONGS_PER_NIGHT: optional(int(1, 100_000)),
  MAX_PUSH_SUBSCRIPTIONS_PER_SINGER: optional(int(1, MAX_PUSH_SUBSCRIPTIONS)),
  DATABASE_URL: optional(
    z.string().refine((u) => URL.canParse(u) && ['postgres:', 'postgresql:'].includes(new URL(u).protocol), {
      error: 'must be a postgres:// URL such as postgres://user:password@host:5432/karaoke?sslmode=require',
    }),
  ),
  PG_POOL_MAX: optional(int(1, 200)),
  PG_CONNECT_TIMEOUT_SECONDS: optional(int(1, 120)),
  PG_STATEMENT_TIMEOUT_SECONDS: optional(int(1, 600)),
})
  .refine((e) => (e.VAPID_PUBLIC_KEY === undefined) === (e.VAPID_PRIVATE_KEY === undefined), {
    error: 'must be set together with VAPID_PUBLIC_KEY (both or neither)',
    path: ['VAPID_PRIVATE_KEY'],
  });

/**
 * Whose forwarding headers to believe. By default only loopback (a proxy on the same machine):
 * trusting every private range let anyone on a bar's LAN, a Docker or a Kubernetes network pick
 * their own rate-limit bucket with X-Forwarded-For. `fly`: Fly's proxy is the one hop in front of
 * the Machine, and it names the client in Fly-Client-IP (https://fly.io/docs/networking/request-headers/);
 * its X-Forwarded-For ends with the app's own address, not the client's.
 */
function parseTrustProxy(value: string | undefined): string | number | boolean {
  if (value === undefined) return 'loopback';
  if (value === 'fly') return 1;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Reads the environment once; any problem becomes one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Readonly<Config> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const nodeEnv = e.NODE_ENV ?? 'development';
  const production = nodeEnv === 'production';
  return Object.freeze({
    nodeEnv,
    production,
    port: e.PORT ?? 3000,
    host: e.HOST ?? '0.0.0.0',
    dataDir: path.resolve(cwd, e.DATA_DIR ?? (production ? '/data' : './data')),
    publicUrl: e.PUBLIC_URL,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    clientIpHeader: e.TRUST_PROXY === 'fly' ? 'fly-client-ip' : undefined,
    logLevel: e.LOG_LEVEL ?? 'info',
    rateLimits: Object.freeze({
      enabled: e.RATE_LIMIT ?? true,
      createPerHour: e.RATE_LIMIT_CREATE_PER_HOUR ?? 30,
      joinPerMinute: e.RATE_LIMIT_JOIN_PER_MINUTE ?? 300,
      requestPerMinute: e.RATE_LIMIT_REQUEST_PER_MINUTE ?? 10,
      apiPerMinute: e.RATE_LIMIT_API_PER_MINUTE ?? 1200,
      joinPerDevicePerMinute: e.RATE_LIMIT_JOIN_PER_DEVICE_PER_MINUTE ?? 5,
      joinPerSessionPerMinute: e.RATE_LIMIT_JOIN_PER_SESSION_PER_MINUTE ?? 120,
      walkInPerMinute: e.RATE_LIMIT_WALK_IN_PER_MINUTE ?? 60,
      missesPerMinute: e.RATE_LIMIT_MISSES_PER_MINUTE ?? 30,
    }),
    bodyLimitBytes: e.BODY_LIMIT_BYTES ?? 8192,
    sseHeartbeatMs: (e.SSE_HEARTBEAT_SECONDS ?? 20) * 1000,
    sseMaxBufferBytes: e.SSE_MAX_BUFFER_BYTES ?? 1_048_576,
    backupIntervalMs: (e.BACKUP_INTERVAL_MINUTES ?? 60) * 60_000,
    backupKeep: e.BACKUP_KEEP ?? 48,
    sessionTtlDays: e.SESSION_TTL_DAYS ?? 30,
    allowEphemeralData: e.ALLOW_EPHEMERAL_DATA ?? false,
    adminToken: e.ADMIN_TOKEN,
    shutdownTimeoutMs: (e.SHUTDOWN_TIMEOUT_SECONDS ?? 20) * 1000,
    songbookMaxBytes: (e.SONGBOOK_MAX_MB ?? 20) * 1024 * 1024,
    songbookMemoryBytes: (e.SONGBOOK_MEMORY_MB ?? 64) * 1024 * 1024,
    nightsKeep: e.NIGHTS_KEEP ?? 52,
    nightIdleHours: e.NIGHT_IDLE_HOURS ?? 12,
    lockHeartbeatMs: (e.LOCK_HEARTBEAT_SECONDS ?? 2) * 1000,
    push: Object.freeze({
      publicKey: e.VAPID_PUBLIC_KEY,
      privateKey: e.VAPID_PRIVATE_KEY,
      subject: e.VAPID_SUBJECT ?? (e.PUBLIC_URL !== undefined && realSubject(e.PUBLIC_URL) ? e.PUBLIC_URL : undefined),
      allowLocalEndpoints: e.PUSH_ALLOW_LOCAL_ENDPOINTS ?? false,
    }),
    // Derived in docs/scaling.md ("Event streams and connections") from the memory a stream was measured to take.
    streams: Object.freeze({
      perAddress: e.SSE_MAX_PER_ADDRESS ?? 300,
      perSession: e.SSE_MAX_PER_SESSION ?? 600,
      total: e.SSE_MAX_STREAMS ?? 1200,
      maxLifetimeMs: (e.SSE_MAX_LIFETIME_MINUTES ?? 30) * 60_000,
      retryAfterSeconds: e.SSE_RETRY_AFTER_SECONDS ?? 30,
    }),
    maxConnections: e.MAX_CONNECTIONS ?? 1400,
    headersTimeoutMs: (e.HEADERS_TIMEOUT_SECONDS ?? 20) * 1000,
    requestTimeoutMs: (e.REQUEST_TIMEOUT_SECONDS ?? 30) * 1000,
    limits: Object.freeze({
      singersPerNight: e.MAX_SINGERS_PER_NIGHT ?? 300,
      queuedSongs: e.MAX_QUEUED_SONGS ?? 200,
      songsPerNight: e.MAX_SONGS_PER_NIGHT ?? 1000,
      pushPerSinger: e.MAX_PUSH_SUBSCRIPTIONS_PER_SINGER ?? 3,
    }),
    database:
      e.DATABASE_URL === undefined
        ? undefined
        : Object.freeze({
            url: e.DATABASE_URL,
            poolMax: e.PG_POOL_MAX ?? 10,
            connectTimeoutMs: (e.PG_CONNECT_TIMEOUT_SECONDS ?? 5) * 1000,
            statementTimeoutMs: (e.PG_STATEMENT_TIMEOUT_SECONDS ?? 10) * 1000,
          }),
  });
}

/** A config for tests and tools: defaults plus overrides, without reading the environment. */
export function testConfig(overrides: Partial<Config> & { dataDir: string }): Readonly<Config> {
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  return Object.freeze({ ...base, ...overrides });
}
