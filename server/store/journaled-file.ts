import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { writeFileDurable } from '../lib/durable-file.js';
import { fileSafeTimestamp } from '../lib/time.js';
import type { StoredSession } from '../model/session.js';
import { parseData, type DbData } from './data-file.js';
import { UnreadableDataError } from './errors.js';
import { applyRecords, encodeRecord, JOURNAL_FILE, JournalWriter, readJournal } from './journal.js';
import { memberBytes, reusingSerializer } from './serialize.js';
import { diffSession, type SessionPatch } from './session-patch.js';

export const DATA_FILE = 'data.json';

/** data.json is rewritten once the journal is as big as it, and never for less than this. */
export const CHECKPOINT_MIN_BYTES = 8 * 1024 * 1024;

/** What reading found, for the start log and the pre-migration backup. */
export interface ReadReport {
  exists: boolean;
  migratedFrom: number | null;
  /** Commits replayed from the journal (left by a crash), and the bytes of a torn last append dropped. */
  replayed: { records: number; tornBytes: number; damaged: { offset: number; bytes: number; copy: string | null } | null };
  /** The raw data before migration when the journal changed it (else data.json itself is what to keep). */
  beforeMigration: string | null;
}

async function readDataFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UnreadableDataError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  // An empty or broken file is never taken for "no data": that would overwrite it.
  if (text.trim() === '') {
    throw new UnreadableDataError(`${file} is empty (${text.length} bytes). Restore it from a backup.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UnreadableDataError(`${file} is not valid JSON (${(err as Error).message}). Restore it from a backup.`);
  }
}

/**
 * lowdb's adapter for data.json and its journal (see journal.ts): `read` gives data.json with the
 * journal replayed, checked and migrated; `write` is a checkpoint (data.json rewritten durably, the
 * journal emptied); `append` makes one commit durable, as a journal line or, once the journal has
 * grown as big as data.json, as a checkpoint. Unlike lowdb's stock writer it fsyncs before resolving.
 */
export class JournaledJsonFile implements Adapter<DbData> {
  readonly file: string;
  readonly journalFile: string;
  report: ReadReport = { exists: false, migratedFrom: null, replayed: { records: 0, tornBytes: 0, damaged: null }, beforeMigration: null };
  /** Bytes of data.json at its last write. */
  private dataBytes = 0;
  private readonly journal: JournalWriter;
  private readonly serialize = reusingSerializer();

  constructor(
    readonly dataDir: string,
    private readonly checkpointMinBytes = CHECKPOINT_MIN_BYTES,
  ) {
    this.file = path.join(dataDir, DATA_FILE);
    this.journalFile = path.join(dataDir, JOURNAL_FILE);
    this.journal = new JournalWriter(this.journalFile);
  }

  async read(): Promise<DbData | null> {
    const journal = await readJournal(this.journalFile);
    const raw = await readDataFile(this.file);
    const replayed = {
      records: journal.records.length,
      tornBytes: journal.tornBytes,
      damaged: journal.damaged && { ...journal.damaged, copy: null },
    };
    if (raw === null) {
      if (journal.records.length > 0) {
        throw new UnreadableDataError(
          `${this.journalFile} holds changes but ${this.file} is missing. ` +
            'Restore data.json from a backup, or move the journal aside to start empty.',
        );
      }
      this.report = { exists: false, migratedFrom: null, replayed, beforeMigration: null };
      return null;
    }
    let beforeMigration: string | null = null;
    const sessions = (raw as { sessions?: unknown } | null)?.sessions;
    if (journal.records.length > 0 && typeof sessions === 'object' && sessions !== null && !Array.isArray(sessions)) {
      applyRecords(sessions as Record<string, unknown>, journal.records, this.journalFile);
      beforeMigration = JSON.stringify(raw);
    }
    const parsed = parseData(raw, this.file);
    this.report = {
      exists: true,
      migratedFrom: parsed.migratedFrom,
      replayed,
      beforeMigration: parsed.migratedFrom === null ? null : beforeMigration,
    };
    return parsed.data;
  }

  /** A checkpoint. Serialised synchronously, before any await, so it is exactly the state at this call. */
  async write(data: DbData): Promise<void> {
    const bytes = this.serialize(data);
    await writeFileDurable(this.file, bytes);
    this.dataBytes = bytes.length;
    await this.journal.reset();
  }

  /**
   * After a read, before the first commit: a data.json that holds everything (rewritten when it was
   * missing, migrated or had a journal replayed onto it) and an empty journal whose name is durable.
   */
  async settle(data: DbData): Promise<void> {
    const { exists, migratedFrom, replayed } = this.report;
    if (replayed.damaged) {
      // Kept before the journal is emptied: the damaged record may be recoverable by hand.
      const copy = `${this.journalFile}.damaged-${fileSafeTimestamp(new Date())}`;
      await writeFileDurable(copy, await fs.readFile(this.journalFile));
      replayed.damaged.copy = copy;
    }
    if (!exists || migratedFrom !== null || replayed.records > 0) {
      await this.write(data);
      return;
    }
    await this.journal.reset();
    this.dataBytes = (await fs.stat(this.file)).size;
  }

  /** Is a checkpoint due (the journal is as big as data.json, or broken by a failed append)? */
  get checkpointDue(): boolean {
    return this.journal.broken || this.journal.bytes >= Math.max(this.checkpointMinBytes, this.dataBytes);
  }

  /** Changes the journal holds that data.json does not. */
  get pending(): boolean {
    return this.journal.bytes > 0 || this.journal.broken;
  }

  /**
   * One durable commit of the sessions that changed (undefined for a removed one); `data` is the
   * whole newest state, for when a checkpoint is due instead. `durable` gives each session's last
   * durable version: a session that had one is written as what changed since.
   */
  append(changed: ReadonlyMap<string, StoredSession | undefined>, data: DbData, durable: (id: string) => StoredSession | undefined = () => undefined): Promise<void> {
    if (this.checkpointDue) return this.write(data);
    const members: Buffer[] = [];
    const parts: Record<string, SessionPatch> = {};
    for (const [id, value] of changed) {
      const before = value && durable(id);
      const patch = before ? diffSession(before, value) : undefined;
      if (patch) parts[id] = patch;
      else members.push(memberBytes(id, value));
    }
    return this.journal.append(encodeRecord(members, parts));
  }

  /** Close the journal until the next append: an idle server holds no file open for writing. */
  release(): Promise<void> {
    return this.journal.release();
  }
}
