// A stream of real API changes from several concurrent clients, and a ledger of every change the
// server acknowledged with a 2xx: after a crash, a shutdown or a power cut, each one must still be there.
import type { PublicState } from '../../server/sessions/view.js';
import type { DbData } from '../../server/store/index.js';

export type FactKind = 'session' | 'singer' | 'request' | 'started';

/** One acknowledged change: a session created, a singer joined, a song requested, a song started. */
export interface Fact {
  kind: FactKind;
  sessionId: string;
  id: string;
}

interface KnownSession {
  id: string;
  hostKey: string;
  singers: { id: string; key: string }[];
}

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string } };
}

export class ChangeStream {
  readonly acked: Fact[] = [];
  readonly counts = { sent: 0, refused: 0, broken: 0 };
  /** Error codes of refused changes: 409s are expected, a 500 is a bug. */
  readonly refusals = new Map<string, number>();
  private readonly sessions: KnownSession[] = [];
  private creating = 0;
  private serial = 0;
  private stopped = false;
  private running = 0;
  private readonly waiters: { count: number; resolve: (reached: boolean) => void }[] = [];

  constructor(private readonly maxSessions = 4) {}

  /**
   * `workers` clients send changes to `url` until stop() or until a request fails at the network
   * level (the server is gone). Sessions made earlier are reused, so a restarted server keeps
   * receiving changes on top of the old data.
   */
  async run(url: string, workers: number): Promise<void> {
    this.stopped = false;
    this.running += 1;
    try {
      await Promise.all(Array.from({ length: workers }, () => this.worker(url)));
    } finally {
      this.running -= 1;
      for (const w of this.waiters.splice(0)) w.resolve(this.acked.length >= w.count);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves true once `count` changes in all are acknowledged, false if the run ends first. */
  untilAcked(count: number): Promise<boolean> {
    if (this.acked.length >= count) return Promise.resolve(true);
    // Every worker may already have stopped (a dropped connection ends a worker): never wait forever.
    if (this.running === 0) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get sessionIds(): string[] {
    return this.sessions.map((s) => s.id);
  }

  private ack(fact: Fact): void {
    this.acked.push(fact);
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      if (this.acked.length >= this.waiters[i]!.count) this.waiters.splice(i, 1)[0]!.resolve(true);
    }
  }

  private async worker(url: string): Promise<void> {
    while (!this.stopped) {
      if (!(await this.step(url))) return;
    }
  }

  /** null when the connection broke: no answer, so the change is not acknowledged. */
  private async send(url: string, method: string, route: string, body: unknown, key?: string): Promise<Reply | null> {
    this.counts.sent += 1;
    try {
      const res = await fetch(url + route, {
        method,
        headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
      const reply = { status: res.status, body: (await res.json()) as Reply['body'] };
      if (res.status >= 300) {
        this.counts.refused += 1;
        const code = `${res.status} ${reply.body.error?.code ?? '?'}`;
        this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
      }
      return reply;
    } catch {
      this.counts.broken += 1;
      return null;
    }
  }

  private async step(url: string): Promise<boolean> {
    const n = (this.serial += 1);
    if (this.sessions.length === 0 || this.sessions.length + this.creating < this.maxSessions) {
      this.creating += 1;
      const r = await this.send(url, 'POST', '/api/sessions', { name: `Night ${n}` }).finally(() => (this.creating -= 1));
      if (r?.status === 201) {
        const id = (r.body.session as { id: string }).id;
        this.sessions.push({ id, hostKey: r.body.hostKey as string, singers: [] });
        this.ack({ kind: 'session', sessionId: id, id });
      }
      return r !== null;
    }
    const session = this.sessions[Math.floor(Math.random() * this.sessions.length)]!;
    const dice = Math.random();
    if (session.singers.length < 2 || (dice < 0.2 && session.singers.length < 12)) {
      const r = await this.send(url, 'POST', `/api/sessions/${session.id}/singers`, { name: `Singer ${n}` });
      if (r?.status === 201) {
        const singer = r.body.singer as { id: string };
        session.singers.push({ id: singer.id, key: r.body.guestKey as string });
        this.ack({ kind: 'singer', sessionId: session.id, id: singer.id });
      }
      return r !== null;
    }
    if (dice < 0.6) {
      const singer = session.singers[Math.floor(Math.random() * session.singers.length)]!;
      const r = await this.send(url, 'POST', `/api/sessions/${session.id}/requests`, { title: `Song ${n}`, artist: 'Band' }, singer.key);
      if (r?.status === 201) this.ack({ kind: 'request', sessionId: session.id, id: (r.body.request as { id: string }).id });
      return r !== null;
    }
    const r = await this.send(url, 'POST', `/api/sessions/${session.id}/next`, {}, session.hostKey);
    const playing = r?.status === 200 ? (r.body as unknown as PublicState).nowSinging : null;
    if (playing) this.ack({ kind: 'started', sessionId: session.id, id: playing.id });
    return r !== null;
  }
}

/** What a session holds, from data.json or from the public API (which does not list singer ids). */
export interface SessionFacts {
  singerIds: ReadonlySet<string> | null;
  singerCount: number;
  queued: ReadonlySet<string>;
  started: ReadonlySet<string>;
}

export type Snapshot = ReadonlyMap<string, SessionFacts>;

export function snapshotOfData(data: DbData): Snapshot {
  return new Map(
    Object.values(data.sessions).map((s) => [
      s.id,
      {
        singerIds: new Set(s.singers.map((x) => x.id)),
        singerCount: s.singers.length,
        queued: new Set(s.queue.map((r) => r.id)),
        started: new Set([...(s.nowSinging ? [s.nowSinging.id] : []), ...s.history.map((r) => r.id)]),
      },
    ]),
  );
}

export function snapshotOfStates(states: readonly PublicState[]): Snapshot {
  return new Map(
    states.map((s) => [
      s.id,
      {
        singerIds: null,
        singerCount: s.singerCount,
        queued: new Set(s.queue.map((r) => r.id)),
        started: new Set([...(s.nowSinging ? [s.nowSinging.id] : []), ...s.history.map((r) => r.id)]),
      },
    ]),
  );
}

/** Acknowledged changes the snapshot does not hold, as readable lines; empty means nothing was lost. */
export function lostChanges(snapshot: Snapshot, facts: readonly Fact[]): string[] {
  const lost: string[] = [];
  const singersPerSession = new Map<string, number>();
  for (const fact of facts) {
    const s = snapshot.get(fact.sessionId);
    const kept =
      s !== undefined &&
      (fact.kind === 'session' ||
        (fact.kind === 'singer' && (s.singerIds === null || s.singerIds.has(fact.id))) ||
        (fact.kind === 'request' && (s.queued.has(fact.id) || s.started.has(fact.id))) ||
        (fact.kind === 'started' && s.started.has(fact.id)));
    if (!kept) lost.push(`${fact.kind} ${fact.id} in session ${fact.sessionId}`);
    if (fact.kind === 'singer') singersPerSession.set(fact.sessionId, (singersPerSession.get(fact.sessionId) ?? 0) + 1);
  }
  for (const [id, count] of singersPerSession) {
    const s = snapshot.get(id);
    if (s && s.singerCount < count) lost.push(`session ${id} has ${s.singerCount} singers, ${count} joins were acknowledged`);
  }
  return lost;
}
