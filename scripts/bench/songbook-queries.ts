// Search queries drawn from a songbook's own words, as guests type them: one word, three words, a
// word and half of another, and the same with one typo. Shared by the in-process measurement
// (songbook-search.ts) and the HTTP scenario (songbook-scenario.ts), so both ask the same things.
import type { Song } from '../../server/model/song.js';
import { fold, words } from '../../server/songbook/search.js';
import { rng } from './seed.js';

export type QueryKind = 'word1' | 'word3' | 'prefix' | 'typo1' | 'typo3';
export const QUERY_KINDS: readonly QueryKind[] = ['word1', 'word3', 'prefix', 'typo1', 'typo3'];

export interface Query {
  kind: QueryKind;
  q: string;
}

function songWords(song: Song): string[] {
  return [...words(song.artist, false).base, ...words(song.title, false).base].filter((w) => w !== 'the');
}

/**
 * `count` queries cycling through `kinds`, the same for the same seed. A new seed gives fresh
 * strings: a guest's keystroke is usually one the server has not seen, and uFuzzy compiles a
 * RegExp per new needle, so repeating one set would measure V8's regexp cache instead.
 */
export function makeQueries(songs: readonly Song[], count: number, seed: number, kinds: readonly QueryKind[] = QUERY_KINDS): Query[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  /** One edit inside the word (never the first letter, which uFuzzy and guests both keep). */
  const typo = (word: string): string => {
    const i = 1 + Math.floor(random() * (word.length - 1));
    const letters = [...'abcdefghijklmnopqrstuvwxyz'];
    switch (Math.floor(random() * 4)) {
      case 0: return word.slice(0, i) + pick(letters) + word.slice(i + 1);
      case 1: return i < word.length - 1 ? word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2) : word.slice(0, i);
      case 2: return word.slice(0, i) + word.slice(i + 1);
      default: return word.slice(0, i) + pick(letters) + word.slice(i);
    }
  };

  const makeQuery = (kind: QueryKind): string => {
    for (;;) {
      const ws = songWords(pick(songs));
      const long = ws.filter((w) => w.length >= 5 && /^[a-z]+$/.test(fold(w)));
      if (kind === 'word1' && ws.some((w) => w.length > 1)) return pick(ws.filter((w) => w.length > 1));
      if (kind === 'word3' && ws.length >= 3) return [pick(ws), pick(ws), pick(ws)].join(' ');
      if (kind === 'prefix' && ws.length >= 2) {
        const last = pick(ws);
        return `${pick(ws)} ${last.slice(0, Math.max(2, Math.ceil(last.length / 2)))}`;
      }
      if (kind === 'typo1' && long.length > 0) return typo(pick(long));
      if (kind === 'typo3' && ws.length >= 3 && long.length > 0) return [pick(ws), typo(pick(long)), pick(ws)].join(' ');
    }
  };

  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return { kind, q: makeQuery(kind) };
  });
}
