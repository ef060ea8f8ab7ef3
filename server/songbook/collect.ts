import type { Song } from '../model/song.js';
import { cleanText, derivedId, fileId, matchKey, parseDuration, unwrapQuotes } from './fields.js';

export type { Song } from '../model/song.js';

export interface Skipped {
  line: number;
  reason: string;
}

export interface BadLine {
  line: number;
  text: string;
}

/** One row as the file has it, before cleaning; absent cells are undefined. */
export interface RawRow {
  artist: string | undefined;
  title: string | undefined;
  id?: string | undefined;
  duration?: string | undefined;
  language?: string | undefined;
}

// The request API caps title at 120 and artist at 80 (server/sessions/validation.ts). A longer
// cell is skipped with a reason, not truncated: it is almost always a broken row (a wrong
// delimiter, two cells run together), and a cut title would be a song that does not exist.
const TITLE_MAX = 120;
const ARTIST_MAX = 80;
const LANGUAGE_MAX = 60;
const SKIPPED_KEPT = 50;
const BAD_LINES_KEPT = 5;
const BAD_LINE_CHARS = 120;

/** Turns rows into songs: cleans, drops duplicates, assigns unique ids, records what it skipped. */
export class SongCollector {
  readonly songs: Song[] = [];
  readonly skipped: Skipped[] = [];
  readonly badLines: BadLine[] = [];
  skippedCount = 0;
  rows = 0;
  private readonly seen = new Set<string>();
  private readonly ids = new Set<string>();

  constructor(
    private readonly maxSongs: number,
    private readonly onTooMany: () => Error,
  ) {}

  add(line: number, text: string, row: RawRow): void {
    this.count();
    const artist = cleanText(unwrapQuotes(row.artist ?? ''));
    const title = cleanText(unwrapQuotes(row.title ?? ''));
    if (title === '') return this.skip(line, artist === '' ? 'no artist and no title' : 'no title', text, false);
    if (artist === '') return this.skip(line, 'no artist', text, false);
    if (title.length > TITLE_MAX) return this.skip(line, `title longer than ${TITLE_MAX} characters`, text, false);
    if (artist.length > ARTIST_MAX) return this.skip(line, `artist longer than ${ARTIST_MAX} characters`, text, false);
    const key = matchKey(artist, title);
    // A song listed twice (several karaoke brands of one song, or a list pasted twice) is
    // kept once, the first time, and not reported: it is not a mistake the host must fix.
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const song: Song = { id: this.idFor(row.id, key), artist, title };
    const duration = row.duration === undefined ? undefined : parseDuration(row.duration);
    if (duration !== undefined) song.duration = duration;
    const language = row.language === undefined ? '' : cleanText(row.language);
    if (language !== '' && language.length <= LANGUAGE_MAX) song.language = language;
    this.songs.push(song);
  }

  /** A row that is not a song; `counted` is false when add() already counted it. */
  skip(line: number, reason: string, text: string, counted = true): void {
    if (counted) this.count();
    this.skippedCount++;
    if (this.skipped.length < SKIPPED_KEPT) this.skipped.push({ line, reason });
    if (this.badLines.length < BAD_LINES_KEPT) this.badLines.push({ line, text: cut(text) });
  }

  private count(): void {
    if (++this.rows > this.maxSongs) throw this.onTooMany();
  }

  // The file's id when it has a usable one not taken yet; otherwise one derived from the song,
  // so an upload of the same list gives the same ids again.
  private idFor(raw: string | undefined, key: string): string {
    const own = raw === undefined ? undefined : fileId(raw);
    if (own !== undefined && !this.ids.has(own)) return this.take(own);
    for (let attempt = 0; ; attempt++) {
      const id = derivedId(key, attempt);
      if (!this.ids.has(id)) return this.take(id);
    }
  }

  private take(id: string): string {
    this.ids.add(id);
    return id;
  }
}

function cut(text: string): string {
  const line = text.replace(/\n+$/, '').replace(/\n/g, '⏎');
  return line.length > BAD_LINE_CHARS ? `${line.slice(0, BAD_LINE_CHARS - 1)}…` : line;
}
