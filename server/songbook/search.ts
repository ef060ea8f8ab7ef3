// Song search over one host's songbook, asked on every keystroke.
//
// Why this shape: running uFuzzy over 100,000 "artist title" strings costs a regex test per song per
// keystroke, and uFuzzy's own out-of-order search permutes the terms (8 words = 40,320 orders) and its
// bounds use \b, which is blind to Cyrillic and Greek. So the songbook is cut into its distinct folded
// words (a sorted vocabulary, a few tens of thousands), and each query word is matched against that:
// exact and prefix matches are one contiguous range found by binary search, and only the typo pass
// asks uFuzzy (intraMode 1, single error), on the few vocabulary words one error can reach (typoPool).
// Posting lists (word → songs) then give the candidates of the most selective word, and every other
// word is checked against each candidate's own word list, so word order is free and AND is cheap.
// Measured on the generated 100k songbook (Node 24, fresh queries): uFuzzy.search over "artist
// title" strings took 10-17 ms a query (Latin mode) and 12-200 ms (unicode mode), a plain substring
// AND scan 4-18 ms without typos; this design's p50 is 0.1-0.7 ms. See scripts/bench/songbook-search.ts.
// Ranking is ours: worst tier (whole word < prefix < typo), then the sum of tiers, then shorter
// titles and artists, packed into one number per match so a small heap keeps the best `limit`.
import uFuzzy from '@leeoniya/ufuzzy';
import type { Song } from '../model/song.js';
import { SongTable, type SongTableParts } from './song-table.js';

export const MAX_QUERY_CHARS = 100;
export const MAX_QUERY_WORDS = 8;
/** Words shorter than this must be typed right: at three letters one error matches half the list. */
export const MIN_TYPO_LETTERS = 4;
/** Longer words must be typed right: uFuzzy compiles ~4 variants per letter for each new needle. */
export const MAX_TYPO_LETTERS = 24;
const MAX_WORDS_PER_SONG = 64;
const MAX_SONGS = 2 ** 21; // the song's position takes the low 21 bits of a rank key

const EXACT = 0;
const PREFIX = 1;
const TYPO = 2;
const NONE = 3;

const ASCII = /^[\x00-\x7f]*$/;
const COMBINING = /[\u0300-\u036f]/g; // accents, Greek tonos, Cyrillic breve/diaeresis after NFKD
const UNDECOMPOSED: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ς: 'σ' };
const UNDECOMPOSED_RE = /[ßæœøłđðþıς]/g;
const APOSTROPHES = /['’‘`´]/g; // "Guns N' Roses" and "Don't" keep their letters together
const NON_WORD = /[^\p{L}\p{N}]+/u;
const ASTRAL = /[\ud800-\udfff]/;
const DIGITS = /^\d+$/;
const MARK = '~'; // not a letter or digit, so never inside a word; not special in a RegExp

/** Case-, accent- and script-insensitive form: "Björk" → "bjork", "ΣΑΚΗΣ" → "σακησ", "КИНО" → "кино". */
export function fold(text: string): string {
  // toLowerCase, not toLocaleLowerCase: the server's locale must not change what guests find.
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKD').replace(COMBINING, '').toLowerCase().replace(UNDECOMPOSED_RE, (c) => UNDECOMPOSED[c] ?? c);
}

/** The words of a field, plus each punctuated chunk joined ("AC/DC" → ac, dc and acdc). */
export function words(text: string, withCompounds: boolean): { base: string[]; compounds: string[] } {
  const base: string[] = [];
  const compounds: string[] = [];
  const folded = fold(text).replace(APOSTROPHES, '').replaceAll('&', ' and ');
  for (const chunk of folded.split(/\s+/)) {
    const parts = chunk.split(NON_WORD).filter((p) => p !== '');
    base.push(...parts);
    if (withCompounds && parts.length > 1) compounds.push(parts.join(''));
  }
  return { base, compounds };
}

/** The query's words: capped, deduplicated, "the" dropped unless it is all there is. */
export function queryTerms(q: string): string[] {
  const all = [...new Set(words(q.slice(0, MAX_QUERY_CHARS), false).base)];
  const meaningful = all.filter((w) => w !== 'the');
  return (meaningful.length > 0 ? meaningful : all).slice(0, MAX_QUERY_WORDS);
}

function lowerBound<T extends string | number>(sorted: ArrayLike<T>, key: T, from = 0): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function stringBytes(s: string): number {
  return 24 + (ASCII.test(s) ? s.length : 2 * s.length); // header, length, rounding
}

/** One query word's matches in the vocabulary: the [lo, hi) prefix range, the exact id, typo ids. */
interface TermMatch {
  lo: number;
  hi: number;
  exact: number;
  typos: number[];
  cost: number;
}

// Single-error matching: substitution, transposition, deletion, insertion; the first letter exact.
// Every vocabulary word starts with MARK, found nowhere else, and so does the needle: uFuzzy's
// filter matches anywhere in a string ("sing" in "surprising"), the mark pins matches to a word's
// start without the two extra RegExps per needle that info() would compile to tell us where.
// The haystack is single folded words, so "any character" is a letter in every alphabet, and the
// needle is one word with no spaces. That spares the /u flag: a case-insensitive \p{L} class is
// recompiled for each of the ~4n variants of every new needle, 8-400 ms per keystroke (measured).
const fuzzy = new uFuzzy({
  interSplit: '\\s+',
  intraSplit: null,
  intraBound: null,
  interBound: '\\s',
  intraChars: '.',
  intraMode: 1,
  // uFuzzy hands over the needle's letter and digit runs: "~beatels", or "~", "4", "ever".
  intraRules: (part) => {
    const marked = part.startsWith(MARK);
    return DIGITS.test(part) || part.length - (marked ? 1 : 0) < MIN_TYPO_LETTERS
      ? { intraIns: 0, intraSub: 0, intraTrn: 0, intraDel: 0 }
      : { intraSlice: [marked ? 2 : 1, Infinity], intraIns: 1, intraSub: 1, intraTrn: 1, intraDel: 1 };
  },
  toLower: (s) => s, // everything reaching uFuzzy is already folded
});

/**
 * A built index as plain data: typed arrays whose buffers a worker transfers, the packed songs and
 * the sorted vocabulary. What the songbook worker hands the main thread (see worker.ts).
 */
export interface SongIndexParts {
  songs: SongTableParts;
  vocab: string[];
  postOffsets: Uint32Array;
  postings: Uint32Array;
  fwdOffsets: Uint32Array;
  fwd: Uint32Array;
  titleLen: Uint8Array;
  artistLen: Uint8Array;
  byThird: Uint32Array;
  thirdKeys: Uint32Array;
}

export class SongIndex {
  // Scratch space reused by every search (search is synchronous, so one query owns it at a time).
  private epoch = 0;
  private readonly seen: Uint32Array;
  private readonly typoBits: Uint8Array;
  private poolEpoch = 0;
  private readonly pooled: Uint32Array;

  private constructor(
    private readonly songs: SongTable,
    private readonly vocab: readonly string[],
    private readonly postOffsets: Uint32Array,
    private readonly postings: Uint32Array,
    private readonly fwdOffsets: Uint32Array,
    private readonly fwd: Uint32Array,
    /** Per song: folded title and artist lengths (capped at 255), the "shorter first" of ranking. */
    private readonly titleLen: Uint8Array,
    private readonly artistLen: Uint8Array,
    /** Word ids of 3+ letters ordered by (first letter, third letter), and those pairs as numbers. */
    private readonly byThird: Uint32Array,
    private readonly thirdKeys: Uint32Array,
  ) {
    this.seen = new Uint32Array(songs.length);
    this.typoBits = new Uint8Array(vocab.length);
    this.pooled = new Uint32Array(vocab.length);
  }

  static build(input: readonly Song[]): SongIndex {
    const songs = input;
    const n = songs.length;
    if (n >= MAX_SONGS) throw new RangeError(`a songbook holds at most ${MAX_SONGS - 1} songs`);
    const ids = new Map<string, number>();
    const vocab: string[] = [];
    const fwdTemp: number[] = [];
    const fwdOffsets = new Uint32Array(n + 1);
    const titleLen = new Uint8Array(n);
    const artistLen = new Uint8Array(n);
    const idOf = (w: string): number => {
      let id = ids.get(w);
      if (id === undefined) {
        id = vocab.length;
        ids.set(w, id);
        vocab.push(w);
      }
      return id;
    };
    for (let s = 0; s < n; s++) {
      const song = songs[s]!;
      const artist = words(song.artist, true);
      const title = words(song.title, true);
      const list = [...artist.base, ...title.base, ...artist.compounds, ...title.compounds].slice(0, MAX_WORDS_PER_SONG);
      for (const w of list) fwdTemp.push(idOf(w));
      fwdOffsets[s + 1] = fwdTemp.length;
      titleLen[s] = Math.min(title.base.join(' ').length, 255);
      artistLen[s] = Math.min(artist.base.join(' ').length, 255);
    }
    // Renumber words in sorted order so every prefix is one contiguous id range.
    const order = vocab.map((_, i) => i).sort((a, b) => (vocab[a]! < vocab[b]! ? -1 : 1));
    const renumber = new Uint32Array(vocab.length);
    order.forEach((old, sortedId) => (renumber[old] = sortedId));
    const sorted = order.map((old) => MARK + vocab[old]!); // the mark keeps the order: it prefixes all
    const fwd = new Uint32Array(fwdTemp.length);
    for (let k = 0; k < fwd.length; k++) fwd[k] = renumber[fwdTemp[k]!]!;

    // Posting lists in one flat array (CSR), each song once per word.
    const postOffsets = new Uint32Array(sorted.length + 1);
    const last = new Int32Array(sorted.length).fill(-1);
    for (let s = 0; s < n; s++) {
      for (let k = fwdOffsets[s]!; k < fwdOffsets[s + 1]!; k++) {
        const w = fwd[k]!;
        if (last[w] !== s) (last[w] = s), postOffsets[w + 1]!++;
      }
    }
    for (let w = 0; w < sorted.length; w++) postOffsets[w + 1]! += postOffsets[w]!;
    const postings = new Uint32Array(postOffsets[sorted.length]!);
    const fill = postOffsets.slice(0, sorted.length);
    last.fill(-1);
    for (let s = 0; s < n; s++) {
      for (let k = fwdOffsets[s]!; k < fwdOffsets[s + 1]!; k++) {
        const w = fwd[k]!;
        if (last[w] !== s) (last[w] = s), (postings[fill[w]!++] = s);
      }
    }
    const pairKey = (w: string) => w.charCodeAt(1) * 65536 + w.charCodeAt(3); // after the mark
    const byThird = Uint32Array.from(sorted.keys()).filter((w) => sorted[w]!.length >= 4);
    const keyOf = Uint32Array.from(sorted, (w) => (w.length >= 4 ? pairKey(w) : 0));
    byThird.sort((a, b) => keyOf[a]! - keyOf[b]! || a - b);
    const thirdKeys = byThird.map((w) => keyOf[w]!);
    return new SongIndex(SongTable.pack(songs), sorted, postOffsets, postings, fwdOffsets, fwd, titleLen, artistLen, byThird, thirdKeys);
  }

  /** The index as parts for another thread; the typed arrays' buffers are the ones to transfer. */
  toParts(): SongIndexParts {
    const { songs, vocab, postOffsets, postings, fwdOffsets, fwd, titleLen, artistLen, byThird, thirdKeys } = this;
    return { songs: songs.toParts(), vocab: vocab as string[], postOffsets, postings, fwdOffsets, fwd, titleLen, artistLen, byThird, thirdKeys };
  }

  /** Adopts parts from toParts() as they are, without copying or checking them. */
  static fromParts(p: SongIndexParts): SongIndex {
    return new SongIndex(SongTable.fromParts(p.songs), p.vocab, p.postOffsets, p.postings, p.fwdOffsets, p.fwd, p.titleLen, p.artistLen, p.byThird, p.thirdKeys);
  }

  get size(): number {
    return this.songs.length;
  }

  /** A song by its id (a guest's pick from the results). */
  find(id: string): Song | undefined {
    return this.songs.find(id);
  }

  get bytes(): number {
    let total = this.songs.bytes;
    for (const w of this.vocab) total += 8 + stringBytes(w);
    for (const a of [this.postOffsets, this.postings, this.fwdOffsets, this.fwd, this.titleLen, this.artistLen, this.seen, this.typoBits, this.pooled, this.byThird, this.thirdKeys]) {
      total += a.byteLength;
    }
    return total;
  }

  search(q: string, limit: number): { results: Song[]; total: number } {
    const terms = queryTerms(q);
    // One letter matches a third of any songbook: noise, and the costliest query there is. Wait for a
    // second letter ("a b" too); a one-letter word beside a longer one ("guns n roses") is fine.
    if (terms.every((t) => [...t].length < 2)) return { results: [], total: 0 };
    const matches = terms.map((t, j) => this.matchTerm(t, j));
    try {
      return this.rank(matches, Number.isNaN(limit) ? 0 : Math.min(Math.max(0, Math.floor(limit)), this.songs.length));
    } finally {
      for (const m of matches) for (const w of m.typos) this.typoBits[w] = 0;
    }
  }

  private matchTerm(term: string, j: number): TermMatch {
    const { vocab, postOffsets } = this;
    const marked = MARK + term;
    const lo = lowerBound(vocab, marked);
    const hi = lowerBound(vocab, marked + '\uffff', lo);
    const exact = lo < hi && vocab[lo] === marked ? lo : -1;
    const typos: number[] = [];
    let cost = postOffsets[hi]! - postOffsets[lo]!;
    if (term.length >= MIN_TYPO_LETTERS && term.length <= MAX_TYPO_LETTERS && !DIGITS.test(term) && !ASTRAL.test(term)) {
      for (const w of fuzzy.filter(vocab as string[], marked, this.typoPool(term, lo, hi)) ?? []) {
        typos.push(w);
        this.typoBits[w]! |= 1 << j;
        cost += postOffsets[w + 1]! - postOffsets[w]!;
      }
    }
    return { lo, hi, exact, typos, cost };
  }

  /**
   * The only words a single error after the first letter can reach, outside the prefix range [lo, hi).
   * With t = term: an error past the second letter leaves "t0 t1…"; a swap of, or an extra, t1 gives
   * "t0 t2…"; a wrong or missing second letter gives "t0 ? t2…" or "t0 ? t1…". Sorted ranges, both ways,
   * so uFuzzy tests a fraction (a third on the generated songbook) of the words starting with t0.
   */
  private typoPool(term: string, lo: number, hi: number): number[] {
    const { vocab, byThird, thirdKeys, pooled } = this;
    if (++this.poolEpoch === 0xffffffff) (pooled.fill(0), (this.poolEpoch = 1));
    const epoch = this.poolEpoch;
    const pool: number[] = [];
    const add = (w: number) => {
      if ((w < lo || w >= hi) && pooled[w] !== epoch) (pooled[w] = epoch), pool.push(w);
    };
    for (const second of new Set([term[1]!, term[2]!])) {
      const head = MARK + term[0]! + second;
      for (let w = lowerBound(vocab, head), end = lowerBound(vocab, head + '\uffff'); w < end; w++) add(w);
      const key = term.charCodeAt(0) * 65536 + second.charCodeAt(0);
      for (let k = lowerBound(thirdKeys, key); k < thirdKeys.length && thirdKeys[k] === key; k++) add(byThird[k]!);
    }
    return pool;
  }

  private rank(matches: TermMatch[], limit: number): { results: Song[]; total: number } {
    const { postOffsets, postings, fwdOffsets, fwd, seen, typoBits, titleLen, artistLen } = this;
    let driver = 0;
    for (let j = 1; j < matches.length; j++) if (matches[j]!.cost < matches[driver]!.cost) driver = j;
    const d = matches[driver]!;
    if (d.cost === 0) return { results: [], total: 0 };
    const others = matches.filter((_, j) => j !== driver);
    const otherBits = others.map((m) => 1 << matches.indexOf(m));

    if (++this.epoch === 0xffffffff) (seen.fill(0), (this.epoch = 1));
    const epoch = this.epoch;
    const top = new TopK(limit);
    let total = 0;
    // Words in tier order (the exact word, the rest of the prefix range, typos), so the first time a
    // song is seen is its best tier for the driving term.
    const visit = (w: number, driverTier: number) => {
      for (let k = postOffsets[w]!; k < postOffsets[w + 1]!; k++) {
        const s = postings[k]!;
        if (seen[s] === epoch) continue;
        seen[s] = epoch;
        let worst = driverTier;
        let sum = driverTier;
        for (let j = 0; j < others.length && worst !== NONE; j++) {
          const m = others[j]!;
          const bit = otherBits[j]!;
          let best = NONE;
          for (let f = fwdOffsets[s]!; f < fwdOffsets[s + 1]! && best !== EXACT; f++) {
            const v = fwd[f]!;
            const tier = v === m.exact ? EXACT : v >= m.lo && v < m.hi ? PREFIX : typoBits[v]! & bit ? TYPO : NONE;
            if (tier < best) best = tier;
          }
          if (best > worst) worst = best;
          sum += best;
        }
        if (worst === NONE) continue;
        total++;
        top.offer((((worst * 32 + sum) * 256 + titleLen[s]!) * 256 + artistLen[s]!) * MAX_SONGS + s);
      }
    };
    if (d.exact >= 0) visit(d.exact, EXACT);
    for (let w = d.lo; w < d.hi; w++) if (w !== d.exact) visit(w, PREFIX);
    for (const w of d.typos) visit(w, TYPO);
    return { results: top.sorted().map((key) => this.songs.at(key % MAX_SONGS)), total };
  }
}

/** The k smallest keys seen, in a max-heap: most candidates cost one comparison with the root. */
class TopK {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.heap = new Float64Array(k);
  }

  offer(key: number): void {
    const { heap, k } = this;
    if (this.size < k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! >= key) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = key;
    } else if (k > 0 && key < heap[0]!) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k) break;
        const r = l + 1;
        const child = r < k && heap[r]! > heap[l]! ? r : l;
        if (heap[child]! <= key) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = key;
    }
  }

  sorted(): number[] {
    return Array.from(this.heap.subarray(0, this.size)).sort((a, b) => a - b);
  }
}

