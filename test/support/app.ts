import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import request from 'supertest';
import { createApp } from '../../server/app.js';
import { testConfig, type Config } from '../../server/config.js';
import type { EventHub } from '../../server/events.js';
import type { PushSender } from '../../server/push/sender.js';
import type { QrCodes } from '../../server/qr.js';
import type { VapidKeys } from '../../server/push/keys.js';
import { buildServices } from '../../server/services.js';
import type { SessionChanges } from '../../server/sessions/changes.js';
import type { SongbookWorker } from '../../server/songbook/worker-client.js';
import { openPgStore, openStore, readStoredData, serializeData, type SessionStore } from '../../server/store/index.js';
import { freshSchema, onPostgres, TEST_DATABASE_URL } from './pg.js';

export interface TestApp {
  app: Express;
  hub: EventHub;
  qr: QrCodes;
  changes: SessionChanges;
  push: PushSender;
  store: SessionStore;
  config: Readonly<Config>;
  log: Logger;
  now: () => Date;
  songbookWorker: SongbookWorker;
  dataDir: string;
  /** The PostgreSQL schema the app's store is on, when it runs on PostgreSQL. */
  schema: string | undefined;
  /** Close the store (flush, release the lock) and the songbook worker; safe to call twice. */
  close(): Promise<void>;
}

export async function tempDataDir(t: TestContext, prefix = 'karaoke-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // Retried: a server process stopped by a later hook may still be writing into the folder.
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}

/** Every session as a restart would load it (data.json with the journal replayed), in data.json's format. */
export async function durableText(dataDir: string): Promise<string> {
  return serializeData(await readStoredData(dataDir)).toString('utf8');
}

type Overrides = Partial<Omit<Config, 'rateLimits'>> & { rateLimits?: Partial<Config['rateLimits']> };

/** An isolated app on its own temporary DATA_DIR (or the one given), closed after the test. */
export async function buildApp(
  t: TestContext,
  options: {
    dataDir?: string;
    config?: Overrides;
    now?: () => Date;
    vapidKeys?: VapidKeys;
    /** 'json': this test looks at DATA_DIR's files, so it runs on the JSON store whatever the store under test. */
    store?: 'json';
    /** On PostgreSQL: reopen this schema (a restart), or share it with another app (a second instance). */
    schema?: string;
    /** Another PostgreSQL database than the test database (its default schema unless `schema`). */
    databaseUrl?: string;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await tempDataDir(t));
  const base = testConfig({ dataDir });
  const config = Object.freeze({
    ...base,
    ...options.config,
    dataDir,
    rateLimits: { ...base.rateLimits, enabled: false, ...options.config?.rateLimits },
  });
  // An app on a folder of its own may run on the store under test; one on a given folder (a restart,
  // files the test looks at) is the JSON store's.
  const schema =
    options.schema ??
    (options.databaseUrl === undefined && onPostgres && options.dataDir === undefined && options.store !== 'json' ? await freshSchema(t) : undefined);
  const store: SessionStore =
    schema !== undefined || options.databaseUrl !== undefined
      ? await openPgStore({ connectionString: options.databaseUrl ?? TEST_DATABASE_URL!, poolMax: 4, ...(schema !== undefined ? { schema } : {}) })
      : (await openStore({ dataDir })).store;
  const log = pino({ level: 'silent' });
  const now = options.now ?? (() => new Date());
  const { hub, qr, changes, songbooks, songbookWorker, push } = buildServices({ config, store, log, now, vapidKeys: options.vapidKeys });
  await qr.prepare();
  const app = createApp({ config, store, hub, qr, changes, songbooks, songbookWorker, push, log, now });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    hub.close();
    await push.close();
    await songbookWorker.close();
    await store.close();
  };
  t.after(close);
  return { app, hub, qr, changes, push, store, config, log, now, songbookWorker, dataDir, schema, close };
}

/** The same data opened again by a new app (a restart): the same DATA_DIR, or the same database schema. */
export function reopen(t: TestContext, first: TestApp, options: Omit<NonNullable<Parameters<typeof buildApp>[1]>, 'dataDir' | 'schema'> = {}): Promise<TestApp> {
  return buildApp(t, { ...options, ...(first.schema !== undefined ? { schema: first.schema } : { dataDir: first.dataDir }) });
}

/** The app on a real port (for SSE and browsers); every connection is closed after the test. */
export async function listen(t: TestContext, app: TestApp): Promise<{ url: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        app.hub.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

export interface CreatedSession {
  id: string;
  hostKey: string;
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
  hostUrl: string;
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

export async function createSession(app: TestApp['app'], name = 'Friday Night'): Promise<CreatedSession> {
  const res = await request(app).post('/api/sessions').send({ name }).expect(201);
  const body = res.body as CreatedSession & { session: { id: string } };
  return { ...body, id: body.session.id };
}

export async function joinAs(app: TestApp['app'], sessionId: string, name: string): Promise<{ id: string; key: string }> {
  const res = await request(app).post(`/api/sessions/${sessionId}/singers`).send({ name }).expect(201);
  return { id: res.body.singer.id as string, key: res.body.guestKey as string };
}

export async function requestSong(
  app: TestApp['app'],
  sessionId: string,
  key: string,
  title: string,
  artist = 'Artist',
): Promise<{ id: string; position: number }> {
  const res = await request(app)
    .post(`/api/sessions/${sessionId}/requests`)
    .set(bearer(key))
    .send({ title, artist })
    .expect(201);
  return { id: res.body.request.id as string, position: res.body.position as number };
}

/** Queue as "Singer:Title" strings: easy to compare with an expected order. */
export async function queueOf(app: TestApp['app'], sessionId: string): Promise<string[]> {
  const res = await request(app).get(`/api/sessions/${sessionId}`).expect(200);
  return (res.body.queue as { singer: { name: string }; title: string }[]).map((r) => `${r.singer.name}:${r.title}`);
}
