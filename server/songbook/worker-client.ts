import { Worker } from 'node:worker_threads';
import { SongbookParseError } from './parse.js';
import { SongIndex, type SongIndexParts } from './search.js';
import type { ParsedUpload, WorkerReply, WorkerRequest } from './worker-protocol.js';

export type { ParsedUpload } from './worker-protocol.js';

type Job = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The worker thread died (a crash, or close()) before it answered; the next call starts a new one. */
export class SongbookWorkerError extends Error {
  override readonly name = 'SongbookWorkerError';
}

/**
 * One long-lived songbook worker thread (worker.ts), started on first use and again after it
 * dies. Jobs run one at a time in arrival order; the thread is idle otherwise and, while idle,
 * does not keep the process alive.
 */
/** How long an idle worker thread is kept for the next job. */
const IDLE_MS = 30_000;

export class SongbookWorker {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private closed = false;
  private starts = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly url: URL = new URL('./worker.js', import.meta.url)) {}

  /** parseSongbook(bytes) on the worker; its SongbookParseError comes back as one. `bytes` may be handed over (detached). */
  parse(bytes: Uint8Array, updatedAt: string): Promise<ParsedUpload> {
    return this.run({ kind: 'parse', bytes, updatedAt }, handOver(bytes)) as Promise<ParsedUpload>;
  }

  /** The search index of a songbook in encodeStoredSongbook's bytes, built on the worker. `encoded` may be handed over. */
  async index(encoded: Uint8Array): Promise<SongIndex> {
    return SongIndex.fromParts((await this.run({ kind: 'index', encoded }, handOver(encoded))) as SongIndexParts);
  }

  /** Threads started so far (a restart after a crash counts). */
  get started(): number {
    return this.starts;
  }

  /** Ends the thread as a crash would: jobs under way fail, the next call starts a new one. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Ends the thread for good (shutdown); jobs under way fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.terminate();
  }

  private run(request: Request, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new SongbookWorkerError('the songbook worker is closed'));
    const worker = this.worker ?? this.start();
    clearTimeout(this.idleTimer);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...request, id } as WorkerRequest, transfer);
    });
  }

  private start(): Worker {
    const worker = new Worker(this.url);
    this.starts++;
    this.worker = worker;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (this.jobs.size === 0) {
        worker.unref();
        // An idle thread still holds the heap a 100,000-song parse or build left (tens of MB, for
        // as long as V8 keeps it): let it go, and start a new one (some 30 ms) for the next job.
        this.idleTimer = setTimeout(() => {
          if (this.worker === worker && this.jobs.size === 0) void worker.terminate();
        }, IDLE_MS).unref();
      }
      if (reply.ok) job.resolve(reply.value);
      else if (reply.error.parse) job.reject(new SongbookParseError(reply.error.message, reply.error.badLines, reply.error.code));
      else job.reject(new Error(reply.error.message));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const jobs = [...this.jobs.values()];
      this.jobs.clear();
      for (const job of jobs) job.reject(new SongbookWorkerError(`the songbook worker stopped before it answered (${why})`));
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return worker;
  }
}

// A buffer the bytes have to themselves is moved, not copied; a slice of a shared pool (small
// Buffers) must stay, or every other Buffer in the pool would be detached with it.
function handOver(bytes: Uint8Array): ArrayBuffer[] {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? [buffer] : [];
}
