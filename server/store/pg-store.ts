import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sha256 } from '../lib/hash.js';
import { ArchivedNightSchema, type ArchivedNight } from '../model/night.js';
import { StoredSessionSchema, type StoredSession } from '../model/session.js';
import { decodeStoredSongbook, encodeStoredSongbook, type StoredSongbook } from '../model/song.js';
import { backupName } from './backup-files.js';
import { parseData, SCHEMA_VERSION } from './data-file.js';
import { StoreClosedError, StoreConflictError, StoreUnavailableError, UnreadableDataError } from './errors.js';
import { exportBytes } from './export-format.js';
import { migratePg } from './pg-schema.js';
import { describePgUrl } from './pg-url.js';
import { serializeData } from './serialize.js';
import type { BackupReason, BackupRecord, ExternalChange, NightArchive, ReplaceSummary, SessionStore, SongbookStore, StoreProbe, StoreStats } from './store.js';

/** The channel every instance listens on; a payload is `<instance> <id> <version>`, or `<instance> *` after an import. */
export const PG_CHANNEL = 'karaoke_sessions';
/** Named in pg_stat_activity, so an operator (and a test) can tell the listening connections apart. */
export const PG_LISTEN_APP = 'karaoke-listen';

export interface PgStoreOptions {
  connectionString: string;
  /** Connections in the pool (PG_POOL_MAX). */
  poolMax?: number;
  /** How long a request waits for a connection, and a statement may run, before it answers 503. */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** For tests: a schema of their own in a shared database. */
  schema?: string;
  /** Errors the store cannot answer to anyone (the listening connection lost, a reconnect failing). */
  onError?: (err: unknown, what: string) => void;
  /** For tests: how long the listening connection waits before it connects again. */
  reconnectMs?: number;
}

const digest = (bytes: Uint8Array) => sha256(bytes, 'hex');

function parseSession(raw: unknown, id: string): StoredSession {
  const result = StoredSessionSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UnreadableDataError(`the database holds session ${id} in a shape this server does not understand (${issue?.path.join('.')}: ${issue?.message}).`, 'Restore it from a backup.');
  }
  return result.data;
}

/** A database that cannot be reached or written is the operator's to fix: 503, like a full disk. */
function unavailable(what: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`could not ${what}: the database did not answer`, { cause: err });
}

/**
 * The PostgreSQL store, for a service that runs several instances: the same SessionStore as the
 * JSON file, with the database as the one truth. Each instance keeps every session in memory (as the
 * JSON store does) so reads never wait on the network; a change is written with a version check
 * (`UPDATE … WHERE version = <the version it was built on>`), so two instances can never overwrite
 * each other's change: the loser gets StoreConflictError and the route runs again on the newer
 * state. Every committed change NOTIFYs the others, which read it once and pass it on to their own
 * event streams.
 */
export class PgSessionStore implements SessionStore {
  readonly kind = 'postgres' as const;
  readonly instance = randomUUID();
  private readonly committed = new Map<string, StoredSession>();
  /** Changes made here and not yet committed: `null` for a removal. What the next change builds on. */
  private readonly pending = new Map<string, StoredSession | null>();
  /** One write at a time per session, in the order they were made. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly listeners: ((change: ExternalChange) => void)[] = [];
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastBackupDigest: string | undefined;
  private readonly counters: StoreStats = { flushes: 0, changesFlushed: 0, failedFlushes: 0, checkpoints: 0 };
  readonly songbooks: SongbookStore;
  readonly nights: NightArchive;

  private constructor(
    readonly pool: pg.Pool,
    private readonly options: PgStoreOptions,
    private readonly clientConfig: pg.ClientConfig,
  ) {
    this.songbooks = new PgSongbooks(pool);
    this.nights = new PgNights(pool);
  }

  /** Connect, migrate (one instance at a time), listen, then load every session. */
  static async open(options: PgStoreOptions): Promise<PgSessionStore> {
    const clientConfig: pg.ClientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      // A query whose connection went dead (PostgreSQL stopped) fails instead of hanging.
      query_timeout: (options.statementTimeoutMs ?? 10_000) + 2000,
      application_name: 'karaoke',
      ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
    };
    const pool = new pg.Pool({ ...clientConfig, max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 });
    // An idle connection the server closed (a restart, pg_terminate_backend) must not crash the process.
    pool.on('error', (err) => options.onError?.(err, 'an idle database connection failed'));
    const store = new PgSessionStore(pool, options, clientConfig);
    try {
      const client = await pool.connect();
      try {
        await migratePg(client);
        await store.migrateData(client);
      } finally {
        client.release();
      }
      await store.listen();
      await store.resync();
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
    return store;
  }

  /** Sessions are stored in the current data schema; older rows (after an upgrade) are migrated once, in one transaction. */
  private async migrateData(client: pg.PoolClient): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query("SELECT pg_advisory_xact_lock(7365202)");
      const { rows } = await client.query<{ value: number }>("SELECT value FROM settings WHERE name = 'data_version'");
      const version = rows[0]?.value;
      if (version === undefined) {
        await client.query("INSERT INTO settings (name, value) VALUES ('data_version', $1)", [JSON.stringify(SCHEMA_VERSION)]);
      } else if (version < SCHEMA_VERSION) {
        const all = await client.query<{ id: string; data: unknown }>('SELECT id, data FROM sessions');
        const raw = { version, sessions: Object.fromEntries(all.rows.map((r) => [r.id, r.data])) };
        const { data } = parseData(raw, 'the database');
        for (const session of Object.values(data.sessions)) {
          await client.query('UPDATE sessions SET data = $2, version = $3 WHERE id = $1', [session.id, JSON.stringify(session), session.version]);
        }
        await client.query("UPDATE settings SET value = $1 WHERE name = 'data_version'", [JSON.stringify(SCHEMA_VERSION)]);
      } else if (version > SCHEMA_VERSION) {
        throw new UnreadableDataError(`the database holds sessions of data schema ${version}, newer than this server understands (${SCHEMA_VERSION}).`, 'Run the newer release.');
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  get(id: string): StoredSession | undefined {
    return this.committed.get(id);
  }

  latest(id: string): StoredSession | undefined {
    const p = this.pending.get(id);
    return p === undefined ? this.committed.get(id) : (p ?? undefined);
  }

  put(session: StoredSession): Promise<void> {
    const id = session.id;
    const base = this.latest(id);
    return this.change(id, session, async () => {
      const payload = `${this.instance} ${id} ${session.version}`;
      const data = JSON.stringify(session);
      // One statement: the write and its NOTIFY commit together, or neither does.
      const sql = base
        ? `WITH w AS (UPDATE sessions SET version = $2, data = $3, updated_at = now() WHERE id = $1 AND version = $5 RETURNING id)
           SELECT pg_notify($4, $6) FROM w`
        : `WITH w AS (INSERT INTO sessions (id, version, data) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id)
           SELECT pg_notify($4, $5) FROM w`;
      const params = base ? [id, session.version, data, PG_CHANNEL, base.version, payload] : [id, session.version, data, PG_CHANNEL, payload];
      // Named: each connection parses and plans the statement once, not at every change.
      const result = await this.query({ name: base ? 'karaoke-update' : 'karaoke-insert', text: sql }, params, 'save the change');
      return result.rowCount === 1;
    }, base);
  }

  remove(id: string): Promise<void> {
    const base = this.latest(id);
    return this.change(id, null, async () => {
      const result = await this.query(
        `WITH d AS (DELETE FROM sessions WHERE id = $1 RETURNING id) SELECT pg_notify($2, $3) FROM d`,
        [id, PG_CHANNEL, `${this.instance} ${id} -1`],
        'remove the session',
      );
      // Already gone (another instance removed it): the removal holds all the same.
      return result.rowCount === 1 || result.rowCount === 0;
    }, base);
  }

  /**
   * Chain a write behind the session's earlier ones. It runs only if what it was built on is what
   * is committed now (an earlier change here failed, or another instance's arrived: a conflict),
   * and the SQL checks the same against the database.
   */
  private change(id: string, next: StoredSession | null, write: () => Promise<boolean>, base: StoredSession | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError('the store is closed'));
    this.pending.set(id, next);
    const run = async (): Promise<void> => {
      if (this.committed.get(id) !== base) throw new StoreConflictError(id);
      if (!(await write())) throw new StoreConflictError(id);
      if (next) this.committed.set(id, next);
      else this.committed.delete(id);
      this.counters.flushes += 1;
      this.counters.changesFlushed += 1;
    };
    const before = this.chains.get(id) ?? Promise.resolve();
    const done = before.then(run, run);
    const tail = done.catch(() => {});
    this.chains.set(id, tail);
    return done.then(
      () => {
        if (this.pending.get(id) === next) this.pending.delete(id);
        if (this.chains.get(id) === tail) this.chains.delete(id);
      },
      async (err: unknown) => {
        if (this.pending.get(id) === next) this.pending.delete(id);
        if (this.chains.get(id) === tail) this.chains.delete(id);
        if (err instanceof StoreConflictError) {
          // The retry must build on the database's state, not on what this instance last saw.
          await this.reload([id]).catch(() => {});
        } else this.counters.failedFlushes += 1;
        throw err;
      },
    );
  }

  private async query(sql: string | pg.QueryConfig, params: unknown[], what: string): Promise<pg.QueryResult> {
    try {
      return await this.pool.query({ ...(typeof sql === 'string' ? { text: sql } : sql), values: params });
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  async replaceAll(next: Readonly<Record<string, StoredSession>>): Promise<ReplaceSummary> {
    if (this.closed) throw new StoreClosedError('the store is closed');
    const summary: ReplaceSummary = { added: [], updated: [], removed: [], unchanged: 0 };
    for (const [id, session] of this.committed) if (!Object.hasOwn(next, id)) summary.removed.push(session);
    for (const [id, session] of Object.entries(next)) {
      const current = this.committed.get(id);
      if (!current) summary.added.push(session);
      else if (current !== session) summary.updated.push(session);
      else summary.unchanged += 1;
    }
    await Promise.all([...this.chains.values()]);
    const client = await this.pool.connect().catch((err: unknown) => {
      throw unavailable('replace the sessions', err);
    });
    try {
      await client.query('BEGIN');
      // Changes through other instances wait until the import is in, then conflict and run again on it.
      await client.query('LOCK TABLE sessions IN EXCLUSIVE MODE');
      await client.query('DELETE FROM sessions WHERE NOT (id = ANY($1))', [Object.keys(next)]);
      for (const session of [...summary.added, ...summary.updated]) {
        await client.query(
          `INSERT INTO sessions (id, version, data) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, updated_at = now()`,
          [session.id, session.version, JSON.stringify(session)],
        );
      }
      await client.query('SELECT pg_notify($1, $2)', [PG_CHANNEL, `${this.instance} *`]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      this.counters.failedFlushes += 1;
      throw unavailable('replace the sessions', err);
    } finally {
      client.release();
    }
    this.committed.clear();
    for (const [id, session] of Object.entries(next)) this.committed.set(id, session);
    this.pending.clear();
    this.counters.flushes += 1;
    return summary;
  }

  count(): number {
    return this.committed.size;
  }

  sessions(): IterableIterator<StoredSession> {
    return this.committed.values();
  }

  onExternalChange(listener: (change: ExternalChange) => void): void {
    this.listeners.push(listener);
  }

  async exportData(): Promise<Buffer> {
    const sessions = serializeData({ version: SCHEMA_VERSION, sessions: Object.fromEntries(this.committed) });
    const { rows } = await this.query('SELECT session_id, data FROM nights ORDER BY session_id, night', [], 'read the archive of nights');
    const nights: Record<string, ArchivedNight[]> = {};
    for (const row of rows as { session_id: string; data: ArchivedNight }[]) {
      if (!this.committed.has(row.session_id)) continue;
      (nights[row.session_id] ??= []).push(row.data);
    }
    return exportBytes(sessions, nights);
  }

  async backup(reason: BackupReason, { unlessUnchanged = false, at = new Date() }: { unlessUnchanged?: boolean; at?: Date } = {}): Promise<BackupRecord | null> {
    const bytes = await this.exportData();
    const hash = digest(bytes);
    if (unlessUnchanged) {
      if (this.lastBackupDigest === undefined) {
        const newest = await this.query("SELECT data FROM backups WHERE reason NOT LIKE 'pre-migration-%' ORDER BY created_at DESC, name DESC LIMIT 1", [], 'read the backups');
        const row = newest.rows[0] as { data: Buffer } | undefined;
        if (row) this.lastBackupDigest = digest(row.data);
        else if (this.committed.size === 0) return null;
      }
      if (hash === this.lastBackupDigest) return null;
    }
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const name = backupName(at, reason, attempt);
      const result = await this.query(
        'INSERT INTO backups (name, created_at, reason, data) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
        [name, at, reason, bytes],
        'write the backup',
      );
      if (result.rowCount === 1) {
        this.lastBackupDigest = hash;
        return { name, createdAt: at, reason, bytes: bytes.length };
      }
    }
    throw new StoreUnavailableError(`too many backups named ${backupName(at, reason)}`);
  }

  async listBackups(): Promise<BackupRecord[]> {
    const { rows } = await this.query('SELECT name, created_at, reason, octet_length(data) AS bytes FROM backups ORDER BY created_at, name', [], 'list the backups');
    return (rows as { name: string; created_at: Date; reason: string; bytes: number }[]).map((r) => ({ name: r.name, createdAt: r.created_at, reason: r.reason, bytes: Number(r.bytes) }));
  }

  async pruneBackups(keep: number): Promise<BackupRecord[]> {
    const prunable = (await this.listBackups()).filter((b) => !b.reason.startsWith('pre-migration-'));
    const removed = prunable.slice(0, Math.max(0, prunable.length - keep));
    if (removed.length > 0) await this.query('DELETE FROM backups WHERE name = ANY($1)', [removed.map((b) => b.name)], 'prune the backups');
    return removed;
  }

  /** What health checks: a real write, so a read-only or full database shows as unavailable. */
  async probe(): Promise<StoreProbe> {
    try {
      await this.pool.query('INSERT INTO health_probe (id, at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = now()');
      return { writable: true };
    } catch (err) {
      return { writable: false, error: (err as Error).message };
    }
  }

  /** Where the data is, for the start log: the URL without its password. */
  describe(): string {
    return describePgUrl(this.options.connectionString);
  }

  /** A small value kept with the data (the VAPID key pair): the first one kept wins, so instances agree. */
  async setting<T>(name: string, make: () => T): Promise<T> {
    await this.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, JSON.stringify(make())], 'keep a setting');
    const { rows } = await this.query('SELECT value FROM settings WHERE name = $1', [name], 'read a setting');
    return (rows[0] as { value: T }).value;
  }

  /** Replace a setting (a move between stores brings its own key pair). */
  async putSetting(name: string, value: unknown): Promise<void> {
    await this.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [name, JSON.stringify(value)], 'keep a setting');
  }

  async readSetting<T>(name: string): Promise<T | undefined> {
    const { rows } = await this.query('SELECT value FROM settings WHERE name = $1', [name], 'read a setting');
    return (rows[0] as { value: T } | undefined)?.value;
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await Promise.all([...this.chains.values()]);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  /** A dedicated connection for LISTEN; when it drops, connect again, then catch up on what was missed. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ ...this.clientConfig, application_name: this.listenName, statement_timeout: 0, query_timeout: 0 });
    client.on('notification', (msg) => {
      if (msg.channel === PG_CHANNEL && msg.payload) this.notified(msg.payload);
    });
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      this.options.onError?.(err ?? new Error('the listening connection ended'), 'lost the database listening connection; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    await client.connect();
    await client.query(`LISTEN ${PG_CHANNEL}`);
    this.listener = client;
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      void this.listen()
        // Every version missed while not listening: a client must never silently skip one.
        .then(() => this.resync())
        .catch((err: unknown) => {
          if (this.closed) return;
          this.options.onError?.(err, 'could not listen to the database again; retrying');
          this.scheduleReconnect();
        });
    }, this.options.reconnectMs ?? 1000);
    this.reconnectTimer.unref();
  }

  /** This instance's listening connection in pg_stat_activity. */
  get listenName(): string {
    return `${PG_LISTEN_APP} ${this.instance.slice(0, 8)}`;
  }

  /** True while the listening connection is up: what readiness reports. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  private notified(payload: string): void {
    const [instance, id, version] = payload.split(' ');
    if (instance === this.instance || id === undefined) return;
    if (id === '*') {
      void this.resync().catch((err: unknown) => this.options.onError?.(err, 'could not read the sessions after an import'));
      return;
    }
    const v = Number(version);
    if (v === -1) {
      void this.reload([id]).catch((err: unknown) => this.options.onError?.(err, 'could not read a removed session'));
      return;
    }
    // Already seen (or newer): nothing to read.
    if ((this.committed.get(id)?.version ?? -1) >= v) return;
    void this.reload([id]).catch((err: unknown) => this.options.onError?.(err, 'could not read a changed session'));
  }

  /** Every session whose version differs from the database's, read again; removed ones dropped. */
  async resync(): Promise<void> {
    // Oldest first, as the JSON store keeps them: exports list the rooms in the same order.
    const { rows } = await this.query("SELECT id, version FROM sessions ORDER BY data->>'createdAt', id", [], 'read the sessions');
    const inDb = new Map((rows as { id: string; version: number }[]).map((r) => [r.id, r.version]));
    const changed = [...inDb].filter(([id, v]) => this.committed.get(id)?.version !== v).map(([id]) => id);
    const gone = [...this.committed.keys()].filter((id) => !inDb.has(id));
    for (let i = 0; i < changed.length; i += 500) await this.reload(changed.slice(i, i + 500));
    if (gone.length > 0) await this.reload(gone);
  }

  /** Read sessions from the database into this instance, telling listeners of each that changed. */
  private async reload(ids: string[]): Promise<void> {
    const { rows } = await this.query('SELECT id, data FROM sessions WHERE id = ANY($1)', [ids], 'read the sessions');
    const found = new Map((rows as { id: string; data: unknown }[]).map((r) => [r.id, r.data]));
    for (const id of ids) {
      const current = this.committed.get(id);
      const raw = found.get(id);
      if (raw === undefined) {
        if (!current) continue;
        this.committed.delete(id);
        this.emit({ id, session: undefined, before: current });
        continue;
      }
      const session = parseSession(raw, id);
      if (current?.version === session.version && JSON.stringify(current) === JSON.stringify(session)) continue;
      this.committed.set(id, session);
      this.emit({ id, session, before: current });
    }
  }

  private emit(change: ExternalChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

class PgSongbooks implements SongbookStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(sessionId: string): Promise<StoredSongbook | undefined> {
    const encoded = await this.getEncoded(sessionId);
    return encoded === undefined ? undefined : decodeStoredSongbook(encoded);
  }

  put(sessionId: string, songbook: StoredSongbook): Promise<void> {
    return this.putEncoded(sessionId, encodeStoredSongbook(songbook));
  }

  async getEncoded(sessionId: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM songbooks WHERE session_id = $1', [sessionId]).catch((err: unknown) => {
      throw unavailable('read the songbook', err);
    });
    return rows[0]?.data;
  }

  async putEncoded(sessionId: string, encoded: Uint8Array): Promise<void> {
    await this.pool
      .query('INSERT INTO songbooks (session_id, data) VALUES ($1, $2) ON CONFLICT (session_id) DO UPDATE SET data = EXCLUDED.data', [sessionId, Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)])
      .catch((err: unknown) => {
        throw unavailable('save the songbook', err);
      });
  }

  async remove(sessionId: string): Promise<void> {
    await this.pool.query('DELETE FROM songbooks WHERE session_id = $1', [sessionId]).catch((err: unknown) => {
      throw unavailable('remove the songbook', err);
    });
  }
}

class PgNights implements NightArchive {
  constructor(private readonly pool: pg.Pool) {}

  private async query(sql: string, params: unknown[], what: string): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, params);
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  async put(sessionId: string, night: ArchivedNight, keep: number): Promise<void> {
    // One statement: the night in, and the ones past `keep` out, together.
    await this.query(
      `WITH ins AS (
         INSERT INTO nights (session_id, night, data) VALUES ($1, $2, $3)
         ON CONFLICT (session_id, night) DO UPDATE SET data = EXCLUDED.data RETURNING night
       )
       DELETE FROM nights WHERE session_id = $1 AND night NOT IN (
         SELECT night FROM (SELECT night FROM nights WHERE session_id = $1 UNION SELECT night FROM ins) n ORDER BY night DESC LIMIT $4
       )`,
      [sessionId, night.night, JSON.stringify(night), Number.isFinite(keep) ? keep : null],
      'save the archived night',
    );
  }

  async list(sessionId: string): Promise<ArchivedNight[]> {
    const { rows } = await this.query('SELECT data FROM nights WHERE session_id = $1 ORDER BY night DESC', [sessionId], 'read the archive of nights');
    return rows.map((r: { data: unknown }) => ArchivedNightSchema.parse(r.data));
  }

  async get(sessionId: string, night: number): Promise<ArchivedNight | undefined> {
    const { rows } = await this.query('SELECT data FROM nights WHERE session_id = $1 AND night = $2', [sessionId, night], 'read an archived night');
    const row = rows[0] as { data: unknown } | undefined;
    return row ? ArchivedNightSchema.parse(row.data) : undefined;
  }

  async replace(sessionId: string, nights: readonly ArchivedNight[]): Promise<void> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw unavailable('replace the archive of nights', err);
    });
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM nights WHERE session_id = $1', [sessionId]);
      for (const night of nights) {
        await client.query('INSERT INTO nights (session_id, night, data) VALUES ($1, $2, $3)', [sessionId, night.night, JSON.stringify(night)]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw unavailable('replace the archive of nights', err);
    } finally {
      client.release();
    }
  }

  async removeAll(sessionId: string): Promise<void> {
    await this.query('DELETE FROM nights WHERE session_id = $1', [sessionId], 'remove the archive of nights');
  }
}

