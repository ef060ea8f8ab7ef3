// Every deploy ends the old process with SIGTERM while guests are still sending songs. It must
// finish what it acknowledged, end the live streams so phones reconnect to the new process, and exit 0.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ChangeStream, lostChanges, snapshotOfData, snapshotOfStates } from './support/change-stream.js';
import { tempDataDir } from './support/app.js';
import { getState, readDataFile, startServer } from './support/processes.js';

/** An open SSE stream; `ended` tells whether the server ended it cleanly or the connection just broke. */
function openStream(url: string): Promise<{ ended: Promise<'ended' | 'broken'> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.statusCode, 200);
      const ended = new Promise<'ended' | 'broken'>((done) => {
        res.on('end', () => done(res.complete ? 'ended' : 'broken'));
        res.on('error', () => done('broken'));
      });
      // The first state frame shows the stream is live before the signal arrives.
      res.once('data', () => resolve({ ended }));
      res.resume();
    });
    req.on('error', reject);
  });
}

describe('shutdown', () => {
  it('SIGTERM during a burst of writes ends SSE streams, loses nothing acknowledged and exits 0', async (t) => {
    const dataDir = await tempDataDir(t, 'karaoke-shutdown-');
    const server = await startServer(t, dataDir);
    const stream = new ChangeStream();
    const running = stream.run(server.url, 8);
    assert.ok(await stream.untilAcked(1), `no change was acknowledged: ${server.stderr()}`);
    const sse = await Promise.all(stream.sessionIds.map((id) => openStream(`${server.url}/api/sessions/${id}/events`)));

    assert.ok(await stream.untilAcked(60 + Math.floor(Math.random() * 60)), `the server stopped early: ${server.stderr()}`);
    const signalled = Date.now();
    const exit = await server.stop('SIGTERM');
    const shutdownMs = Date.now() - signalled;
    await running;
    const acked = [...stream.acked];

    assert.deepEqual(exit, { code: 0, signal: null }, `the server must exit 0 after SIGTERM: ${server.stderr()}`);
    assert.deepEqual(await Promise.all(sse.map((s) => s.ended)), sse.map(() => 'ended'), 'SSE streams must be ended, not cut');
    assert.equal(existsSync(path.join(dataDir, '.lock')), false, 'a clean exit releases the lock');
    assert.deepEqual(lostChanges(snapshotOfData(await readDataFile(dataDir)), acked), [], 'acknowledged changes missing from data.json');

    const next = await startServer(t, dataDir);
    const states = await Promise.all(stream.sessionIds.map((id) => getState(next.url, id)));
    assert.deepEqual(lostChanges(snapshotOfStates(states.filter((s) => s !== undefined)), acked), [], 'acknowledged changes missing after restart');
    t.diagnostic(
      `acknowledged changes: ${acked.length}, lost: 0; exit after ${shutdownMs} ms; cut by the shutdown: ${stream.counts.broken}, ` +
        `refused: ${JSON.stringify(Object.fromEntries(stream.refusals))}`,
    );
    assert.ok(![...stream.refusals.keys()].some((code) => code.startsWith('5') && !code.endsWith('shutting_down')), 'only shutting_down may answer 5xx');
  });
});
