// The durability tests run the compiled server the way a platform does: as its own process,
// killed, stopped and restarted from the outside, with DATA_DIR on real (and sometimes broken) disks.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PublicState } from '../../server/sessions/view.js';
import { readStoredData, type DbData } from '../../server/store/index.js';

/** Next to this file once compiled: dist/test/support/ → dist/server/main.js. */
export const SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedServer {
  readonly pid: number;
  /** The port from the "listening" log line; rejects if the process exits first. */
  readonly listening: Promise<number>;
  /** Settles once the process has exited and its output is fully read. */
  readonly exited: Promise<Exit>;
  stderr(): string;
  /** The JSON log lines so far (the last 20,000 characters). */
  stdout(): string;
  stop(signal: NodeJS.Signals): Promise<Exit>;
}

export interface RunningServer extends LaunchedServer {
  readonly url: string;
}

/** A clean environment: nothing from the caller's shell (PUBLIC_URL, NODE_ENV...) leaks in. */
function serverEnv(dataDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RATE_LIMIT: '0',
    ...extra,
  };
}

/** Start the server on `dataDir`; it is SIGKILLed after the test if still running. */
export function launchServer(t: TestContext, dataDir: string, env: Record<string, string> = {}): LaunchedServer {
  // process.execPath: the server runs on the same Node as the tests (20 locally, 24 in production).
  const child = spawn(process.execPath, [SERVER_MAIN], { env: serverEnv(dataDir, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<number>((resolve, reject) => {
    // Every line is read, not only the first ones: a full stdout pipe would block the server.
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout = (stdout + line + '\n').slice(-20_000);
      if (!line.includes('"msg":"listening')) return;
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      // "listening: open http://…": the bound port is a field, the address only for people.
      if (entry.msg?.startsWith('listening') && typeof entry.port === 'number') resolve(entry.port);
    });
    void exited.then((e) =>
      reject(new Error(`server exited before listening (code ${e.code}, signal ${e.signal}): ${stderr.trim()}`)),
    );
  });
  listening.catch(() => {}); // callers that expect a refusal never await it
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (signal: NodeJS.Signals) => {
    if (running()) child.kill(signal);
    return exited;
  };
  t.after(() => stop('SIGKILL'));
  return { pid: child.pid!, listening, exited, stderr: () => stderr, stdout: () => stdout, stop };
}

export async function startServer(t: TestContext, dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const launched = launchServer(t, dataDir, env);
  const port = await launched.listening;
  const url = `http://127.0.0.1:${port}`;
  const health = await fetch(`${url}/healthz`);
  await health.body?.cancel();
  if (health.status !== 200) throw new Error(`server on ${dataDir} is not healthy: /healthz answered ${health.status}`);
  return { ...launched, url };
}

/** data.json with the journal replayed, checked exactly as the server does at start; throws if it would refuse it. */
export async function readDataFile(dataDir: string): Promise<DbData> {
  return readStoredData(dataDir);
}

export async function getState(url: string, sessionId: string): Promise<PublicState | undefined> {
  const res = await fetch(`${url}/api/sessions/${sessionId}`);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET /api/sessions/${sessionId} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as PublicState;
}

const execFileAsync = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a system command (mount, losetup, dd, e2fsck...) and report how it ended. */
export async function run(cmd: string, args: string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { encoding: 'utf8' });
    return { code: 0, stdout: stdout.trim(), stderr: stderr.trim() };
  } catch (err) {
    const e = err as Error & { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 127, stdout: (e.stdout ?? '').trim(), stderr: (e.stderr ?? e.message).trim() };
  }
}

/** Run a system command that must succeed; a failure throws with its stderr. */
export async function sh(cmd: string, args: string[]): Promise<string> {
  const result = await run(cmd, args);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout;
}

/**
 * Loop devices and mounts need root. Without them these tests fail loudly: a skipped durability
 * test in CI would look like a passing one.
 */
export async function requireMountPrivileges(what: string): Promise<void> {
  const hint = `${what} needs root with loop devices and mount (e.g. a privileged CI runner)`;
  if (process.getuid?.() !== 0) throw new Error(`${hint}; running as uid ${process.getuid?.()}`);
  try {
    await sh('losetup', ['--find']);
  } catch (err) {
    throw new Error(`${hint}: ${(err as Error).message}`);
  }
}
