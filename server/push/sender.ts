import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import { HttpError } from '../errors.js';
import { sessionLinks } from '../model/links.js';
import type { StoredPushSubscription, StoredSession } from '../model/session.js';
import { checkEndpoint, pinnedAgent, type EndpointPolicy } from './endpoints.js';
import type { PushEvent, PushEventKind } from './events.js';
import type { VapidKeys } from './keys.js';

export interface PushSenderDeps {
  /** Undefined: push is off (no VAPID subject), and nothing is sent. */
  vapid: { keys: VapidKeys; subject: string } | undefined;
  policy: EndpointPolicy;
  publicUrl: string | undefined;
  log: Logger;
  /** The push service said the subscription is dead (404, 410): forget it. */
  gone: (sessionId: string, singerId: string, endpoint: string) => Promise<void>;
  /** Longest one attempt may take, connection to answer. */
  timeoutMs?: number;
  attempts?: number;
  /** First pause before a retry; doubled each time. */
  backoffMs?: number;
}

interface Message {
  title: string;
  body: string;
  /** Seconds the push service keeps it for an offline phone: "you're next" is stale after a song or two. */
  ttl: number;
}

const quote = (title: string) => `“${title}”`;
const MESSAGES: Record<PushEventKind, (title: string) => Message> = {
  next: (t) => ({ title: "You're up after this song", body: `Get ready for ${quote(t)}.`, ttl: 900 }),
  'on-stage': (t) => ({ title: "You're on! 🎤", body: `${quote(t)}: the stage is yours.`, ttl: 900 }),
  removed: (t) => ({ title: 'Your song was taken off the queue', body: `The host removed ${quote(t)}.`, ttl: 3600 }),
  skipped: (t) => ({ title: 'Your song was skipped', body: `The host skipped ${quote(t)}.`, ttl: 3600 }),
};

const MAX_IN_FLIGHT = 64;

/** web-push, loaded with the first notification: a start does not wait for it (some 20 ms here). */
let webPush: Promise<typeof import('web-push')> | undefined;
const loadWebPush = () => (webPush ??= import('web-push').then((m) => m.default));

type Outcome = 'sent' | 'gone' | 'retry' | 'failed';

/**
 * Sends Web Push notifications (RFC 8030, VAPID RFC 8292, aes128gcm RFC 8291) off the request
 * path: `notify` returns at once. Each send has a deadline and a few retries, so one slow or
 * hanging push service holds up nobody else's.
 */
export class PushSender {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  /** Connections under way, ended at close so a hanging push service cannot hold up a shutdown. */
  private readonly agents = new Set<Agent>();
  private closed = false;

  constructor(private readonly deps: PushSenderDeps) {}

  /** The application server key pages subscribe with, or undefined when push is off. */
  get publicKey(): string | undefined {
    return this.deps.vapid?.keys.publicKey;
  }

  /**
   * Queue the notifications a change sets off; never throws, never waits. The events are those the
   * committed state marked as told (push/events.ts `markTold`): which song already rang is decided
   * there, durably, not remembered here.
   */
  notify(session: StoredSession, events: readonly PushEvent[]): void {
    if (!this.deps.vapid || this.closed) return;
    const { joinUrl } = sessionLinks(session, this.deps.publicUrl);
    for (const event of events) {
      const singer = session.singers.find((s) => s.id === event.singerId);
      if (!singer?.push?.length) continue;
      const message = MESSAGES[event.kind](event.title);
      // The request id as the tag and topic: "on stage" replaces "up next" on the phone and at the push service.
      const payload = JSON.stringify({ title: message.title, body: message.body, url: joinUrl, tag: event.requestId, kind: event.kind });
      for (const subscription of singer.push) {
        this.track(() => this.deliver(session.id, singer.id, subscription, payload, message.ttl, event));
      }
    }
  }

  /** Resolves once every queued send has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.waiting.length > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Take no more and retry nothing; end the connections under way. What a phone misses is about a
   * song that will have moved on by the time the server is back.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const agent of this.agents) agent.destroy();
    await this.idle();
  }

  private track(job: () => Promise<void>): void {
    const run = async () => {
      if (this.inFlight.size >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (!this.closed) await job();
    };
    const p = run()
      .catch((err: unknown) => this.deps.log.error({ err }, 'push send failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(p);
        this.waiting.shift()?.();
      });
    this.inFlight.add(p);
  }

  private async deliver(
    sessionId: string,
    singerId: string,
    subscription: StoredPushSubscription,
    payload: string,
    ttl: number,
    event: PushEvent,
  ): Promise<void> {
    const attempts = this.deps.attempts ?? 3;
    // The push service's origin only: the full endpoint is a capability and stays out of logs.
    const service = URL.canParse(subscription.endpoint) ? new URL(subscription.endpoint).origin : 'invalid';
    const context = { sessionId, singerId, kind: event.kind, service };
    for (let attempt = 1; ; attempt += 1) {
      const { outcome, status, retryAfterMs } = await this.attempt(subscription, payload, ttl, event);
      if (outcome === 'sent') {
        this.deps.log.info({ ...context, status, attempt }, 'push sent');
        return;
      }
      if (outcome === 'gone') {
        this.deps.log.info({ ...context, status }, 'push subscription expired: removed');
        await this.deps.gone(sessionId, singerId, subscription.endpoint);
        return;
      }
      if (outcome === 'failed' || attempt >= attempts || this.closed) {
        this.deps.log.warn({ ...context, status, attempt }, 'push not delivered');
        return;
      }
      const backoff = (this.deps.backoffMs ?? 500) * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(backoff, retryAfterMs ?? 0), 30_000)));
    }
  }

  private async attempt(
    subscription: StoredPushSubscription,
    payload: string,
    ttl: number,
    event: PushEvent,
  ): Promise<{ outcome: Outcome; status?: number | string; retryAfterMs?: number }> {
    const vapid = this.deps.vapid!;
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    const webpush = await loadWebPush();
    let agent: Agent;
    try {
      // Checked again at send time, and the connection pinned to the address checked now.
      agent = pinnedAgent(await checkEndpoint(subscription.endpoint, this.deps.policy));
    } catch (err) {
      return { outcome: 'failed', status: err instanceof HttpError ? err.code : 'check_failed' };
    }
    this.agents.add(agent);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('deadline')), timeoutMs);
    });
    try {
      const res = await Promise.race([
        webpush.sendNotification({ endpoint: subscription.endpoint, keys: { ...subscription.keys } }, payload, {
          vapidDetails: { subject: vapid.subject, publicKey: vapid.keys.publicKey, privateKey: vapid.keys.privateKey },
          TTL: ttl,
          urgency: event.kind === 'next' || event.kind === 'on-stage' ? 'high' : 'normal',
          topic: event.requestId,
          agent,
          timeout: timeoutMs,
        }),
        deadline,
      ]);
      return { outcome: 'sent', status: res.statusCode };
    } catch (err) {
      if (err instanceof webpush.WebPushError) {
        const status = err.statusCode;
        if (status === 404 || status === 410) return { outcome: 'gone', status };
        if (status === 429 || status >= 500) {
          const retryAfter = Number(err.headers?.['retry-after']);
          return { outcome: 'retry', status, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
        }
        return { outcome: 'failed', status };
      }
      // A refused or reset connection, a timeout: worth another try.
      return { outcome: 'retry', status: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    } finally {
      clearTimeout(timer);
      // Ends a hanging connection at the deadline rather than when the server gives up.
      agent.destroy();
      this.agents.delete(agent);
    }
  }
}
