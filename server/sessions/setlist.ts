import type { ArchivedNight } from '../model/night.js';
import type { PastRequest, StoredSession } from '../model/session.js';

/** What a night's songs.csv holds: one row per song that went on stage. */
export interface SetlistRow {
  startedAt: string;
  endedAt: string;
  singer: string;
  title: string;
  artist: string;
  outcome: string;
  songId: string;
}

const COLUMNS: readonly (keyof SetlistRow)[] = ['startedAt', 'endedAt', 'singer', 'title', 'artist', 'outcome', 'songId'];

const row = (p: PastRequest | (Omit<PastRequest, 'endedAt' | 'outcome'> & { endedAt: ''; outcome: 'singing' })): SetlistRow => ({
  startedAt: p.startedAt,
  endedAt: p.endedAt,
  singer: p.singer.name,
  title: p.title,
  artist: p.artist,
  outcome: p.outcome,
  songId: p.songId ?? '',
});

export const archivedSetlist = (night: ArchivedNight): SetlistRow[] => night.songs.map(row);

/** Tonight so far: the songs done, then the one on stage (no end yet). */
export function tonightSetlist(session: StoredSession): SetlistRow[] {
  const rows = session.history.map(row);
  if (session.nowSinging) rows.push(row({ ...session.nowSinging, endedAt: '', outcome: 'singing' }));
  return rows;
}

/**
 * RFC 4180 CSV with a header. A cell that a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR at its start) gets a leading apostrophe: singers' names and titles are typed by guests.
 */
export function toCsv(rows: readonly SetlistRow[]): string {
  const cell = (value: string) => {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
