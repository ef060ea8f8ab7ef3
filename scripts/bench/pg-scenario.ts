// The PostgreSQL store beside the JSON store: the same store of sessions moved into a throw-away
// cluster with `move-store`, then the same reads and durable writes against one instance and two,
// each round against the same Express + helmet baseline.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPgCluster } from '../pg-cluster.js';
import type { LoadJob, LoadResult } from './load.js';
import { forkWorker, LOAD_MAIN, startProjectServer, type StartedServer } from './processes.js';
import { alternate, healthz, summarizeRounds, type BenchContext, type HttpScenario } from './scenarios.js';
import type { SeededSession } from './seed.js';

const MOVE_STORE = fileURLToPath(new URL('../move-store.js', import.meta.url));

export interface PgScenario {
  sessions: number;
  postgres: string;
  read: HttpScenario;
  writesOne: HttpScenario;
  writesTwo: HttpScenario;
}

/** Both instances loaded at once, each by its own load generator with half the connections; their rates add up. */
async function twoInstances(ctx: BenchContext, name: string, jobs: (duration: number, round: number) => [LoadJob, LoadJob]): Promise<HttpScenario> {
  const second = forkWorker<LoadJob, { result?: LoadResult; error?: string }>(ctx.node, LOAD_MAIN, ctx.clientCpus);
  const ask = async (worker: typeof second, job: LoadJob) => {
    const reply = await worker.ask(job);
    if (!reply.result) throw new Error(`load generator failed: ${reply.error}`);
    return reply.result;
  };
  try {
    const hello = (duration: number): LoadJob => ({ kind: 'get', url: ctx.baseline.url, path: '/hello', connections: ctx.connections, duration });
    const both = async (duration: number, round: number): Promise<LoadResult> => {
      const [a, b] = jobs(duration, round);
      const [ra, rb] = await Promise.all([ask(ctx.load, a), ask(second, b)]);
      return {
        rps: ra.rps + rb.rps,
        total: ra.total + rb.total,
        p50: Math.max(ra.p50, rb.p50),
        p90: Math.max(ra.p90, rb.p90),
        p99: Math.max(ra.p99, rb.p99),
        max: Math.max(ra.max, rb.max),
        non2xx: ra.non2xx + rb.non2xx,
        errors: ra.errors + rb.errors,
        timeouts: ra.timeouts + rb.timeouts,
        statusCodes: Object.fromEntries([...new Set([...Object.keys(ra.statusCodes), ...Object.keys(rb.statusCodes)])].map((code) => [code, (ra.statusCodes[code] ?? 0) + (rb.statusCodes[code] ?? 0)])),
      };
    };
    if (ctx.warmup > 0) await both(ctx.warmup, 0);
    const rounds: HttpScenario['rounds'] = [];
    for (let round = 1; round <= ctx.rounds; round += 1) {
      const baseline = await ask(ctx.load, hello(ctx.duration));
      const measured = await both(ctx.duration, round);
      ctx.log(`  ${name} round ${round}: baseline ${baseline.rps.toFixed(0)} req/s, project ${measured.rps.toFixed(0)} req/s (p99 ${measured.p99} ms)`);
      rounds.push({ baseline, project: measured });
    }
    return summarizeRounds(name, rounds);
  } finally {
    await second.stop();
  }
}

export async function pgScenario(ctx: BenchContext, storeDir: string, sessionIds: string[], hot: SeededSession): Promise<PgScenario> {
  const cluster = await startPgCluster();
  const work = await mkdtemp(path.join(os.tmpdir(), 'karaoke-bench-pg-'));
  const running: StartedServer[] = [];
  try {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE karaoke_bench');
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await admin.end();
    const url = cluster.urlOf('karaoke_bench');
    await promisify(execFile)(ctx.node, [MOVE_STORE, '--from', storeDir, '--to', url]);
    ctx.log(`bench: PostgreSQL ${version} (throw-away cluster, not pinned), ${sessionIds.length + 1} sessions moved in`);
    const start = async (name: string) => {
      const server = await startProjectServer({ node: ctx.node, dataDir: path.join(work, name), cpus: ctx.serverCpus, nodeArgs: ctx.serverArgs, env: { ...ctx.serverEnv, DATABASE_URL: url, PG_POOL_MAX: '20' } });
      running.push(server);
      return server;
    };
    const a = await start('a');
    const read = await alternate(ctx, 'PostgreSQL: GET session (30 queued)', (duration) => ({ kind: 'get', url: a.url, path: `/api/sessions/${hot.id}`, connections: ctx.connections, duration }));
    const before = await healthz(a.url);
    const writesOne = await alternate(ctx, `PostgreSQL, one instance: durable writes, ${sessionIds.length + 1} sessions`, (duration, round) => ({
      kind: 'writes',
      url: a.url,
      sessionIds,
      connections: ctx.connections,
      duration,
      tag: `p${round}-${Date.now().toString(36)}`,
    }));
    const after = await healthz(a.url);
    if (after.writes.failedFlushes > before.writes.failedFlushes) throw new Error('PostgreSQL writes failed during the benchmark');
    const b = await start('b');
    const half = Math.max(1, Math.round(ctx.connections / 2));
    const writesTwo = await twoInstances(ctx, `PostgreSQL, two instances: durable writes, ${sessionIds.length + 1} sessions`, (duration, round) => [
      { kind: 'writes', url: a.url, sessionIds, connections: half, duration, tag: `qa${round}-${Date.now().toString(36)}` },
      { kind: 'writes', url: b.url, sessionIds, connections: half, duration, tag: `qb${round}-${Date.now().toString(36)}` },
    ]);
    return { sessions: sessionIds.length + 1, postgres: version, read, writesOne, writesTwo };
  } finally {
    for (const server of running) await server.stop();
    await cluster.destroy();
    await rm(work, { recursive: true, force: true });
  }
}
