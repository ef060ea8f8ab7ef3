import { promises as fs } from 'node:fs';
import path from 'node:path';
import { mkdirDurable, removeFileDurable, removeStaleTempFiles, syncDir, writeFileDurable } from '../lib/durable-file.js';
import type { ArchivedNight } from '../model/night.js';
import { decodeStoredSongbook, encodeStoredSongbook, type StoredSongbook } from '../model/song.js';
import { StoreUnavailableError } from './errors.js';
import type { NightArchive, SongbookStore } from './store.js';

/**
 * The parts of a session that live beside data.json in files of their own, so that a 100,000-song
 * list or a year of nights never makes an ordinary commit or a checkpoint slower:
 * `songbooks/<code>.json` and `nights/<code>/<night>.json`. Written like data.json (temp file,
 * fdatasync, rename, fsync of the folder); callers pass validated session codes only.
 */
export const SONGBOOK_DIR = 'songbooks';
export const NIGHTS_DIR = 'nights';

async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new StoreUnavailableError(`cannot read ${file}`, { cause: err });
  });
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

async function durably<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new StoreUnavailableError(`could not save ${what}`, { cause: err });
  }
}

export class SongbookFiles implements SongbookStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, SONGBOOK_DIR);
  }

  async prepare(): Promise<void> {
    await mkdirDurable(this.dir);
    await removeStaleTempFiles(this.dir);
  }

  private fileOf(sessionId: string): string {
    return path.join(this.dir, `${sessionId}.json`);
  }

  async get(sessionId: string): Promise<StoredSongbook | undefined> {
    const encoded = await this.getEncoded(sessionId);
    return encoded === undefined ? undefined : decodeStoredSongbook(encoded);
  }

  /** Replaces the old songbook atomically: until the rename, readers and a restart see the old one whole. */
  put(sessionId: string, songbook: StoredSongbook): Promise<void> {
    return this.putEncoded(sessionId, encodeStoredSongbook(songbook));
  }

  // The file holds exactly the encoded bytes, so these two are a read and a write.
  getEncoded(sessionId: string): Promise<Uint8Array | undefined> {
    const file = this.fileOf(sessionId);
    return fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new StoreUnavailableError(`cannot read ${file}`, { cause: err });
    });
  }

  putEncoded(sessionId: string, encoded: Uint8Array): Promise<void> {
    return durably('the songbook', () => writeFileDurable(this.fileOf(sessionId), encoded));
  }

  remove(sessionId: string): Promise<void> {
    return durably('the songbook removal', () => removeFileDurable(this.fileOf(sessionId)));
  }
}

export class NightFiles implements NightArchive {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, NIGHTS_DIR);
  }

  async prepare(): Promise<void> {
    await mkdirDurable(this.dir);
  }

  private dirOf(sessionId: string): string {
    return path.join(this.dir, sessionId);
  }

  private async numbers(sessionId: string): Promise<number[]> {
    const names = await fs.readdir(this.dirOf(sessionId)).catch(() => [] as string[]);
    return names.filter((n) => /^\d+\.json$/.test(n)).map((n) => Number(n.slice(0, -5))).sort((a, b) => a - b);
  }

  /** Idempotent per night number: a crash between archiving and the new night's commit just writes it again. */
  put(sessionId: string, night: ArchivedNight, keep: number): Promise<void> {
    return durably('the archived night', async () => {
      const dir = this.dirOf(sessionId);
      await mkdirDurable(dir);
      await removeStaleTempFiles(dir);
      await writeFileDurable(path.join(dir, `${night.night}.json`), JSON.stringify(night));
      const all = await this.numbers(sessionId);
      for (const old of all.slice(0, Math.max(0, all.length - keep))) await fs.rm(path.join(dir, `${old}.json`), { force: true });
      if (all.length > keep) await syncDir(dir);
    });
  }

  async list(sessionId: string): Promise<ArchivedNight[]> {
    const nights: ArchivedNight[] = [];
    for (const n of (await this.numbers(sessionId)).reverse()) {
      const night = await this.get(sessionId, n);
      if (night) nights.push(night);
    }
    return nights;
  }

  get(sessionId: string, night: number): Promise<ArchivedNight | undefined> {
    return readJson<ArchivedNight>(path.join(this.dirOf(sessionId), `${night}.json`));
  }

  async replace(sessionId: string, nights: readonly ArchivedNight[]): Promise<void> {
    await this.removeAll(sessionId);
    for (const night of nights) await this.put(sessionId, night, Number.POSITIVE_INFINITY);
  }

  removeAll(sessionId: string): Promise<void> {
    return durably('the archive removal', async () => {
      await fs.rm(this.dirOf(sessionId), { recursive: true, force: true });
      await syncDir(this.dir);
    });
  }
}
