// Child processes for the tests, the benchmark and the soak: the production server, the baseline
// server and the load generators, each started with the Node binary under test.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Compiled next to this file, so these resolve inside whichever dist folder is running. */
export const SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));
export const BASELINE_MAIN = fileURLToPath(new URL('./baseline-server.js', import.meta.url));
export const LOAD_MAIN = fileURLToPath(new URL('./load.js', import.meta.url));
export const FANOUT_MAIN = fileURLToPath(new URL('./sse-clients.js', import.meta.url));
export const SONGBOOK_CLIENT_MAIN = fileURLToPath(new URL('./songbook-client.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process watched the same way for the tests, the benchmark and the soak. */
export interface WatchedProcess {
  pid: number;
  child: ChildProcess;
  /** The port from the server's "listening" log line (LOG_LEVEL info or lower); rejects if the process exits first. */
  listening: Promise<number>;
  /** Settles once the process has exited and its output is fully read. */
  exited: Promise<Exit>;
  /** Resident memory from /proc, in bytes; 0 once the process is gone. */
  rssBytes(): number;
  /** Send `signal` (SIGTERM by default), SIGKILL after `killAfterMs`; resolves with how it ended. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<Exit>;
  /** What it printed on stdout (the JSON log lines) and stderr, each the last 64 KB. */
  stdout(): string;
  stderr(): string;
  /** Both, for error messages. */
  output(): string;
  /** Every log line at warn level or above (pino JSON), from the whole run (up to 1,000). */
  warnings(): string[];
}

export interface ServerProcess extends WatchedProcess {
  url: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = address && typeof address === 'object' ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function readRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface SpawnOptions {
  node: string;
  args: string[];
  env: Record<string, string>;
  /** CPU list for taskset, e.g. "0": keeps a server and its load generator off each other's core. */
  cpus?: string | undefined;
}

/** Only PATH and the given variables: an operator's PUBLIC_URL or ADMIN_TOKEN must not leak in. */
export function spawnNode({ node, args, env, cpus }: SpawnOptions): ChildProcess {
  const fullEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env };
  const [cmd, argv] = cpus ? ['taskset', ['-c', cpus, node, ...args]] : [node, args];
  return spawn(cmd as string, argv as string[], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

const KEEP_CHARS = 65_536;

export function watch(child: ChildProcess): WatchedProcess {
  const out = { stdout: '', stderr: '' };
  const warnings: string[] = [];
  let onListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (onListening = resolve));
  // Every line is read, not only the first ones: a full pipe would block the process.
  const read = (name: 'stdout' | 'stderr', stream: Readable | null) => {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
      out[name] = (out[name] + line + '\n').slice(-KEEP_CHARS);
      if (/"level":(40|50|60)/.test(line) && warnings.length < 1000) warnings.push(line);
      if (name === 'stdout' && line.includes('"msg":"listening"')) {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') onListening(entry.port);
      }
    });
  };
  read('stdout', child.stdout);
  read('stderr', child.stderr);
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const failed = exited.then((e) => {
    throw new Error(`the process exited before listening (code ${e.code}, signal ${e.signal}): ${out.stderr.trim()}`);
  });
  const waiting = Promise.race([listening, failed]);
  waiting.catch(() => {}); // callers that expect a refusal never await it
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? -1,
    child,
    listening: waiting,
    exited,
    rssBytes: () => (running() && child.pid ? readRssBytes(child.pid) : 0),
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    output: () => out.stdout + out.stderr,
    warnings: () => [...warnings],
    async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 20_000) {
      if (!running()) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

export interface LaunchOptions {
  /** The Node binary (default: the one running this). */
  node?: string | undefined;
  dataDir: string;
  /** The server's environment besides PATH and DATA_DIR: nothing else leaks in from the caller's shell. */
  env?: Record<string, string>;
  nodeArgs?: string[];
  cpus?: string | undefined;
}

/** Start the compiled server (dist/server/main.js) as its own process, the way a platform does. */
export function launchServer({ node = process.execPath, dataDir, env = {}, nodeArgs = [], cpus }: LaunchOptions): WatchedProcess {
  return watch(spawnNode({ node, args: [...nodeArgs, SERVER_MAIN], cpus, env: { DATA_DIR: dataDir, ...env } }));
}

/** Poll until `url` answers 200. Resolves with the milliseconds since `since` (a performance.now()). */
export async function waitForOk(url: string, child: ChildProcess, since: number, timeoutMs = 30_000): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface ProjectServerOptions {
  node: string;
  dataDir: string;
  cpus?: string | undefined;
  nodeArgs?: string[];
  /** Extra or overriding environment, e.g. RATE_LIMIT=on for the soak. */
  env?: Record<string, string>;
}

export interface StartedServer extends ServerProcess {
  /** From spawn to the first 200 from /healthz: the cold start. */
  readyMs: number;
}

/** The harness's admin token: /healthz shows its write counters and stream count only with it. */
export const BENCH_ADMIN_TOKEN = 'bN7xQ2vK9pL4wR8zT3mC6hJd';

/** The production server exactly as deployed (NODE_ENV=production), on a loopback port of its own. */
export async function startProjectServer(options: ProjectServerOptions): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const since = performance.now();
  const server = launchServer({
    node: options.node,
    dataDir: options.dataDir,
    nodeArgs: options.nodeArgs ?? [],
    cpus: options.cpus,
    env: {
      NODE_ENV: 'production',
      // A temp folder is never a mounted volume; production mode would refuse it otherwise.
      ALLOW_EPHEMERAL_DATA: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      // The write scenarios pile thousands of guests into a few sessions: far past one real night.
      MAX_SINGERS_PER_NIGHT: '10000',
      MAX_SONGS_PER_NIGHT: '100000',
      ...options.env,
    },
  });
  try {
    const readyMs = await waitForOk(`${url}/healthz`, server.child, since);
    return { ...server, url, readyMs };
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n${server.output()}`);
  }
}

export async function startBaselineServer(node: string, cpus?: string): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawnNode({ node, args: [BASELINE_MAIN], cpus, env: { NODE_ENV: 'production', PORT: String(port) } });
  const server = { ...watch(child), url: `http://127.0.0.1:${port}` };
  try {
    await waitForOk(`${server.url}/hello`, child, performance.now());
    return server;
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n${server.output()}`);
  }
}

export interface Worker<Request, Reply> {
  /** Send one message and wait for the next one back. */
  ask(message: Request, timeoutMs?: number): Promise<Reply>;
  stop(): Promise<void>;
}

/** Fork one of the harness's own modules (the load generator, the stream clients) with the Node under test. */
export function forkWorker<Request, Reply>(node: string, modulePath: string, cpus?: string): Worker<Request, Reply> {
  const child = fork(modulePath, [], {
    // taskset execs the Node binary, which inherits the IPC channel.
    execPath: cpus ? 'taskset' : node,
    execArgv: cpus ? ['-c', cpus, node] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ask(message, timeoutMs = 600_000) {
      return new Promise<Reply>((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`${modulePath} exited (${code}) before answering`));
        const timer = setTimeout(() => reject(new Error(`${modulePath} did not answer within ${timeoutMs} ms`)), timeoutMs);
        child.once('exit', onExit);
        child.once('message', (reply) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(reply as Reply);
        });
        child.send(message as object);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.disconnect();
      await exited;
    },
  };
}
