import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { StreamLimits } from './config.js';
import { Errors, type HttpError } from './errors.js';

const RETRY = Buffer.from('retry: 2000\n\n');
const FRAME_END = Buffer.from('\n\n');
/** Sent when a stream has lived its time: the page opens a new one at once (public/js/api.js). */
const RECONNECT = Buffer.from('event: reconnect\ndata: lifetime\n\n');

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
  address: string;
  expiry: NodeJS.Timeout | undefined;
}

export interface EventHubOptions {
  heartbeatMs: number;
  /** A client whose unsent output passes this is dropped: it stopped reading. */
  maxBufferBytes: number;
  log: Logger;
  /** Caps on open streams; undefined = none (RATE_LIMIT=off: benchmarks and load tests). */
  caps?: Omit<StreamLimits, 'maxLifetimeMs'> | undefined;
  /** A stream ends after this long, give or take a tenth so that a crowd does not reconnect at once. */
  maxLifetimeMs?: number | undefined;
}

/** Server-sent events per session. Each change is serialised once and written to every client. */
export class EventHub extends EventEmitter<{ connections: [count: number] }> {
  private readonly bySession = new Map<string, Set<Client>>();
  private readonly byAddress = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private total = 0;

  constructor(private readonly options: EventHubOptions) {
    super();
  }

  private closed = false;

  get connections(): number {
    return this.total;
  }

  /**
   * Why a new stream from this address to this session would be refused, or undefined. Each stream
   * holds memory and a connection for hours, so they are capped per address, per session and in all,
   * below what the machine and Fly's hard_limit hold (docs/scaling.md).
   */
  refusal(sessionId: string, address: string): HttpError | undefined {
    const caps = this.options.caps;
    if (!caps) return undefined;
    // A little at random, so that the refused do not all come back in the same second.
    const retryAfter = () => String(Math.round(caps.retryAfterSeconds * (1 + Math.random() / 2)));
    if (this.total >= caps.total) return Errors.streamsFull(retryAfter());
    if ((this.bySession.get(sessionId)?.size ?? 0) >= caps.perSession) return Errors.tooManyStreams('session', retryAfter());
    if ((this.byAddress.get(address) ?? 0) >= caps.perAddress) return Errors.tooManyStreams('address', retryAfter());
    return undefined;
  }

  /** Open a stream; throws the refusal (429 or 503 with Retry-After) when a cap is reached. */
  subscribe(sessionId: string, res: Response, frame: Buffer, address = ''): void {
    // A browser reconnecting during shutdown must not hold the process open until the kill timeout.
    if (this.closed) {
      res.status(503).set('Retry-After', '2').end();
      return;
    }
    const refused = this.refusal(sessionId, address);
    if (refused) throw refused;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and some proxies buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client: Client = { res, sessionId, address, expiry: undefined };
    let clients = this.bySession.get(sessionId);
    if (!clients) this.bySession.set(sessionId, (clients = new Set()));
    clients.add(client);
    this.total += 1;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    const lifetime = this.options.maxLifetimeMs;
    if (lifetime !== undefined) {
      // Every state frame is whole, so the next stream's first frame is all the page needs: nothing is missed.
      client.expiry = setTimeout(() => {
        this.drop(client);
        res.end(RECONNECT);
      }, lifetime * (0.9 + Math.random() / 5)).unref();
    }
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
    clearTimeout(client.expiry);
    this.total -= 1;
    const fromAddress = (this.byAddress.get(client.address) ?? 1) - 1;
    if (fromAddress === 0) this.byAddress.delete(client.address);
    else this.byAddress.set(client.address, fromAddress);
    this.emit('connections', this.total);
    if (clients.size === 0) this.bySession.delete(client.sessionId);
    if (this.total === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }
}
