// Many phones watching one session: N event streams in this process (forked by the harness, so
// they do not share the server's CPU accounting), then timed changes. A change's delay for a client
// runs from just before the host's PATCH is sent to the moment that client has the whole new state.
import { watchSse, type SseConnection } from './sse-client.js';

export type FanoutCommand =
  | { type: 'connect'; url: string; sessionId: string; clients: number }
  | { type: 'changes'; url: string; sessionId: string; hostKey: string; rounds: number; timeoutMs: number }
  | { type: 'close' };

export interface FanoutRound {
  writeMs: number;
  received: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
}

export type FanoutReply =
  | { type: 'connected'; open: number; failed: number }
  | { type: 'delivered'; rounds: FanoutRound[]; p50: number; p99: number; max: number; missing: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };

interface Watcher {
  connection: SseConnection;
  version: number;
  receivedAt: number | undefined;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const watchers: Watcher[] = [];
let waitingAbove = Number.POSITIVE_INFINITY;
let roundStart = 0;
let receivedThisRound = 0;
let roundDone: (() => void) | undefined;

async function connect(url: string, sessionId: string, clients: number): Promise<FanoutReply> {
  let failed = 0;
  // In batches: thousands of simultaneous SYNs overflow the listen backlog and time out.
  for (let start = 0; start < clients; start += 100) {
    const batch = Array.from({ length: Math.min(100, clients - start) }, () => {
      let first: () => void = () => {};
      const initial = new Promise<void>((resolve) => (first = resolve));
      const watcher: Watcher = { connection: undefined as unknown as SseConnection, version: 0, receivedAt: undefined };
      watcher.connection = watchSse(
        `${url}/api/sessions/${sessionId}/events`,
        (id, event) => {
          if (event !== 'state') return;
          watcher.version = Number(id);
          first();
          if (watcher.version > waitingAbove && watcher.receivedAt === undefined) {
            watcher.receivedAt = performance.now() - roundStart;
            receivedThisRound += 1;
            if (receivedThisRound === watchers.length) roundDone?.();
          }
        },
        () => first(),
      );
      watchers.push(watcher);
      return Promise.all([watcher.connection.ready.catch(() => 0), initial]).then(([status]) => {
        if (status !== 200 || watcher.version === 0) failed += 1;
      });
    });
    await Promise.all(batch);
  }
  // This batch's streams: the caller adds them up (watchers holds every batch so far).
  return { type: 'connected', open: clients - failed, failed };
}

async function changes(command: Extract<FanoutCommand, { type: 'changes' }>): Promise<FanoutReply> {
  const rounds: FanoutRound[] = [];
  const all: number[] = [];
  for (let round = 1; round <= command.rounds; round += 1) {
    waitingAbove = Math.max(...watchers.map((w) => w.version));
    for (const w of watchers) w.receivedAt = undefined;
    receivedThisRound = 0;
    const done = new Promise<void>((resolve) => (roundDone = resolve));
    roundStart = performance.now();
    const res = await fetch(`${command.url}/api/sessions/${command.sessionId}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${command.hostKey}` },
      body: JSON.stringify({ name: `Fan-out round ${String(round).padStart(3, '0')}` }),
    });
    await res.arrayBuffer();
    const writeMs = performance.now() - roundStart;
    if (!res.ok) throw new Error(`the change answered ${res.status}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, command.timeoutMs)))]);
    clearTimeout(timer);
    roundDone = undefined;
    const times = watchers.flatMap((w) => (w.receivedAt === undefined ? [] : [w.receivedAt])).sort((a, b) => a - b);
    all.push(...times);
    rounds.push({
      writeMs,
      received: times.length,
      missing: watchers.length - times.length,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times.at(-1) ?? Number.NaN,
    });
    // Let the event loops settle so one round's stragglers do not start the next.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  waitingAbove = Number.POSITIVE_INFINITY;
  all.sort((a, b) => a - b);
  return {
    type: 'delivered',
    rounds,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all.at(-1) ?? Number.NaN,
    missing: rounds.reduce((n, r) => n + r.missing, 0),
  };
}

async function handle(command: FanoutCommand): Promise<FanoutReply> {
  switch (command.type) {
    case 'connect':
      return connect(command.url, command.sessionId, command.clients);
    case 'changes':
      return changes(command);
    case 'close':
      for (const w of watchers.splice(0)) w.connection.close();
      return { type: 'closed' };
  }
}

if (process.send) {
  process.on('message', (command: FanoutCommand) => {
    handle(command).then(
      (reply) => process.send!(reply),
      (err: unknown) => process.send!({ type: 'error', message: String((err as Error).stack ?? err) } satisfies FanoutReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
