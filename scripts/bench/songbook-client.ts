// Guests searching a songbook as they type: a separate process (forked by the harness) that sends
// GET /api/sessions/:id/songs?q=… at a fixed rate, open loop, and times each answer to its last
// byte. Open loop, because guests do not wait for one another: a slow answer must not slow the
// queries behind it, or the tail would hide itself. The same process type also sends the
// ordinary traffic beside the searches (runPacedGets), paced evenly the same way: autocannon's
// rate mode lets each connection send its quota for the second as fast as it can and then wait
// for the next second, so 1,000 GET/s arrive as one burst at the top of every second, which no
// room of phones does.
import http from 'node:http';
import type { Query, QueryKind } from './songbook-queries.js';

export interface SearchJob {
  url: string;
  sessionId: string;
  queries: Query[];
  /** Searches sent per second, all guests together. */
  rate: number;
  /** Stop sending after this many seconds even if queries are left. */
  seconds: number;
  limit: number;
}

export interface SearchReply {
  /** Milliseconds per answered query, by kind, in sending order. */
  timings: Partial<Record<QueryKind, number[]>>;
  sent: number;
  failed: number;
  /** How late the client itself sent the last queries (its own event loop), at worst: when high, the client, not the server, was starved. */
  maxSendLagMs: number;
  /** Median result count per kind: the queries found songs. */
  medianTotal: Partial<Record<QueryKind, number>>;
}

export function runSearches(job: SearchJob): Promise<SearchReply> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const timings: Partial<Record<QueryKind, number[]>> = {};
  const totals: Partial<Record<QueryKind, number[]>> = {};
  let sent = 0;
  let failed = 0;
  let answered = 0;
  let maxSendLagMs = 0;
  const start = performance.now();
  const count = Math.min(job.queries.length, Math.floor(job.rate * job.seconds));
  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const medianTotal: Partial<Record<QueryKind, number>> = {};
      for (const [kind, xs] of Object.entries(totals) as [QueryKind, number[]][]) medianTotal[kind] = xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      resolve({ timings, sent, failed, maxSendLagMs, medianTotal });
    };
    const done = () => {
      answered += 1;
      if (answered === count) finish();
    };
    const send = (query: Query) => {
      const began = performance.now();
      const path = `/api/sessions/${job.sessionId}/songs?q=${encodeURIComponent(query.q)}&limit=${job.limit}`;
      const req = http.get(`${job.url}${path}`, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - began;
          if (res.statusCode === 200) {
            (timings[query.kind] ??= []).push(ms);
            (totals[query.kind] ??= []).push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { total: number }).total);
          } else failed += 1;
          done();
        });
      });
      req.on('error', () => {
        failed += 1;
        done();
      });
    };
    if (count === 0) return finish();
    paced(start, job.rate, count, (i, lag) => {
      maxSendLagMs = Math.max(maxSendLagMs, lag);
      sent = i + 1;
      send(job.queries[i]!);
    });
  });
}

/**
 * Calls `send(i, lateMs)` for i = 0 … count-1, the i-th due at start + i / rate seconds. Each has
 * its own due time; a timer per tick sends all that are due, so a late tick catches up instead of
 * stretching the run.
 */
function paced(start: number, rate: number, count: number, send: (i: number, lateMs: number) => void): void {
  const interval = 1000 / rate;
  let i = 0;
  const tick = () => {
    const now = performance.now();
    while (i < count && start + i * interval <= now) {
      send(i, now - (start + i * interval));
      i += 1;
    }
    if (i < count) setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
  };
  tick();
}

export interface PacedGetJob {
  url: string;
  path: string;
  /** Requests per second, evenly spaced. */
  rate: number;
  seconds: number;
}

export interface PacedGetReply {
  /** Milliseconds per answered request, sorted. */
  timings: number[];
  sent: number;
  failed: number;
  seconds: number;
}

/** The same GET at an even rate, open loop, each timed to its last byte. */
export function runPacedGets(job: PacedGetJob): Promise<PacedGetReply> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const count = Math.floor(job.rate * job.seconds);
  const timings: number[] = [];
  let failed = 0;
  let answered = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const done = () => {
      answered += 1;
      if (answered < count) return;
      agent.destroy();
      resolve({ timings: timings.sort((a, b) => a - b), sent: count, failed, seconds: (performance.now() - start) / 1000 });
    };
    if (count === 0) return resolve({ timings, sent: 0, failed: 0, seconds: 0 });
    paced(start, job.rate, count, () => {
      const began = performance.now();
      const req = http.get(`${job.url}${job.path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) timings.push(performance.now() - began);
          else failed += 1;
          done();
        });
      });
      req.on('error', () => {
        failed += 1;
        done();
      });
    });
  });
}

// Forked by the harness: run each job it sends and answer with the timings.
if (process.send) {
  process.on('message', (job: SearchJob | PacedGetJob) => {
    ('path' in job ? runPacedGets(job) : runSearches(job)).then(
      (result) => process.send!({ result }),
      (err: unknown) => process.send!({ error: String((err as Error).stack ?? err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
