// Two containers on one shared volume: each has its own host name (a UTS namespace) and often its
// own pid namespace, so neither can ask the kernel about the other's pid. One DATA_DIR must still
// have one server, and a crash must still not block the next start.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { SERVER_MAIN, watch, type WatchedProcess } from '../scripts/bench/processes.js';
import { STALE_BEATS } from '../server/store/lock.js';
import { tempDataDir } from './support/app.js';

const HEARTBEAT_SECONDS = 1;
const STALE_WINDOW_MS = STALE_BEATS * HEARTBEAT_SECONDS * 1000;

/** The server in a namespace of its own, as a container runs it: `unshare -u` (and `-p`) as root. */
function serverOn(t: TestContext, hostname: string, dataDir: string, pidNamespace: boolean): WatchedProcess {
  if (process.getuid?.() !== 0) throw new Error('this test needs root for unshare (namespaces as containers have them)');
  const ns = pidNamespace ? ['-u', '-p', '-f', '--kill-child', '--mount-proc'] : ['-u'];
  const child = spawn('unshare', [...ns, 'sh', '-c', `hostname ${hostname} && exec "$0" "$1"`, process.execPath, SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT: '0',
      DATA_DIR: dataDir,
      LOCK_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = watch(child);
  t.after(() => server.stop('SIGKILL'));
  return server;
}

async function createSession(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Shared volume' }),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { session: { id: string } }).session.id;
}

for (const pidNamespace of [false, true]) {
  const what = pidNamespace ? 'host names and pid namespaces' : 'host names';
  describe(`one server per DATA_DIR across containers (different ${what})`, () => {
    it('refuses a second server in one line while the first is alive, and starts one within the stale window after it is killed', async (t) => {
      const dataDir = await tempDataDir(t);
      const first = serverOn(t, 'box-one', dataDir, pidNamespace);
      const port = await first.listening;
      const id = await createSession(port);

      const second = serverOn(t, 'box-two', dataDir, pidNamespace);
      const refused = await Promise.race([second.exited, second.listening.then(() => 'listening' as const)]);
      assert.notEqual(refused, 'listening', 'a second server on another host name must not start while the first is alive');
      assert.equal((refused as { code: number | null }).code, 1);
      const lines = second.stderr().trim().split('\n');
      assert.equal(lines.length, 1, second.stderr());
      assert.match(lines[0]!, /^karaoke: cannot start: .*\.lock is held by another server process \(pid \d+ on box-one, started [^)]+\)\. Only one server may use a DATA_DIR; stop that process first\.$/);
      // The first server is untouched: it still answers and still has its session.
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/sessions/${id}`)).status, 200);

      await first.stop('SIGKILL');
      const killedAt = Date.now();
      const third = serverOn(t, 'box-three', dataDir, pidNamespace);
      const thirdPort = await third.listening;
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs < STALE_WINDOW_MS + 5000, `the next start waited ${tookMs} ms, more than the stale window of ${STALE_WINDOW_MS} ms`);
      assert.equal((await fetch(`http://127.0.0.1:${thirdPort}/api/sessions/${id}`)).status, 200, 'the acknowledged session survived');
    });
  });
}
