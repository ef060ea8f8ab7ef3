// The measured scenarios. HTTP ones alternate baseline and project rounds so that a burst of
// noise from the shared machine lands on both; the others are timed against fixed targets.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurable } from '../../server/lib/durable-file.js';
import type { LoadJob, LoadResult } from './load.js';
import { BENCH_ADMIN_TOKEN, FANOUT_MAIN, forkWorker, startProjectServer, type ServerProcess, type Worker } from './processes.js';
import { api, fileSize, type SeededSession } from './seed.js';
import { percentile, type FanoutCommand, type FanoutReply, type FanoutRound } from './sse-clients.js';

export interface BenchContext {
  node: string;
  connections: number;
  duration: number;
  warmup: number;
  rounds: number;
  baseline: ServerProcess;
  load: Worker<LoadJob, { result?: LoadResult; error?: string }>;
  /** taskset CPU lists when pinning: the servers on one core, the clients on the other. */
  serverCpus: string | undefined;
  clientCpus: string | undefined;
  /** Extra Node options for the project's server. */
  serverArgs: string[];
  /** Environment the image gives the server besides its options: its compile cache (bench.ts). */
  serverEnv: Record<string, string>;
  log(line: string): void;
}

export interface HttpScenario {
  name: string;
  baselineRps: number;
  projectRps: number;
  ratio: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  rounds: { baseline: LoadResult; project: LoadResult }[];
  /** Group commit: changes per flush during the project rounds (writes only). */
  batchSize?: number;
  fileBytesBefore?: number;
  fileBytesAfter?: number;
  /** One durable write of a file the store's size, measured alone (writes only). */
  durableWriteMs?: number;
}

interface Healthz {
  sessions: number;
  sseConnections: number;
  writes: { flushes: number; changesFlushed: number; failedFlushes: number };
}

/** The details need the admin token, which startProjectServer gives its server. */
export const healthz = (url: string) => api(url).call<Healthz>('GET', '/healthz', undefined, BENCH_ADMIN_TOKEN);

async function load(ctx: BenchContext, job: LoadJob): Promise<LoadResult> {
  const reply = await ctx.load.ask(job);
  if (!reply.result) throw new Error(`load generator failed: ${reply.error}`);
  return reply.result;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Warm both servers up, then baseline, project, baseline, project... */
export async function alternate(ctx: BenchContext, name: string, project: (duration: number, round: number) => LoadJob): Promise<HttpScenario> {
  const hello = (duration: number): LoadJob => ({ kind: 'get', url: ctx.baseline.url, path: '/hello', connections: ctx.connections, duration });
  if (ctx.warmup > 0) {
    await load(ctx, hello(ctx.warmup));
    await load(ctx, project(ctx.warmup, 0));
  }
  const rounds: HttpScenario['rounds'] = [];
  for (let round = 1; round <= ctx.rounds; round += 1) {
    const baseline = await load(ctx, hello(ctx.duration));
    const measured = await load(ctx, project(ctx.duration, round));
    ctx.log(`  ${name} round ${round}: baseline ${baseline.rps.toFixed(0)} req/s, project ${measured.rps.toFixed(0)} req/s (p99 ${measured.p99} ms)`);
    rounds.push({ baseline, project: measured });
  }
  return summarizeRounds(name, rounds);
}

/** Rounds of baseline and project load as one scenario: mean rates and their ratio, the worst p99. */
export function summarizeRounds(name: string, rounds: HttpScenario['rounds']): HttpScenario {
  const baselineRps = mean(rounds.map((r) => r.baseline.rps));
  const projectRps = mean(rounds.map((r) => r.project.rps));
  return {
    name,
    baselineRps,
    projectRps,
    ratio: projectRps / baselineRps,
    p50: mean(rounds.map((r) => r.project.p50)),
    // The worst round: a target on p99 should hold in every round.
    p99: Math.max(...rounds.map((r) => r.project.p99)),
    non2xx: rounds.reduce((n, r) => n + r.project.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.project.errors, 0),
    rounds,
  };
}

export function readScenario(ctx: BenchContext, server: ServerProcess, hot: SeededSession): Promise<HttpScenario> {
  return alternate(ctx, 'GET session (30 queued)', (duration) => ({
    kind: 'get',
    url: server.url,
    path: `/api/sessions/${hot.id}`,
    connections: ctx.connections,
    duration,
  }));
}

/**
 * One durable write (temp file, fdatasync, rename, folder fsync) of a file this size, here and
 * with nothing else running: the floor under every flush of the store.
 */
async function durableWriteMs(dir: string, bytes: number): Promise<number> {
  const data = Buffer.alloc(bytes, 0x20);
  const file = path.join(dir, 'durable-write-probe.json');
  const times: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    const start = performance.now();
    await writeFileDurable(file, data);
    times.push(performance.now() - start);
  }
  await rm(file, { force: true });
  return percentile(times.sort((a, b) => a - b), 50);
}

export async function writeScenario(ctx: BenchContext, server: ServerProcess, sessionIds: string[], label: string, dataDir: string): Promise<HttpScenario> {
  const fileBytes = () => fileSize(dataDir);
  const fileBytesBefore = await fileBytes();
  const floor = await durableWriteMs(path.dirname(dataDir), fileBytesBefore);
  const before = await healthz(server.url);
  const result = await alternate(ctx, label, (duration, round) => ({
    kind: 'writes',
    url: server.url,
    sessionIds,
    connections: ctx.connections,
    duration,
    tag: `g${round}-${Date.now().toString(36)}`,
  }));
  const after = await healthz(server.url);
  const flushes = after.writes.flushes - before.writes.flushes;
  const changes = after.writes.changesFlushed - before.writes.changesFlushed;
  return { ...result, batchSize: flushes > 0 ? changes / flushes : 0, fileBytesBefore, fileBytesAfter: await fileBytes(), durableWriteMs: floor };
}

export interface FanoutScenario {
  clients: number;
  connected: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  rounds: FanoutRound[];
  rssBeforeBytes: number;
  rssConnectedBytes: number;
  rssAfterBytes: number;
  /** Median RSS growth per stream over the five connection steps. */
  rssPerConnectionBytes: number;
  /** All RSS growth from no streams to all of them, over the streams: includes one-off heap growth. */
  rssTotalPerConnectionBytes: number;
  /** Did healthz count zero streams once the clients left? */
  drainedToZero: boolean;
}

async function waitForStreams(url: string, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await healthz(url)).sseConnections === count) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

const STEPS = 5;

/**
 * Streams are opened in five steps with the server's RSS read after each: the median step, per
 * stream, is what one more phone costs. The total growth also holds one-off jumps (V8 doubling
 * its young generation, say) that a single before/after reading would charge to the streams.
 */
export async function fanoutScenario(ctx: BenchContext, server: ServerProcess, hot: SeededSession, clients: number, rounds: number): Promise<FanoutScenario> {
  const worker = forkWorker<FanoutCommand, FanoutReply>(ctx.node, FANOUT_MAIN, ctx.clientCpus);
  try {
    await waitForStreams(server.url, 0, 10_000);
    const rss = [server.rssBytes()];
    let open = 0;
    let failed = 0;
    for (let step = 1; step <= STEPS; step += 1) {
      const batch = Math.round((clients * step) / STEPS) - Math.round((clients * (step - 1)) / STEPS);
      const connected = await worker.ask({ type: 'connect', url: server.url, sessionId: hot.id, clients: batch });
      if (connected.type !== 'connected') throw new Error(`stream clients: ${JSON.stringify(connected)}`);
      open += connected.open;
      failed += connected.failed;
      await waitForStreams(server.url, open, 10_000);
      rss.push(server.rssBytes());
    }
    const perStep = rss.slice(1).map((r, i) => (r - rss[i]!) / (clients / STEPS)).sort((a, b) => a - b);
    // One unmeasured change first: the first fan-out after connecting also pays for compiling the path.
    await worker.ask({ type: 'changes', url: server.url, sessionId: hot.id, hostKey: hot.hostKey, rounds: 1, timeoutMs: 10_000 });
    const delivered = await worker.ask({ type: 'changes', url: server.url, sessionId: hot.id, hostKey: hot.hostKey, rounds, timeoutMs: 10_000 });
    if (delivered.type !== 'delivered') throw new Error(`stream clients: ${JSON.stringify(delivered)}`);
    const rssAfterBytes = server.rssBytes();
    await worker.ask({ type: 'close' });
    const drainedToZero = await waitForStreams(server.url, 0, 10_000);
    const perStream = percentile(perStep, 50);
    ctx.log(`  fan-out ${clients}: p50 ${delivered.p50.toFixed(1)} ms, p99 ${delivered.p99.toFixed(1)} ms, missing ${delivered.missing}, ${(perStream / 1024).toFixed(1)} KB/stream (${((rss.at(-1)! - rss[0]!) / clients / 1024).toFixed(1)} KB with one-off growth)`);
    return {
      clients,
      connected: open,
      failed,
      p50: delivered.p50,
      p99: delivered.p99,
      max: delivered.max,
      missing: delivered.missing,
      rounds: delivered.rounds,
      rssBeforeBytes: rss[0]!,
      rssConnectedBytes: rss.at(-1)!,
      rssAfterBytes,
      rssPerConnectionBytes: perStream,
      rssTotalPerConnectionBytes: (rss.at(-1)! - rss[0]!) / clients,
      drainedToZero,
    };
  } finally {
    await worker.stop();
  }
}

export interface CreateScenario {
  count: number;
  p50: number;
  p90: number;
  max: number;
}

/** One host after another creating a session: the durable QR PNG and the store write, end to end. */
export async function createScenario(url: string, count: number): Promise<CreateScenario> {
  const client = api(url);
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = performance.now();
    await client.call('POST', '/api/sessions', { name: `Created ${i + 1}` });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { count, p50: percentile(times, 50), p90: percentile(times, 90), max: times.at(-1)! };
}

export interface ColdStartScenario {
  sessions: number;
  runs: number[];
  median: number;
}

/** Spawn to a 200 from /healthz, on a data.json that already holds the sessions. */
export async function coldStartScenario(ctx: BenchContext, dataDir: string, sessions: number, runs: number): Promise<ColdStartScenario> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const server = await startProjectServer({ node: ctx.node, dataDir, cpus: ctx.serverCpus, nodeArgs: ctx.serverArgs, env: ctx.serverEnv });
    times.push(server.readyMs);
    const { code, signal } = await server.stop();
    if (code !== 0) throw new Error(`the server exited with ${code ?? signal} after a cold start:\n${server.output()}`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  ctx.log(`  cold start with ${sessions} sessions: ${sorted.map((t) => t.toFixed(0)).join(', ')} ms`);
  return { sessions, runs: times, median: percentile(sorted, 50) };
}
