import { parse as parseCsv, type CsvError } from 'csv-parse/sync';
import { SongCollector, type BadLine, type RawRow, type Skipped, type Song } from './collect.js';
import { decodeSongbook, type SongbookEncoding } from './decode.js';
import { ARTIST_TITLE_DASH, detectLayout, mapHeader, type Columns, type Delimiter } from './layout.js';

export type { Song } from './collect.js';
export type SongbookFormat = 'csv' | 'csv-semicolon' | 'tsv' | 'csv-headerless' | 'lines';

export interface ParsedSongbook {
  songs: Song[];
  /** The first 50 rows that are not songs; skippedCount counts them all. */
  skipped: Skipped[];
  skippedCount: number;
  format: SongbookFormat;
  encoding: SongbookEncoding;
}

/** Stable reasons, so a caller picks its HTTP status from the code, never from the message. */
export type SongbookErrorCode = 'empty' | 'not_text' | 'missing_columns' | 'no_songs' | 'too_many_songs' | 'unreadable';

/** The file as a whole cannot be used; the message says why in words a host understands. */
export class SongbookParseError extends Error {
  constructor(
    message: string,
    /** The first few offending lines, text cut to ~120 characters. */
    readonly badLines: BadLine[],
    readonly code: SongbookErrorCode = 'no_songs',
  ) {
    super(message);
    this.name = 'SongbookParseError';
  }
}

const DEFAULT_MAX_SONGS = 200_000;
const SNIFF_LINES = 200;
// Some tools write Excel's "sep=;" hint as the first line; Excel itself reads it.
const SEP_HINT = /^sep=.$/i;
// OpenKJ's database export (src/dlgdatabase.cpp, on_btnExport_clicked) has no header row:
// "artist","title","disc id","path". A media path in the fourth cell tells it apart from a
// plain two-column list, and gives the disc id the host knows.
const MEDIA_PATH = /\.(?:zip|cdg|mp3|mp4|m4a|mkv|avi|mpg|mpeg|wmv|webm|ogg|wav|flac)$/i;
const FORMAT_OF: Record<Delimiter, SongbookFormat> = { ',': 'csv', ';': 'csv-semicolon', '\t': 'tsv' };
const DELIMITER_NAME: Record<Delimiter, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/**
 * Read a host's song list: CSV, semicolon CSV or TSV with a header row, headerless
 * artist,title CSV, or "Artist - Title" lines; UTF-8, UTF-16 with a BOM, or Windows-1252.
 * Throws SongbookParseError when the file as a whole is unusable; single bad rows are skipped.
 */
export function parseSongbook(bytes: Uint8Array, options: { maxSongs?: number } = {}): ParsedSongbook {
  const maxSongs = options.maxSongs ?? DEFAULT_MAX_SONGS;
  const decoded = decodeSongbook(bytes);
  if (!decoded.ok) {
    throw decoded.problem === 'empty'
      ? new SongbookParseError('The file is empty: there are no songs in it.', [], 'empty')
      : new SongbookParseError(
          `This does not look like a text file. ${decoded.hint ?? 'Upload the song list as a CSV or plain text file.'}`,
          [], 'not_text');
  }
  // csv-parse counts a CR LF inside a quoted cell as two lines; one kind of line end keeps
  // its line numbers and ours the same.
  let text = decoded.text.replace(/\r\n?/g, '\n');
  const firstEnd = text.indexOf('\n');
  if (SEP_HINT.test(firstEnd === -1 ? text : text.slice(0, firstEnd))) text = text.slice(firstEnd === -1 ? text.length : firstEnd);

  const collector = new SongCollector(maxSongs, () => new SongbookParseError(
    `This songbook has more than ${maxSongs.toLocaleString('en')} songs, the most one upload can hold.`, [], 'too_many_songs'));
  const layout = detectLayout(firstLines(text, SNIFF_LINES));
  let format: SongbookFormat;
  switch (layout.kind) {
    case 'missing-columns':
      throw missingColumns(layout.found, layout.missing, text);
    case 'header':
      format = FORMAT_OF[layout.delimiter];
      readDelimited(text, layout.delimiter, true, collector, maxSongs);
      break;
    case 'headerless':
      format = 'csv-headerless';
      readDelimited(text, layout.delimiter, false, collector, maxSongs);
      break;
    case 'lines':
      format = 'lines';
      readLines(text, collector);
      break;
  }
  if (collector.songs.length === 0) throw noSongs(layout, collector);
  return {
    songs: collector.songs,
    skipped: collector.skipped,
    skippedCount: collector.skippedCount,
    format,
    encoding: decoded.encoding,
  };
}

interface CsvRecord {
  record: string[];
  raw: string;
}

interface CsvSkip {
  after: number;
  raw: string;
  error: CsvError | undefined;
}

function readCsv(text: string, delimiter: Delimiter, maxRecords: number): { records: CsvRecord[]; skips: CsvSkip[] } {
  const skips: CsvSkip[] = [];
  try {
    const records = parseCsv(Buffer.from(text), {
      delimiter,
      record_delimiter: '\n',
      quote: '"',
      escape: '"',
      // Hand-made and exported lists have stray quotes (12" Mix, OpenKJ's unescaped
      // "Guns "N" Roses"): keep them as text instead of failing the row.
      relax_quotes: true,
      // Rows may be short (no duration) or long (an extra comment cell); cells are read by index.
      relax_column_count: true,
      // Blank lines and Excel's all-empty ";;;;" rows are not songs and not mistakes.
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      // One broken row is reported and skipped; it does not cost the whole upload.
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        skips.push({ after: Number(error?.records ?? 0), raw: raw ?? '', error });
      },
      // raw, not info: info costs about twice the parse time, and its line count is what we
      // need only at a record's start, which the raw text gives (see LineCursor).
      raw: true,
      // Stop reading once the file is known to be too big; the collector then refuses it.
      to: maxRecords,
    }) as unknown as CsvRecord[];
    return { records, skips };
  } catch (err) {
    throw new SongbookParseError(`The file could not be read as CSV: ${(err as Error).message}`, [], 'unreadable');
  }
}

function readDelimited(text: string, delimiter: Delimiter, header: boolean, collector: SongCollector, maxSongs: number): void {
  // The header stays the first record: csv-parse takes the first record's cell count as the
  // norm and builds a costly error object (~25 µs) for every record that differs, so the
  // header's width is the cheapest norm for files whose rows follow it (every export does).
  const { records, skips } = readCsv(text, delimiter, maxSongs + (header ? 2 : 1));
  const cursor = new LineCursor(text);
  let columns: Columns | undefined = header ? undefined : { artist: 0, title: 1, id: -1, duration: -1, language: -1 };
  let skip = 0;
  for (let r = 0; r <= records.length; r++) {
    for (; skip < skips.length && skips[skip]!.after <= r; skip++) {
      const { raw, error } = skips[skip]!;
      collector.skip(cursor.locate(raw), csvReason(error), raw);
    }
    const entry = records[r];
    if (entry === undefined) break;
    const line = cursor.locate(entry.raw);
    const cells = entry.record;
    if (columns === undefined) {
      columns = mapHeader(cells);
      continue;
    }
    if (!header && r === 0 && cells.length >= 4 && MEDIA_PATH.test(cells[3]!.trim())) columns = { ...columns, id: 2 };
    collector.add(line, entry.raw, rowOf(cells, columns));
  }
}

function rowOf(cells: readonly string[], columns: Columns): RawRow {
  const cell = (i: number) => (i === -1 ? undefined : cells[i]);
  return {
    artist: cell(columns.artist),
    title: cell(columns.title),
    id: cell(columns.id),
    duration: cell(columns.duration),
    language: cell(columns.language),
  };
}

function readLines(text: string, collector: SongCollector): void {
  const lines = text.split('\n');
  let first = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const dash = ARTIST_TITLE_DASH.exec(line);
    if (dash === null) {
      collector.skip(i + 1, 'not "Artist - Title"', line);
      first = false;
      continue;
    }
    const artist = line.slice(0, dash.index);
    const title = line.slice(dash.index + dash[0].length);
    // People head such a list with "Artist - Title"; that line is a header, not a song.
    const heading = first && isHeading(artist, title);
    first = false;
    if (!heading) collector.add(i + 1, line, { artist, title });
  }
}

function isHeading(artist: string, title: string): boolean {
  const columns = mapHeader([artist, title]);
  return columns.artist === 0 && columns.title === 1;
}

/**
 * Finds each record's first line from its raw text. Records come in file order and their raw
 * texts tile the file, except rows csv-parse drops unseen (all-empty rows) or reports only in
 * part (errors), so each raw text is searched for from where the previous one ended.
 */
class LineCursor {
  private searchFrom = 0;
  private counted = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  locate(raw: string): number {
    const found = this.text.startsWith(raw, this.searchFrom) ? this.searchFrom : this.text.indexOf(raw, this.searchFrom);
    const at = found === -1 ? this.searchFrom : found;
    let start = at;
    while (start < at + raw.length && this.text.charCodeAt(start) === 10) start++; // blank lines before it
    for (let nl = this.text.indexOf('\n', this.counted); nl !== -1 && nl < start; nl = this.text.indexOf('\n', nl + 1)) {
      this.line++;
    }
    this.counted = start;
    if (found !== -1) this.searchFrom = at + raw.length;
    return this.line;
  }
}

function csvReason(error: CsvError | undefined): string {
  if (error?.code === 'CSV_QUOTE_NOT_CLOSED') return 'a quote opened on this line is never closed, so the rest of the file could not be read';
  return `not readable as CSV${error ? ` (${error.message})` : ''}`;
}

function firstLines(text: string, count: number): string[] {
  const lines: string[] = [];
  let from = 0;
  while (lines.length < count && from <= text.length) {
    const end = text.indexOf('\n', from);
    lines.push(text.slice(from, end === -1 ? text.length : end));
    if (end === -1) break;
    from = end + 1;
  }
  return lines;
}

function missingColumns(found: string[], missing: ('artist' | 'title')[], text: string): SongbookParseError {
  const lines = firstLines(text, SNIFF_LINES);
  const index = lines.findIndex((line) => line.trim() !== '');
  const shown = found.slice(0, 20).map((name) => `"${name.slice(0, 40)}"`).join(', ');
  return new SongbookParseError(
    `The header row has the columns ${shown}, but no ${missing.join(' and no ')} column. ` +
      'A songbook needs an "Artist" column and a "Title" (or "Song") column.',
    [{ line: index + 1, text: (lines[index] ?? '').slice(0, 120) }],
    'missing_columns',
  );
}

function noSongs(layout: ReturnType<typeof detectLayout>, collector: SongCollector): SongbookParseError {
  const rows = `${collector.rows} ${collector.rows === 1 ? 'row' : 'rows'}`;
  const first = collector.skipped[0];
  const example = first ? ` (line ${first.line}: ${first.reason})` : '';
  let message: string;
  if (layout.kind === 'header' && collector.rows === 0) message = 'The file has a header row but no songs under it.';
  else if (layout.kind === 'header') message = `No songs found: none of the ${rows} under the header has both an artist and a title${example}.`;
  else if (layout.kind === 'headerless') {
    message = `No songs found: the file has no header row, and none of its ${rows} reads as ` +
      `${DELIMITER_NAME[layout.delimiter]}-separated artist and title${example}.`;
  } else {
    message = `No songs found: there is no header row naming artist and title columns, and none of its ${rows.replace('row', 'line')} ` +
      `reads as "Artist - Title"${example}.`;
  }
  return new SongbookParseError(message, collector.badLines, 'no_songs');
}
