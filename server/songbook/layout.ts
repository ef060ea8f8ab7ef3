import { headerKey } from './fields.js';

export type Delimiter = ',' | ';' | '\t';

/** Which column holds what; -1 when the file has no such column. */
export interface Columns {
  artist: number;
  title: number;
  id: number;
  duration: number;
  language: number;
}

export type Layout =
  | { kind: 'header'; delimiter: Delimiter }
  | { kind: 'headerless'; delimiter: Delimiter }
  | { kind: 'lines' }
  | { kind: 'missing-columns'; found: string[]; missing: ('artist' | 'title')[] };

// Header names, compared after headerKey (lower case, no accents, letters and digits only).
// Order matters: when two columns match, the one whose name comes first here wins, so
// "Title" beats "Name" in a file that has both.
const ALIASES: Record<keyof Columns, readonly string[]> = {
  artist: ['artist', 'artists', 'artistname', 'performer', 'band', 'interpret', 'kunstler', 'artiste', 'artista', 'singer'],
  title: ['title', 'songtitle', 'song', 'songname', 'tracktitle', 'track', 'trackname', 'titel', 'titre', 'titulo', 'titolo', 'name'],
  id: ['id', 'songid', 'discid', 'disc', 'songnumber', 'code', 'songcode', 'karaokeid'],
  duration: ['duration', 'length', 'time', 'dauer', 'duree', 'duracion', 'durata'],
  language: ['language', 'languages', 'lang', 'sprache', 'langue', 'idioma', 'lingua'],
};
// Other columns song lists carry (KaraFun, OpenKJ, spreadsheets): seeing one of them in the
// first line means it is a header row, even without artist and title.
const OTHER_COLUMNS = new Set([
  'year', 'duo', 'explicit', 'dateadded', 'added', 'date', 'style', 'styles', 'genre', 'genres', 'album',
  'path', 'file', 'filename', 'filepath', 'key', 'bpm', 'rating', 'comment', 'comments', 'notes',
  'plays', 'count', 'brand', 'manufacturer', 'vendor', 'decade', 'jahr', 'annee', 'ano',
]);
const DELIMITERS: readonly Delimiter[] = ['\t', ';', ','];
/** Between artist and title in an "Artist - Title" line: a hyphen, en or em dash with spaces around. */
export const ARTIST_TITLE_DASH = /\s+[-\u2013\u2014]\s+/;
const SAMPLE_LINES = 200;

/** Map header cells to columns; artist or title is -1 when the header has none. */
export function mapHeader(cells: readonly string[]): Columns {
  const keys = cells.map(headerKey);
  const find = (field: keyof Columns): number => {
    for (const alias of ALIASES[field]) {
      const i = keys.indexOf(alias);
      if (i !== -1) return i;
    }
    return -1;
  };
  return { artist: find('artist'), title: find('title'), id: find('id'), duration: find('duration'), language: find('language') };
}

/**
 * Decide how the file is laid out from its first lines, never from a file name: a header
 * row naming artist and title (with whichever delimiter splits it into known names), a
 * header row without them (refused by the caller), or no header at all.
 */
export function detectLayout(lines: readonly string[]): Layout {
  const first = lines.find((line) => line.trim() !== '') ?? '';
  let bestHeader: { cells: string[]; known: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const cells = naiveSplit(first, delimiter);
    const columns = mapHeader(cells);
    if (columns.artist !== -1 && columns.title !== -1) return { kind: 'header', delimiter };
    const known = cells.filter((cell) => isKnownColumn(headerKey(cell))).length;
    // One known word is not enough: a headerless first row can be Pink Floyd's "Time".
    const header = known >= 2 || (known === 1 && cells.length === 1);
    if (header && (!bestHeader || known > bestHeader.known)) bestHeader = { cells, known };
  }
  if (bestHeader) {
    const columns = mapHeader(bestHeader.cells);
    const missing = (['artist', 'title'] as const).filter((field) => columns[field] === -1);
    return { kind: 'missing-columns', found: bestHeader.cells.filter((cell) => cell !== ''), missing };
  }
  return detectHeaderless(lines);
}

function detectHeaderless(lines: readonly string[]): Layout {
  const sample: string[] = [];
  for (const line of lines) {
    if (line.trim() !== '') sample.push(line);
    if (sample.length === SAMPLE_LINES) break;
  }
  const dashed = sample.filter((line) => ARTIST_TITLE_DASH.test(line)).length;
  let best: { delimiter: Delimiter; count: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const count = sample.filter((line) => hasDelimiterOutsideQuotes(line, delimiter)).length;
    if (count > 0 && (!best || count > best.count)) best = { delimiter, count };
  }
  // A tie goes to the delimiter: OpenKJ's export has " - " in every file path column, while
  // an "Artist - Title" list has a comma only in the odd name ("Earth, Wind & Fire").
  if (best && best.count >= dashed) return { kind: 'headerless', delimiter: best.delimiter };
  return { kind: 'lines' };
}

function isKnownColumn(key: string): boolean {
  return OTHER_COLUMNS.has(key) || Object.values(ALIASES).some((aliases) => aliases.includes(key));
}

/** Good enough to read a header row; the real parse is csv-parse's. */
function naiveSplit(line: string, delimiter: Delimiter): string[] {
  return line.split(delimiter).map((cell) => cell.trim().replace(/^"(.*)"$/, '$1').trim());
}

function hasDelimiterOutsideQuotes(line: string, delimiter: Delimiter): boolean {
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) return true;
  }
  return false;
}
