import http from 'node:http';

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** A minimal EventSource over node:http: events arrive in order; next() awaits the next one. */
export class SseClient {
  private readonly events: SseEvent[] = [];
  private readonly waiters: ((e: SseEvent | null) => void)[] = [];
  private buffer = '';
  private ended = false;
  comments = 0;
  /** When each comment (a keep-alive) arrived, from performance.now(). */
  readonly commentTimes: number[] = [];
  readonly ready: Promise<http.IncomingMessage>;
  private req: http.ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}) {
    let resolveReady: (res: http.IncomingMessage) => void;
    let rejectReady: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    this.req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.feed(chunk));
      res.on('end', () => this.finish());
      res.on('error', () => this.finish());
      resolveReady(res);
    });
    this.req.on('error', (err) => {
      rejectReady(err);
      this.finish();
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let cut: number;
    while ((cut = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      const event: SseEvent = { event: 'message', id: undefined, data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments += 1;
          this.commentTimes.push(performance.now());
        }
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('data: ')) {
          event.data += (hasData ? '\n' : '') + line.slice(6);
          hasData = true;
        }
      }
      if (!hasData) continue;
      const waiter = this.waiters.shift();
      if (waiter) waiter(event);
      else this.events.push(event);
    }
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
    this.req.destroy();
  }
}
