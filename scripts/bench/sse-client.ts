// The one event-stream client of the tests, the benchmark and the soak: what a phone's EventSource
// does, minus the reconnecting, which the callers do themselves so they can count and time it.
import http from 'node:http';
import net from 'node:net';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A comment line (the server's keep-alive). */
  onComment?(): void;
  /** The stream ended or broke; `error` is set when it broke. */
  onClose?(error?: Error): void;
}

/** Splits the stream into events; comments (keep-alives) and `retry:` blocks carry no data and are not events. */
export class SseParser {
  private buffer = '';

  constructor(
    private readonly emit: (event: SseEvent) => void,
    private readonly comment: () => void = () => {},
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.dispatch(block);
      end = this.buffer.indexOf('\n\n');
    }
  }

  private dispatch(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comment();
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) this.emit({ id, event, data: data.join('\n') });
  }
}

export interface SseConnection {
  /** Resolves with the status once the response headers arrive. */
  ready: Promise<number>;
  close(): void;
}

export interface SseStream extends SseConnection {
  /** The response, once its headers arrive: status and headers. */
  response: Promise<http.IncomingMessage>;
}

/** Open one stream on its own socket (no agent, as separate phones would). */
export function openSse(url: string, handlers: SseHandlers, headers: Record<string, string> = {}): SseStream {
  const parser = new SseParser(
    (e) => handlers.onEvent(e),
    () => handlers.onComment?.(),
  );
  let closed = false;
  const finish = (error?: Error) => {
    if (closed) return;
    closed = true;
    handlers.onClose?.(error);
  };
  const req = http.request(url, { agent: false, headers: { Accept: 'text/event-stream', ...headers } });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      resolve(res);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.push(chunk));
      res.once('end', () => finish());
      res.once('error', (err) => finish(err));
      res.once('close', () => finish());
    });
    req.once('error', (err) => {
      reject(err);
      finish(err);
    });
  });
  const ready = response.then((res) => res.statusCode ?? 0);
  // The caller may never await `ready`; a refused connection is reported through onClose.
  ready.catch(() => {});
  response.catch(() => {});
  req.end();
  return {
    ready,
    response,
    close: () => {
      closed = true;
      req.destroy();
    },
  };
}

/** openSse for a test: events queue up in order and next() awaits the next one. */
export class SseClient {
  private readonly events: SseEvent[] = [];
  private readonly waiters: ((e: SseEvent | null) => void)[] = [];
  private ended = false;
  private readonly stream: SseStream;
  comments = 0;
  /** When each comment (a keep-alive) arrived, from performance.now(). */
  readonly commentTimes: number[] = [];
  /** The response once its headers arrive; rejects if the connection fails. */
  readonly ready: Promise<http.IncomingMessage>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.stream = openSse(url, {
      onEvent: (event) => {
        const waiter = this.waiters.shift();
        if (waiter) waiter(event);
        else this.events.push(event);
      },
      onComment: () => {
        this.comments += 1;
        this.commentTimes.push(performance.now());
      },
      onClose: () => this.finish(),
    }, headers);
    this.ready = this.stream.response;
  }

  private finish(): void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }

  /** The next event, or null once the stream has ended. */
  next(): Promise<SseEvent | null> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.stream.close();
    this.finish();
  }
}

/**
 * Finds where each event ends and reads only its first bytes (the `id:` and `event:` lines),
 * never decoding the data: thousands of clients in one process must not be what is measured.
 */
export class SseBlockScanner {
  private head = '';
  private lastWasNewline = false;

  constructor(private readonly emit: (id: string | undefined, event: string) => void) {}

  push(chunk: Buffer): void {
    // Nothing to scan, and nothing to forget: a newline at the end of the last chunk still counts.
    if (chunk.length === 0) return;
    let i = 0;
    // A blank line ends the block; its two newlines may straddle two chunks.
    if (this.lastWasNewline && chunk[0] === 10) {
      this.finish();
      i = 1;
    }
    this.lastWasNewline = false;
    while (i < chunk.length) {
      const end = chunk.indexOf('\n\n', i);
      if (end === -1) {
        this.keepHead(chunk, i, chunk.length);
        this.lastWasNewline = chunk[chunk.length - 1] === 10;
        return;
      }
      this.keepHead(chunk, i, end);
      this.finish();
      i = end + 2;
    }
  }

  private keepHead(chunk: Buffer, from: number, to: number): void {
    if (this.head.length < 64) this.head += chunk.toString('latin1', from, Math.min(to, from + 64 - this.head.length));
  }

  private finish(): void {
    let id: string | undefined;
    let event = 'message';
    for (const line of this.head.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
    const isEvent = /(^|\n)data:/.test(this.head);
    this.head = '';
    if (isEvent) this.emit(id, event);
  }
}

// One read buffer for every socket: reads are handled one at a time, and nothing is allocated per read.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

/**
 * Like openSse, but as lean as a client can be, so that thousands of them in one process measure
 * the server and not themselves: a raw socket read into a shared buffer, no HTTP parser (the
 * scanner skips the status line, headers and chunk sizes, which never hold a blank line of
 * their own), and only each event's id and type reported (see SseBlockScanner).
 */
export function watchSse(url: string, onEvent: (id: string | undefined, event: string) => void, onClose: () => void): SseConnection {
  const { hostname, port, pathname } = new URL(url);
  const scanner = new SseBlockScanner(onEvent);
  let resolveReady: (status: number) => void = () => {};
  let rejectReady: (err: Error) => void = () => {};
  const ready = new Promise<number>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {});
  let status = 0;
  const socket = net.connect({
    host: hostname,
    port: Number(port),
    onread: {
      buffer: sharedReadBuffer,
      callback: (size) => {
        const chunk = sharedReadBuffer.subarray(0, size);
        if (status === 0) {
          status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? -1);
          resolveReady(status);
        }
        scanner.push(chunk);
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  socket.once('connect', () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`));
  socket.once('error', (err) => rejectReady(err));
  socket.once('close', onClose);
  return { ready, close: () => socket.destroy() };
}
