// The load generator: autocannon, in its own process so that its CPU use is not counted against
// the server it measures. The harness forks it once and sends it one job at a time over IPC.
import autocannon, { type Options, type RequestSpec, type Result } from 'autocannon';

export type LoadJob =
  /** `rate`: requests per second for all connections together (autocannon's overallRate); as fast as it can without. */
  | { kind: 'get'; url: string; path: string; connections: number; duration: number; rate?: number }
  | { kind: 'writes'; url: string; sessionIds: string[]; connections: number; duration: number; tag: string }
  /** Hosts' changes, one session per connection: rename, move, next, undo (the undo keeps the night's size). */
  | { kind: 'host'; url: string; sessions: { id: string; hostKey: string }[]; connections: number; duration: number }
  /** Guests joining random sessions of these, nothing else. */
  | { kind: 'joins'; url: string; sessionIds: string[]; connections: number; duration: number; tag: string };

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

/**
 * Each connection is the host of its own session (so no two undo each other's next): rename, move
 * the second song up, next, undo, and again. The session is the connection's own requests
 * (setupClient hands them out), not its context: autocannon clears the context after every cycle,
 * and a session picked afresh each cycle was now and then shared, giving 404s for songs the other
 * connection had just sent to the stage.
 */
function hostCycle({ id, hostKey }: { id: string; hostKey: string }): RequestSpec[] {
  const base = `/api/sessions/${id}`;
  let renames = 0;
  return [
    {
      method: 'PATCH',
      setupRequest: (req) => ({ ...req, path: base, headers: jsonHeaders(hostKey), body: JSON.stringify({ name: `Night ${(renames += 1)}` }) }),
      // The answer is the state: its second song is the one moved up.
      onResponse: (status, body, ctx) => {
        ctx.move = status === 200 ? (JSON.parse(body) as { queue: { id: string }[] }).queue[1]?.id : undefined;
      },
    },
    {
      method: 'PATCH',
      setupRequest: (req, ctx) => (typeof ctx.move === 'string' ? { ...req, path: `${base}/requests/${ctx.move}`, headers: jsonHeaders(hostKey), body: JSON.stringify({ position: 1 }) } : null),
    },
    { method: 'POST', setupRequest: (req) => ({ ...req, path: `${base}/next`, headers: jsonHeaders(hostKey), body: '{}' }) },
    { method: 'POST', setupRequest: (req) => ({ ...req, path: `${base}/undo`, headers: jsonHeaders(hostKey), body: '{}' }) },
  ];
}

/** One session per connection, in turn; more connections than sessions would share them. */
function hostLoad(sessions: { id: string; hostKey: string }[]): Pick<Options, 'requests' | 'setupClient'> {
  let clients = 0;
  return {
    requests: hostCycle(sessions[0]!),
    setupClient: (client) => client.setRequests(hostCycle(sessions[clients++ % sessions.length]!)),
  };
}

function joinCycle(sessionIds: string[], tag: string): RequestSpec[] {
  let counter = 0;
  return [
    {
      method: 'POST',
      setupRequest: (req) => {
        counter += 1;
        const id = sessionIds[Math.floor(Math.random() * sessionIds.length)];
        return { ...req, path: `/api/sessions/${String(id)}/singers`, headers: jsonHeaders(), body: JSON.stringify({ name: `${tag}-${counter}` }) };
      },
    },
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
      : job.kind === 'host'
        ? await autocannon({ ...base, ...hostLoad(job.sessions) })
        : job.kind === 'joins'
          ? await autocannon({ ...base, requests: joinCycle(job.sessionIds, job.tag) })
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
