/** One entry of a host's songbook, as uploaded (OpenKJ and KaraFun exports both reduce to this). */
export interface Song {
  id: string;
  artist: string;
  title: string;
  duration?: number;
  language?: string;
}

/** A songbook as stored: the songs and when and how they were read. */
export interface StoredSongbook {
  updatedAt: string;
  format: string;
  songs: Song[];
}

/**
 * A stored songbook as bytes (UTF-8 JSON): how the store keeps it, and how it crosses to the
 * songbook worker, which parses it there so that 100,000 songs never pass through the main thread.
 * `updatedAt` comes first, so a backup can tell a file's version from its first bytes.
 */
export function encodeStoredSongbook({ updatedAt, format, songs }: StoredSongbook): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ updatedAt, format, songs }));
}

export function decodeStoredSongbook(bytes: Uint8Array): StoredSongbook {
  return JSON.parse(new TextDecoder().decode(bytes)) as StoredSongbook;
}
