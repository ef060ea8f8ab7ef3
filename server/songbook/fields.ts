import { sha256 } from '../lib/hash.js';

// Separators become a space (a title split over two lines in a quoted cell is one title);
// the other controls and invisible or direction-changing characters are dropped, the same
// set the request API refuses (server/sessions/validation.ts), so every song can be requested.
const SEPARATORS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const PLAIN = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/; // printable ASCII, single inner spaces, none at the edges
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const CLOCK = /^(\d+):([0-5]\d)(?::([0-5]\d))?(?:[.,]\d+)?$/;
const NUMBER = /^\d+(?:[.,]\d+)?$/;
// Nobody sings for three hours; a bigger plain number is milliseconds (OpenKJ keeps
// durations in ms), and no song is shorter than 10.8 s, so the two ranges do not overlap.
const MAX_SECONDS = 3 * 3600;

/** Trim, collapse inner whitespace, drop control and invisible characters, compose accents. */
export function cleanText(raw: string): string {
  if (PLAIN.test(raw)) return raw; // the common case, kept cheap for 100k-row files
  return raw.replace(SEPARATORS, ' ').replace(INVISIBLE, '').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * csv-parse with relax_quotes keeps a quoted cell that has unescaped quotes inside
 * (OpenKJ writes `"Guns "N" Roses"`) with its outer quotes; take them off again.
 */
export function unwrapQuotes(cell: string): string {
  return cell.length > 2 && cell.startsWith('"') && cell.endsWith('"') && cell.slice(1, -1).includes('"')
    ? cell.slice(1, -1)
    : cell;
}

/** Case-, accent- and whitespace-insensitive: "Céline  Dion" and "celine dion" are one artist. */
export function matchKey(artist: string, title: string): string {
  return `${fold(artist)}\u0000${fold(title)}`;
}

function fold(text: string): string {
  const lower = text.toLowerCase();
  return /^[\x00-\x7f]*$/.test(lower) ? lower : lower.normalize('NFD').replace(/\p{M}/gu, '');
}

/** A header cell as a lookup key: "Song Title" → "songtitle", "Künstler" → "kunstler". */
export function headerKey(cell: string): string {
  return fold(cleanText(cell)).replace(/[^a-z0-9]/g, '');
}

/** The file's own id, made to fit /^[A-Za-z0-9_-]{1,64}$/, or undefined when nothing usable is left. */
export function fileId(raw: string): string | undefined {
  const id = cleanText(raw);
  if (ID.test(id)) return id;
  // "ZM 1234.05" → "ZM-1234-05": keeps the id the host knows recognisable.
  const sanitized = id.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return ID.test(sanitized) ? sanitized : undefined;
}

/** Stable across uploads: the same song gets the same id, whatever row it is on. */
export function derivedId(key: string, attempt = 0): string {
  const input = attempt === 0 ? key : `${key}\u0000${attempt}`;
  return sha256(input, 'base64url').slice(0, 12);
}

/** Seconds from "215", "215.4", "3:35", "1:02:03" or milliseconds; undefined when unreadable. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim();
  let seconds: number;
  if (NUMBER.test(text)) {
    seconds = Number(text.replace(',', '.'));
    if (seconds > MAX_SECONDS) seconds /= 1000;
  } else {
    const clock = CLOCK.exec(text);
    if (!clock) return undefined;
    const [a, b, c] = [Number(clock[1]), Number(clock[2]), clock[3] === undefined ? undefined : Number(clock[3])];
    seconds = c === undefined ? a * 60 + b : a * 3600 + b * 60 + c;
  }
  seconds = Math.round(seconds);
  return seconds > 0 && seconds <= MAX_SECONDS ? seconds : undefined;
}
