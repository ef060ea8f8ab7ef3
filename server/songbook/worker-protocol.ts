// The messages between SongbookWorker and its thread. Errors cross as plain data: structured
// clone keeps neither an error's class nor its own fields, and the routes pick a status by both.
import type { BadLine } from './collect.js';
import type { ParsedSongbook, SongbookErrorCode } from './parse.js';
import type { SongIndexParts } from './search.js';

export type WorkerRequest =
  | { id: number; kind: 'parse'; bytes: Uint8Array; updatedAt: string }
  | { id: number; kind: 'index'; encoded: Uint8Array };

/** What an upload's parse reports, with the songs as the store's bytes instead of objects. */
export type ParsedUpload = Omit<ParsedSongbook, 'songs'> & { songs: number; encoded: Uint8Array };

export type WorkerError =
  | { parse: true; message: string; code: SongbookErrorCode; badLines: BadLine[] }
  | { parse: false; message: string };

export type WorkerReply =
  | { id: number; ok: true; value: ParsedUpload | SongIndexParts }
  | { id: number; ok: false; error: WorkerError };
