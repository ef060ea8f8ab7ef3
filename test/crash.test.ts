// A process can die at any instruction (OOM killer, a host reboot, `fly machine restart` past its
// kill timeout). Whatever the server answered 2xx to before that must be there when it comes back.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ChangeStream, lostChanges, snapshotOfData, snapshotOfStates, type Fact } from './support/change-stream.js';
import { tempDataDir } from './support/app.js';
import { getState, readDataFile, startServer, type RunningServer } from './support/processes.js';

const BUDGET_MS = 18_000;
const MAX_TRIALS = 60;
const WORKERS = 6;

describe('a crash (SIGKILL)', () => {
  it('the checker reports an acknowledged change that is missing', () => {
    const phantom: Fact = { kind: 'request', sessionId: 'ABCDEF', id: 'missing-req' };
    const snapshot = snapshotOfData({ version: 1, sessions: {} });
    assert.deepEqual(lostChanges(snapshot, [phantom]), ['request missing-req in session ABCDEF']);
  });

  it('SIGKILL at random moments loses no acknowledged change, and the restart is not blocked by the lock', async (t) => {
    const dataDir = await tempDataDir(t, 'karaoke-crash-');
    const stream = new ChangeStream();
    let server: RunningServer = await startServer(t, dataDir);
    const started = Date.now();
    let trials = 0;

    while (trials < MAX_TRIALS && Date.now() - started < BUDGET_MS) {
      trials += 1;
      const running = stream.run(server.url, WORKERS);
      // The kill lands after a random number of acknowledgements plus a random few milliseconds, so
      // it hits every phase of a write: mid-request, mid-fsync, mid-rename, between batches.
      await stream.untilAcked(stream.acked.length + 1 + Math.floor(Math.random() * 30));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
      const exit = await server.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL', `trial ${trials}: the server was already gone: ${server.stderr()}`);
      await running;

      const acked = [...stream.acked];
      const data = await readDataFile(dataDir).catch((err: Error) => assert.fail(`trial ${trials}: data.json: ${err.message}`));
      assert.deepEqual(lostChanges(snapshotOfData(data), acked), [], `trial ${trials}: acknowledged changes missing from data.json`);

      // The killed process left its lock behind; the next one must start anyway.
      assert.ok(existsSync(path.join(dataDir, '.lock')), 'a SIGKILLed server cannot remove its lock file');
      server = await startServer(t, dataDir);
      const states = await Promise.all(stream.sessionIds.map((id) => getState(server.url, id)));
      const found = states.filter((s) => s !== undefined);
      assert.deepEqual(lostChanges(snapshotOfStates(found), acked), [], `trial ${trials}: acknowledged changes missing after restart`);
    }

    t.diagnostic(`crash trials: ${trials}, acknowledged changes: ${stream.acked.length}, lost: 0`);
    t.diagnostic(`requests sent: ${stream.counts.sent}, cut by the kill: ${stream.counts.broken}, refused: ${JSON.stringify(Object.fromEntries(stream.refusals))}`);
    assert.ok(![...stream.refusals.keys()].some((code) => code.startsWith('5')), 'no change may fail with a 5xx');
    assert.ok(trials >= 10, `only ${trials} trials ran in ${BUDGET_MS} ms`);
    assert.ok(stream.acked.length >= trials, 'too few changes were acknowledged to prove anything');
  });
});
