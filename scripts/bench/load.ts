// The load generator: autocannon, in its own process so that its CPU use is not counted against
// the server it measures. The harness forks it once and sends it one job at a time over IPC.
import autocannon, { type RequestSpec, type Result } from 'autocannon';

export type LoadJob =
  /** `rate`: requests per second for all connections together (autocannon's overallRate); as fast as it can without. */
  | { kind: 'get'; url: string; path: string; connections: number; duration: number; rate?: number }
  | { kind: 'writes'; url: string; sessionIds: string[]; connections: number; duration: number; tag: string };

export interface LoadResult {
  rps: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

// Fresh objects every time: autocannon writes Content-Length into the headers object it is given.
const jsonHeaders = (key?: unknown): Record<string, string> =>
  typeof key === 'string' ? { 'content-type': 'application/json', authorization: `Bearer ${key}` } : { 'content-type': 'application/json' };

/**
 * Guests of random sessions: one joins, then requests a song and withdraws it, three times over.
 * Every step is a durable write; withdrawing keeps the queues, and so the file, from growing.
 */
function writeCycle(sessionIds: string[], tag: string): RequestSpec[] {
  let counter = 0;
  const request = (n: number): RequestSpec[] => [
    {
      method: 'POST',
      setupRequest: (req, ctx) => {
        if (typeof ctx.key !== 'string') return null;
        ctx.song = undefined;
        return { ...req, path: `/api/sessions/${String(ctx.session)}/requests`, headers: jsonHeaders(ctx.key), body: JSON.stringify({ title: `Song ${n} of ${String(ctx.name)}`, artist: 'Bench Band' }) };
      },
      onResponse: (status, body, ctx) => {
        if (status === 201) ctx.song = (JSON.parse(body) as { request: { id: string } }).request.id;
      },
    },
    {
      method: 'DELETE',
      setupRequest: (req, ctx) =>
        typeof ctx.song === 'string' ? { ...req, path: `/api/sessions/${String(ctx.session)}/requests/${ctx.song}`, headers: { authorization: `Bearer ${String(ctx.key)}` } } : null,
    },
  ];
  return [
    {
      method: 'POST',
      setupRequest: (req, ctx) => {
        counter += 1;
        ctx.session = sessionIds[Math.floor(Math.random() * sessionIds.length)];
        ctx.name = `${tag}-${counter}`;
        ctx.key = undefined;
        return { ...req, path: `/api/sessions/${String(ctx.session)}/singers`, headers: jsonHeaders(), body: JSON.stringify({ name: ctx.name }) };
      },
      onResponse: (status, body, ctx) => {
        if (status === 201) ctx.key = (JSON.parse(body) as { guestKey: string }).guestKey;
      },
    },
    ...request(1),
    ...request(2),
    ...request(3),
  ];
}

function summarize(result: Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  return {
    rps: result.requests.total / result.duration,
    total: result.requests.total,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const base = { url: job.url, connections: job.connections, duration: job.duration, timeout: 10 };
  const result =
    job.kind === 'get'
      ? await autocannon({ ...base, url: `${job.url}${job.path}`, ...(job.rate ? { overallRate: job.rate } : {}) })
      : await autocannon({ ...base, requests: writeCycle(job.sessionIds, job.tag) });
  return summarize(result);
}

// Forked by the harness: run each job it sends and answer with the summary.
if (process.send) {
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send!({ result }),
      (err: unknown) => process.send!({ error: String((err as Error).stack ?? err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
