// npm run bench [-- options]: the production server against an Express + helmet baseline, in the
// same run, on the same Node. See docs/benchmarks.md for what the numbers mean.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, UsageError, type CliArgs } from '../lib/cli.js';
import type { LoadJob, LoadResult } from './load.js';
import { forkWorker, LOAD_MAIN, startBaselineServer, startProjectServer, type StartedServer } from './processes.js';
import { judge, render, type BenchResults } from './report.js';
import { coldStartScenario, createScenario, fanoutScenario, readScenario, writeScenario, type BenchContext } from './scenarios.js';
import { addSessions, padStore, seedThroughApi } from './seed.js';
import { boundedScenario, boundedSessions } from './bounded-scenario.js';
import { cpuTimes, stealShare } from './machine.js';
import { songbookScenario } from './songbook-scenario.js';
import { pgScenario } from './pg-scenario.js';

const HELP = `Usage: npm run bench -- [options]

Starts the production server (dist/server/main.js) on a temporary DATA_DIR seeded through the API,
and a baseline Express 5 + helmet server with one tiny JSON route; drives both with autocannon from
a separate process, alternating baseline and project rounds; prints req/s, p50, p99 and the ratio to
the baseline per scenario and writes the results as JSON.

Options:
  --sessions N        sessions in the main store (default 1000)
  --scale LIST        other store sizes for the write scenario (default 100,10000; "" for none)
  --seed-sessions N   sessions made through the API; the rest are copies (default 100)
  --connections N     concurrent connections per HTTP scenario (default 50)
  --duration S        seconds per measured round (default 10)
  --rounds N          baseline/project round pairs per scenario (default 2)
  --warmup S          seconds of unmeasured load before the rounds (default 3)
  --fanout LIST       event-stream client counts (default 1000,5000)
  --fanout-rounds N   changes timed per client count (default 5)
  --creates N         sessions created one after another (default 50)
  --cold-starts N     cold starts timed (default 5)
  --songbook-songs N  songs per uploaded songbook (default 100000)
  --songbooks N       songbooks uploaded and loaded, for the memory steps (default 3)
  --search-rate N     songbook searches per second while measuring (default 100)
  --songbook-background N
                      GET-session requests per second beside the searches (default 1000; 0 none)
  --songbook-bursts   send them as autocannon's rate mode does, each second's quota in one burst
                      (default: evenly spaced, open loop, as a room of phones sends them)
  --only LIST         run only these of: read,writes,scale,fanout,create,cold,songbook,bounded,pg
                      (bounded: a night of 300 singers and 300 songs sung against a fresh one:
                      host changes, joins, GET and a fan-out to the first --fanout count;
                      pg: the same reads and writes on PostgreSQL, one instance and two, on a
                      throw-away cluster; needs Debian's postgresql package)
  --node PATH         Node binary for the servers and clients (default: the one running this)
  --log-level LEVEL   the server's LOG_LEVEL (default warn; production's default info logs
                      every request, which costs throughput: measure it with info)
  --server-args=ARGS  Node options for the project's server (default: the NODE_OPTIONS the Dockerfile
                      sets for production; --server-args= for Node's defaults)
  --pin               servers on CPU 0, load generators on CPU 1 (taskset)
  --cpu-prof          profile the main server (node --cpu-prof) into OUT/profiles
  --out DIR           where the JSON goes (default bench-results/)
  --quick             a small, fast run that only proves the harness works
  -h, --help          this help`;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A variable the image's Dockerfile sets (its ENV), so the benchmark runs the server as production does. */
function dockerfileEnv(name: string): string | undefined {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const match = new RegExp(`\\b${name}=(?:"([^"]*)"|(\\S+))`).exec(dockerfile);
  return match?.[1] ?? match?.[2];
}

/**
 * The image ships V8's compiled code for the server's modules (its build runs
 * warm-compile-cache.js); here the same is made once in the run's folder before any server starts.
 */
function warmCompileCache(node: string, dir: string): Record<string, string> {
  if (dockerfileEnv('NODE_COMPILE_CACHE') === undefined) return {};
  execFileSync(node, [path.join(ROOT, 'dist/scripts/warm-compile-cache.js')], { env: { ...process.env, NODE_COMPILE_CACHE: dir }, stdio: 'ignore' });
  return { NODE_COMPILE_CACHE: dir };
}
const SCENARIOS = ['read', 'writes', 'scale', 'fanout', 'create', 'cold', 'songbook', 'bounded', 'pg'] as const;

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean).map(Number);

const OPTIONS = {
  sessions: { type: 'string' },
  scale: { type: 'string' },
  'seed-sessions': { type: 'string' },
  connections: { type: 'string' },
  duration: { type: 'string' },
  rounds: { type: 'string' },
  warmup: { type: 'string' },
  fanout: { type: 'string' },
  'fanout-rounds': { type: 'string' },
  creates: { type: 'string' },
  'cold-starts': { type: 'string' },
  'songbook-songs': { type: 'string' },
  songbooks: { type: 'string' },
  'search-rate': { type: 'string' },
  'songbook-background': { type: 'string' },
  'songbook-bursts': { type: 'boolean', default: false },
  only: { type: 'string' },
  node: { type: 'string' },
  'log-level': { type: 'string', default: 'warn' },
  'server-args': { type: 'string' },
  pin: { type: 'boolean', default: false },
  'cpu-prof': { type: 'boolean', default: false },
  out: { type: 'string' },
  quick: { type: 'boolean', default: false },
} as const;

function options(values: CliArgs<typeof OPTIONS>) {
  const q = values.quick;
  const num = (v: string | undefined, full: number, quick: number) => {
    const n = v === undefined ? (q ? quick : full) : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`not a number: ${v}`);
    return n;
  };
  const only = values.only === undefined ? [...SCENARIOS] : values.only.split(',').map((s) => s.trim());
  for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new UsageError(`unknown scenario ${s} (known: ${SCENARIOS.join(', ')})`);
  const sessions = num(values.sessions, 1000, 20);
  return {
    sessions,
    scale: values.scale !== undefined ? list(values.scale) : q ? [] : [100, 10_000],
    seedSessions: Math.min(num(values['seed-sessions'], 100, 6), sessions),
    connections: num(values.connections, 50, 10),
    duration: num(values.duration, 10, 1),
    rounds: num(values.rounds, 2, 1),
    warmup: num(values.warmup, 3, 0),
    fanout: values.fanout !== undefined ? list(values.fanout) : q ? [50] : [1000, 5000],
    fanoutRounds: num(values['fanout-rounds'], 5, 2),
    creates: num(values.creates, 50, 3),
    coldStarts: num(values['cold-starts'], 5, 1),
    songbook: {
      songs: num(values['songbook-songs'], 100_000, 2_000),
      books: num(values.songbooks, 3, 1),
      searchRate: num(values['search-rate'], 100, 100),
      backgroundRate: num(values['songbook-background'], 1000, 200),
      backgroundBursts: values['songbook-bursts'],
      settleMs: q ? 500 : 5000,
    },
    only: new Set(only),
    node: values.node ?? process.execPath,
    logLevel: values['log-level'],
    serverArgs: (values['server-args'] ?? dockerfileEnv('NODE_OPTIONS') ?? '').split(' ').filter(Boolean),
    pin: values.pin,
    cpuProf: values['cpu-prof'],
    out: path.resolve(values.out ?? path.join(ROOT, 'bench-results')),
    quick: q,
  };
}

async function main(values: CliArgs<typeof OPTIONS>): Promise<number> {
  const opts = options(values);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const nodeVersion = execFileSync(opts.node, ['--version'], { encoding: 'utf8' }).trim();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    command: `node ${path.relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
    node: opts.node,
    nodeVersion,
    cpus: os.cpus().length,
    loadAverageBefore: os.loadavg(),
    options: { ...opts, only: [...opts.only] },
    seeded: { sessions: opts.seedSessions, seconds: 0 },
    writes: [],
    fanout: [],
    steal: {},
    checks: [],
  };
  log(`bench: server options ${opts.serverArgs.join(' ') || '(Node defaults)'}`);
  log(`bench: Node ${nodeVersion}, load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  const serverCpus = opts.pin ? '0' : undefined;
  const clientCpus = opts.pin ? '1' : undefined;
  const work = await mkdtemp(path.join(os.tmpdir(), 'karaoke-bench-'));
  const baseline = await startBaselineServer(opts.node, serverCpus);
  const load = forkWorker<LoadJob, { result?: LoadResult; error?: string }>(opts.node, LOAD_MAIN, clientCpus);
  const serverEnv = warmCompileCache(opts.node, path.join(work, 'compile-cache'));
  const ctx: BenchContext = { node: opts.node, connections: opts.connections, duration: opts.duration, warmup: opts.warmup, rounds: opts.rounds, baseline, load, serverCpus, clientCpus, serverArgs: opts.serverArgs, serverEnv, log };
  const running: StartedServer[] = [];
  /** Runs one scenario and records how much CPU the host took from this VM meanwhile. */
  const scenario = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const before = cpuTimes();
    try {
      return await run();
    } finally {
      const share = stealShare(before, cpuTimes());
      if (share !== undefined) results.steal[name] = share;
    }
  };
  const start = async (dataDir: string, nodeArgs: string[] = []) => {
    const server = await startProjectServer({ node: opts.node, dataDir, cpus: serverCpus, nodeArgs: [...opts.serverArgs, ...nodeArgs], env: { ...serverEnv, LOG_LEVEL: opts.logLevel } });
    running.push(server);
    return server;
  };
  const stop = async (server: StartedServer) => {
    running.splice(running.indexOf(server), 1);
    const { code, signal } = await server.stop();
    if (code !== 0) throw new Error(`the server exited with ${code ?? signal}:\n${server.output()}`);
  };
  try {
    const seedDir = path.join(work, 'seed');
    const seedStart = performance.now();
    const seeder = await start(seedDir);
    const { hot, sessions: seeded } = await seedThroughApi(seeder.url, opts.seedSessions);
    await stop(seeder);
    results.seeded.seconds = (performance.now() - seedStart) / 1000;
    log(`bench: seeded ${opts.seedSessions} sessions through the API in ${results.seeded.seconds.toFixed(1)} s`);

    const mainDir = path.join(work, `store-${opts.sessions}`);
    const ids = await padStore(seedDir, mainDir, opts.sessions, hot.id);
    const writable = ids.filter((id) => id !== hot.id);
    if (opts.only.has('cold')) results.coldStart = await scenario('cold', () => coldStartScenario(ctx, mainDir, opts.sessions, opts.coldStarts));

    const profileDir = path.join(opts.out, 'profiles');
    const profileArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const main = await start(mainDir, profileArgs);
    if (opts.only.has('read')) results.read = await scenario('read', () => readScenario(ctx, main, hot));
    if (opts.only.has('writes')) {
      const w = await scenario('writes', () => writeScenario(ctx, main, writable, `durable writes, ${opts.sessions} sessions`, mainDir));
      results.writes.push({ ...w, sessions: opts.sessions });
    }
    if (opts.only.has('create')) results.create = await scenario('create', () => createScenario(main.url, opts.creates));
    await stop(main);

    if (opts.only.has('pg')) results.pg = await scenario('pg', () => pgScenario(ctx, mainDir, writable, hot));

    if (opts.only.has('songbook')) {
      const dir = path.join(work, 'store-songbook');
      await padStore(seedDir, dir, opts.sessions, hot.id);
      results.songbook = await scenario('songbook', () => songbookScenario(ctx, (role) => start(dir, role === 'search' ? profileArgs : []), stop, seeded, hot, opts.songbook));
    }

    if (opts.only.has('fanout')) {
      // A fresh process for each count: memory read from a server that has just flushed
      // megabytes of writes moves with its garbage collector, not with the streams.
      const fanDir = path.join(work, 'store-fanout');
      await padStore(seedDir, fanDir, opts.sessions, hot.id);
      for (const clients of opts.fanout) {
        const server = await start(fanDir);
        results.fanout.push(await scenario(`fanout ${clients}`, () => fanoutScenario(ctx, server, hot, clients, opts.fanoutRounds)));
        await stop(server);
      }
    }

    if (opts.only.has('bounded')) {
      // The big nights and their fresh counterparts beside the usual store, in one server.
      const dir = path.join(work, 'store-bounded');
      await padStore(seedDir, dir, opts.sessions, hot.id);
      const built = boundedSessions(opts.connections, opts.quick ? 10 : undefined);
      await addSessions(dir, [...built.big, ...built.fresh, ...built.joinBig, ...built.joinFresh].map((b) => b.session));
      const server = await start(dir, profileArgs);
      results.bounded = await scenario('bounded', () => boundedScenario(ctx, server, built, opts.fanout[0] ?? 1000, opts.fanoutRounds));
      await stop(server);
    }

    if (opts.only.has('scale')) {
      for (const size of opts.scale) {
        const dir = path.join(work, `store-${size}`);
        const sizeIds = await padStore(seedDir, dir, size, hot.id);
        const server = await start(dir);
        const w = await scenario(`writes ${size}`, () => writeScenario(ctx, server, sizeIds.filter((id) => id !== hot.id), `durable writes, ${size} sessions`, dir));
        results.writes.push({ ...w, sessions: size });
        await stop(server);
      }
    }
  } finally {
    for (const server of running) await server.stop();
    await load.stop();
    await baseline.stop();
    await rm(work, { recursive: true, force: true });
  }
  results.finishedAt = new Date().toISOString();
  results.loadAverageAfter = os.loadavg();
  results.checks = judge(results, opts.sessions);
  mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${render(results)}\n\nresults: ${file}\n`);
  return 0;
}

runCli({ name: 'bench', help: HELP, options: OPTIONS }, main);
