import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { Logger } from 'pino';

const RETRY = Buffer.from('retry: 2000\n\n');
const FRAME_END = Buffer.from('\n\n');

/**
 * One SSE frame from JSON already encoded (JSON never holds a raw newline, so it is one `data:`
 * line). `id` is the session's version, so a reconnecting client can tell a stale state.
 */
export function sseFrame(event: string, version: number, json: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`id: ${version}\nevent: ${event}\ndata: `), json, FRAME_END]);
}

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

  subscribe(sessionId: string, res: Response, frame: Buffer): void {
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

  /** Is anyone listening? Lets a change skip building a frame nobody would receive. */
  watching(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /** Encoded once for all clients, not once per socket write. */
  publish(sessionId: string, frame: Buffer): void {
    const clients = this.bySession.get(sessionId);
    if (!clients) return;
    for (const client of clients) this.send(client, frame);
  }

  /** Tell clients the session is gone and end their streams. */
  endSession(sessionId: string, frame: Buffer): void {
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
