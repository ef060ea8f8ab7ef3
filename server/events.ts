import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { Logger } from 'pino';

const RETRY = Buffer.from('retry: 2000\n\n');
const FRAME_END = Buffer.from('\n\n');

interface Client {
  res: Response;
  sessionId: string;
}

export interface EventHubOptions {
  heartbeatMs: number;
  /** A client whose unsent output passes this is dropped: it stopped reading. */
  maxBufferBytes: number;
  log: Logger;
}

/** Server-sent events per session. Each change is serialised once and written to every client. */
export class EventHub extends EventEmitter<{ connections: [count: number] }> {
  private readonly bySession = new Map<string, Set<Client>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private total = 0;

  constructor(private readonly options: EventHubOptions) {
    super();
  }

  private closed = false;

  get connections(): number {
    return this.total;
  }

  subscribe(sessionId: string, res: Response, frame: string | Buffer): void {
    // A browser reconnecting during shutdown must not hold the process open until the kill timeout.
    if (this.closed) {
      res.status(503).set('Retry-After', '2').end();
      return;
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and some proxies buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client: Client = { res, sessionId };
    let clients = this.bySession.get(sessionId);
    if (!clients) this.bySession.set(sessionId, (clients = new Set()));
    clients.add(client);
    this.total += 1;
    this.emit('connections', this.total);
    res.on('close', () => this.drop(client));
    // Headers, retry delay and first state leave in one write. The frame is written as given, not
    // copied: a crowd connecting at once shares one buffer instead of each making its own.
    res.cork();
    res.write(RETRY);
    res.write(frame);
    res.uncork();
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs).unref();
  }

  /** An SSE frame for a state: `id` is the version, so a reconnecting client can be ignored if stale. */
  static frame(event: string, version: number, data: unknown): string {
    return EventHub.frameJson(event, version, JSON.stringify(data));
  }

  /** The same frame from JSON already made (JSON never holds a raw newline, so it is one `data:` line). */
  static frameJson(event: string, version: number, json: string): string {
    return `id: ${version}\nevent: ${event}\ndata: ${json}\n\n`;
  }

  /** The same frame as bytes, from JSON already encoded. */
  static frameBytes(event: string, version: number, json: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`id: ${version}\nevent: ${event}\ndata: `), json, FRAME_END]);
  }

  /** Is anyone listening? Lets a change skip building a frame nobody would receive. */
  watching(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  publish(sessionId: string, frame: string | Buffer): void {
    const clients = this.bySession.get(sessionId);
    if (!clients) return;
    // Encoded once for all clients, not once per socket write.
    const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
    for (const client of clients) this.send(client, bytes);
  }

  /** Tell clients the session is gone and end their streams. */
  endSession(sessionId: string, frame: string): void {
    const clients = this.bySession.get(sessionId);
    if (!clients) return;
    for (const client of [...clients]) {
      client.res.end(frame);
      this.drop(client);
    }
  }

  /** End every stream (shutdown): clients reconnect by themselves to the next process. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const clients of this.bySession.values()) {
      for (const client of [...clients]) {
        client.res.end();
        this.drop(client);
      }
    }
  }

  private send(client: Client, frame: string | Buffer): void {
    const { res } = client;
    if (res.writableLength > this.options.maxBufferBytes) {
      this.options.log.warn({ sessionId: client.sessionId }, 'dropping an SSE client that stopped reading');
      this.drop(client);
      res.destroy();
      return;
    }
    res.write(frame);
  }

  private beat(): void {
    for (const clients of this.bySession.values()) {
      for (const client of clients) this.send(client, ': keep-alive\n\n');
    }
  }

  private drop(client: Client): void {
    const clients = this.bySession.get(client.sessionId);
    if (!clients?.delete(client)) return;
    this.total -= 1;
    this.emit('connections', this.total);
    if (clients.size === 0) this.bySession.delete(client.sessionId);
    if (this.total === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }
}
