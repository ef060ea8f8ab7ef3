// The durability tests run the compiled server the way a platform does: as its own process,
// killed, stopped and restarted from the outside, with DATA_DIR on real (and sometimes broken) disks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { launchServer as launch, type WatchedProcess } from '../../scripts/bench/processes.js';
import type { HistoryPage, PublicState } from '../../server/sessions/view.js';
import { readStoredData, type DbData } from '../../server/store/index.js';

export type { Exit } from '../../scripts/bench/processes.js';

export type LaunchedServer = WatchedProcess;

export interface RunningServer extends LaunchedServer {
  readonly url: string;
}

/** The tests' environment: nothing from the caller's shell (PUBLIC_URL, NODE_ENV...) leaks in. */
const TEST_ENV = {
  NODE_ENV: 'test',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  RATE_LIMIT: '0',
};

/** Start the server on `dataDir`, on the Node running the tests; it is SIGKILLed after the test if still running. */
export function launchServer(t: TestContext, dataDir: string, env: Record<string, string> = {}): LaunchedServer {
  const server = launch({ dataDir, env: { ...TEST_ENV, ...env } });
  t.after(() => server.stop('SIGKILL'));
  return server;
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
/** A JSON call to a server process that must succeed (2xx): its body, or null for a 204. */
export async function callServer(server: RunningServer, method: string, route: string, body?: unknown, key?: string): Promise<any> {
  const res = await fetch(server.url + route, {
    method,
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(res.status < 300, `${method} ${route} answered ${res.status}: ${await res.clone().text()}`);
  return res.status === 204 ? null : res.json();
}

export async function readDataFile(dataDir: string): Promise<DbData> {
  return readStoredData(dataDir);
}

/** The public state with the whole night's history (paged from /history), or undefined for 404. */
export async function getState(url: string, sessionId: string): Promise<PublicState | undefined> {
  const res = await fetch(`${url}/api/sessions/${sessionId}`);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET /api/sessions/${sessionId} answered ${res.status}: ${await res.text()}`);
  const state = (await res.json()) as PublicState;
  // The state carries the newest songs of the night; the checks after a crash want every one.
  let history: PublicState['history'] = [];
  for (let before: number | null = state.historyCount; before !== null && before > 0; ) {
    const page = await fetch(`${url}/api/sessions/${sessionId}/history?before=${before}&limit=100`);
    if (page.status !== 200) throw new Error(`GET /api/sessions/${sessionId}/history answered ${page.status}: ${await page.text()}`);
    const body = (await page.json()) as HistoryPage;
    history = [...body.history, ...history];
    before = body.nextBefore;
  }
  return { ...state, history };
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
