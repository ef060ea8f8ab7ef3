// The songbook worker thread: the two jobs that take seconds on a 100,000-song list (reading an
// upload, building a search index) run here, so the main thread keeps answering requests and
// event streams meanwhile. Started and spoken to only by SongbookWorker (worker-client.ts).
import { parentPort } from 'node:worker_threads';
import { decodeStoredSongbook, encodeStoredSongbook } from '../model/song.js';
import { parseSongbook, SongbookParseError } from './parse.js';
import { SongIndex } from './search.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread (see SongbookWorker)');

port.on('message', (request: WorkerRequest) => {
  try {
    if (request.kind === 'parse') {
      const { songs, ...report } = parseSongbook(request.bytes);
      // Encoded here, so the main thread hands the store bytes and never holds the songs.
      const encoded = encodeStoredSongbook({ updatedAt: request.updatedAt, format: report.format, songs });
      const reply: WorkerReply = { id: request.id, ok: true, value: { ...report, songs: songs.length, encoded } };
      port.postMessage(reply, [encoded.buffer as ArrayBuffer]);
    } else {
      const parts = SongIndex.build(decodeStoredSongbook(request.encoded).songs).toParts();
      const buffers = [parts.postOffsets, parts.postings, parts.fwdOffsets, parts.fwd, parts.titleLen, parts.artistLen, parts.byThird, parts.thirdKeys,
        parts.songs.offsets, parts.songs.durations, parts.songs.byId].map((a) => a.buffer as ArrayBuffer);
      port.postMessage({ id: request.id, ok: true, value: parts } satisfies WorkerReply, buffers);
    }
  } catch (err) {
    const error = err instanceof SongbookParseError
      ? { parse: true as const, message: err.message, code: err.code, badLines: err.badLines }
      : { parse: false as const, message: err instanceof Error ? err.message : String(err) };
    port.postMessage({ id: request.id, ok: false, error } satisfies WorkerReply);
  }
});
