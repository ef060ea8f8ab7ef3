// A songbook's songs packed into one string and a few typed arrays. The index is built on the
// songbook worker and adopted by the main thread; 100,000 song objects cost 110-400 ms of
// structured-clone deserialisation on the main thread (measured, Node 24, loaded machine), while
// one string and transferred buffers cost a copy of the string. Songs are made back into objects
// only for the few a search returns or a guest picks.
import type { Song } from '../model/song.js';

/** Per song: id, artist, title, language (empty when none), in that order, at offsets into `text`. */
const FIELDS = 4;
const LATIN1 = /^[\x00-\xff]*$/;

export interface SongTableParts {
  text: string;
  /** FIELDS * n + 1 offsets into text. */
  offsets: Uint32Array;
  /** Seconds; 0 when the song has none (a read duration is never 0). */
  durations: Float64Array;
  /** Song positions in id order, for find(). */
  byId: Uint32Array;
  /** V8 keeps text as one byte a character: what `bytes` counts. */
  oneByte: boolean;
}

export class SongTable {
  private constructor(private readonly parts: SongTableParts) {}

  static pack(songs: readonly Song[]): SongTable {
    const n = songs.length;
    const chunks: string[] = [];
    const offsets = new Uint32Array(FIELDS * n + 1);
    const durations = new Float64Array(n);
    let at = 0;
    for (let s = 0; s < n; s++) {
      const song = songs[s]!;
      const fields = [song.id, song.artist, song.title, song.language ?? ''];
      for (let f = 0; f < FIELDS; f++) {
        chunks.push(fields[f]!);
        at += fields[f]!.length;
        offsets[FIELDS * s + f + 1] = at;
      }
      durations[s] = song.duration ?? 0;
    }
    const text = chunks.join('');
    const ids = songs.map((song) => song.id);
    const byId = Uint32Array.from(ids.keys()).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : a - b));
    return new SongTable({ text, offsets, durations, byId, oneByte: LATIN1.test(text) });
  }

  static fromParts(parts: SongTableParts): SongTable {
    return new SongTable(parts);
  }

  toParts(): SongTableParts {
    return this.parts;
  }

  get length(): number {
    return this.parts.durations.length;
  }

  at(s: number): Song {
    const song: Song = { id: this.field(s, 0), artist: this.field(s, 1), title: this.field(s, 2) };
    const duration = this.parts.durations[s]!;
    if (duration !== 0) song.duration = duration;
    const language = this.field(s, 3);
    if (language !== '') song.language = language;
    return song;
  }

  find(id: string): Song | undefined {
    const { byId } = this.parts;
    let lo = 0;
    let hi = byId.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.field(byId[mid]!, 0) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < byId.length && this.field(byId[lo]!, 0) === id ? this.at(byId[lo]!) : undefined;
  }

  get bytes(): number {
    const { text, offsets, durations, byId, oneByte } = this.parts;
    return 24 + text.length * (oneByte ? 1 : 2) + offsets.byteLength + durations.byteLength + byId.byteLength;
  }

  private field(s: number, f: number): string {
    const { text, offsets } = this.parts;
    return text.slice(offsets[FIELDS * s + f]!, offsets[FIELDS * s + f + 1]!);
  }
}
