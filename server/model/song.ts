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
