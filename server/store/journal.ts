import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileDurable } from '../lib/durable-file.js';
import { UnreadableDataError } from './errors.js';
import { applyPatch, type SessionPatch } from './session-patch.js';

/**
 * The change journal beside data.json. Rewriting the whole file for every commit made each commit
 * cost as much as the store is big (4.8 MB per commit at 1,000 sessions); appending the changed
 * sessions and fdatasync-ing costs about half a millisecond whatever the store's size. data.json is
 * rewritten (a checkpoint) only once the journal has grown about as big as it, and at a clean stop.
 *
 * One line per commit: eight hex digits of the CRC-32 of the payload, a space, the payload, a newline.
 * The payload is `{"sessions":{id: session or null},"parts":{id: patch}}`: a new or removed session
 * whole, a changed one as what changed since its last durable version (session-patch.ts), so a
 * commit costs what it changes (compact JSON never holds a raw newline). Replaying records in order
 * onto data.json gives the state; replaying a record that data.json already holds changes nothing
 * (a patch names the version it gives), so a crash between a checkpoint and the journal's reset is
 * harmless.
 */
export const JOURNAL_FILE = 'data.journal';

/** What one commit changed: sessions whole (null for a removed one), and patches. Not validated here: the merged data is. */
export interface JournalRecord {
  sessions: Record<string, unknown>;
  parts: Record<string, SessionPatch>;
}

export interface JournalContents {
  records: JournalRecord[];
  /** Bytes after the last whole record: an append that a crash cut short, never acknowledged. */
  tornBytes: number;
  /**
   * A whole line (newline-terminated) at the end that fails its CRC: not a torn append (a crash
   * cuts before the newline) but damage to something that was acknowledged. Its offset and the
   * bytes from there to the end, which are not replayed.
   */
  damaged: { offset: number; bytes: number } | null;
}

const NEWLINE = 0x0a;
const HEAD = 9;
const PAYLOAD_OPEN = Buffer.from('{"sessions":{');
const PAYLOAD_CLOSE = Buffer.from('}}');
const COMMA = Buffer.from(',');

/** One journal line from the sessions' `"id":{...}` members and the patches of the others. */
export function encodeRecord(members: readonly Uint8Array[], parts: Readonly<Record<string, SessionPatch>> = {}): Buffer {
  const tail = Object.keys(parts).length > 0 ? Buffer.from(`},"parts":${JSON.stringify(parts)}}`) : PAYLOAD_CLOSE;
  let size = PAYLOAD_OPEN.length + tail.length + Math.max(0, members.length - 1);
  for (const m of members) size += m.length;
  const line = Buffer.allocUnsafe(HEAD + size + 1);
  let offset = HEAD;
  const put = (bytes: Uint8Array) => {
    line.set(bytes, offset);
    offset += bytes.length;
  };
  put(PAYLOAD_OPEN);
  members.forEach((m, i) => {
    if (i > 0) put(COMMA);
    put(m);
  });
  put(tail);
  line.write(crc32(line.subarray(HEAD, offset)).toString(16).padStart(8, '0'), 0, 'latin1');
  line[8] = 0x20;
  line[offset] = NEWLINE;
  return line;
}

function decodeLine(line: Buffer): JournalRecord | null {
  if (line.length < HEAD + 2 || line[8] !== 0x20) return null;
  const hex = line.toString('latin1', 0, 8);
  if (!/^[0-9a-f]{8}$/.test(hex)) return null;
  const payload = line.subarray(HEAD);
  if (crc32(payload) !== Number.parseInt(hex, 16)) return null;
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { sessions?: unknown; parts?: unknown };
    const { sessions, parts = {} } = parsed;
    if (typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) return null;
    if (typeof parts !== 'object' || parts === null || Array.isArray(parts)) return null;
    return { sessions: sessions as Record<string, unknown>, parts: parts as Record<string, SessionPatch> };
  } catch {
    return null;
  }
}

/**
 * Every whole record, in order. Only the tail can be torn (an append is acknowledged only after
 * fdatasync, and nothing is appended after a failed one), so a bad record followed by a good one is
 * damage, and the start stops rather than drop acknowledged changes.
 */
export function parseJournal(buf: Buffer, file: string): JournalContents {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const end = buf.indexOf(NEWLINE, offset);
    const record = end === -1 ? null : decodeLine(buf.subarray(offset, end));
    if (record === null) {
      for (let next = end; next !== -1 && next + 1 < buf.length; next = buf.indexOf(NEWLINE, next + 1)) {
        const after = buf.indexOf(NEWLINE, next + 1);
        if (after !== -1 && decodeLine(buf.subarray(next + 1, after)) !== null) {
          throw new UnreadableDataError(
            `${file} is damaged at byte ${offset}, before changes that were saved after it. ` +
              'Restore data.json from a backup and move the journal aside.',
          );
        }
      }
      // Only the last, unterminated line can be torn.
      if (end !== -1) return { records, tornBytes: 0, damaged: { offset, bytes: buf.length - offset } };
      return { records, tornBytes: buf.length - offset, damaged: null };
    }
    records.push(record);
    offset = end + 1;
  }
  return { records, tornBytes: 0, damaged: null };
}

export async function readJournal(file: string): Promise<JournalContents> {
  const buf = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return Buffer.alloc(0);
    throw new UnreadableDataError(`Cannot read ${file}: ${err.message}`);
  });
  return parseJournal(buf, file);
}

/** Apply records in order onto data.json's raw `sessions` object. */
export function applyRecords(sessions: Record<string, unknown>, records: readonly JournalRecord[], file: string): void {
  for (const record of records) {
    for (const [id, session] of Object.entries(record.sessions)) {
      if (session === null) delete sessions[id];
      else sessions[id] = session;
    }
    for (const [id, patch] of Object.entries(record.parts)) applyPatch(sessions, id, patch, file);
  }
}

/**
 * Appends records durably. The file stays open only while commits follow one another (the flush loop
 * releases it when it runs dry), so an idle server holds no file open for writing and its volume can
 * be remounted. After a failed append nothing more is appended (the tail may hold part of a record)
 * until a checkpoint has replaced the journal with an empty one.
 */
// O_DSYNC: each write returns once its data (and the size that reaches it) is on the disk, as a
// write then fdatasync would, in one call instead of two: a commit waits on one trip to the thread
// pool, not two. The power-cut test holds it to that.
const APPEND_DURABLY = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_DSYNC;

export class JournalWriter {
  bytes = 0;
  broken = false;
  private handle: fs.FileHandle | null = null;

  constructor(readonly file: string) {}

  async append(line: Uint8Array): Promise<void> {
    if (this.broken) throw new Error('the journal needs a checkpoint after a failed append');
    try {
      this.handle ??= await fs.open(this.file, APPEND_DURABLY, 0o600);
      await this.handle.writeFile(line);
      this.bytes += line.length;
    } catch (err) {
      this.broken = true;
      await this.release();
      throw err;
    }
  }

  /** Close the file until the next append. */
  async release(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
  }

  /** An empty journal, atomically: after data.json holds everything the old one did. */
  async reset(): Promise<void> {
    // The old file is about to be replaced; its handle would write into the unlinked one.
    await this.release();
    try {
      await writeFileDurable(this.file, new Uint8Array(0));
    } catch (err) {
      this.broken = true;
      throw err;
    }
    this.bytes = 0;
    this.broken = false;
  }
}

export const journalPath = (dataDir: string): string => path.join(dataDir, JOURNAL_FILE);
