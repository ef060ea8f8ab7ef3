import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { renderQrPng } from '../server/qr.js';
import { tempDataDir } from './support/app.js';
import { runScript } from './support/ops.js';
import { getState, startServer } from './support/processes.js';

// Each test runs the real server as a process, restarts it on the same port as a platform
// would, and drives the script as an operator would.

async function setup(t: TestContext) {
  const dataDir = await tempDataDir(t);
  const stateFile = path.join(await tempDataDir(t, 'karaoke-state-'), 'check.json');
  const first = await startServer(t, dataDir);
  const port = new URL(first.url).port;
  return { dataDir, stateFile, first, port, url: first.url };
}

async function recordPhase(url: string, stateFile: string) {
  const rec = await runScript('verify-persistence', ['--url', url, '--phase', 'record', '--state-file', stateFile]);
  assert.equal(rec.code, 0, rec.stderr);
  assert.match(rec.stdout, /recorded session [2-9A-Z]{6} "persistence-check [0-9T:-]+Z" \(2 queued, 1 singing, 1 in history, 3 singers\), its songbook \(3 songs\) and its QR PNG/);
  return JSON.parse(await fs.readFile(stateFile, 'utf8')) as { sessionId: string };
}

describe('verify-persistence', () => {
  it('verify-persistence passes across a SIGKILL and restart on the same DATA_DIR, then cleans up', async (t) => {
    const { dataDir, stateFile, first, port, url } = await setup(t);
    const recorded = await recordPhase(url, stateFile);
    await first.stop('SIGKILL');
    const second = await startServer(t, dataDir, { PORT: port });

    const verified = await runScript('verify-persistence', ['--phase', 'verify', '--state-file', stateFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`^PASS: session ${recorded.sessionId} .* are identical after the restart$`, 'm'));
    assert.equal(await getState(second.url, recorded.sessionId), undefined, 'the marked session is removed after PASS');
    await assert.rejects(fs.stat(stateFile));
  });

  it('verify-persistence restarts the server itself with --restart-cmd and waits for the new process', async (t) => {
    const { dataDir, stateFile, first, port, url } = await setup(t);
    // The test plays the platform: when the server exits, it starts it again.
    const restarted = first.exited.then(() => startServer(t, dataDir, { PORT: port }));
    const result = await runScript('verify-persistence', [
      '--url', url, '--state-file', stateFile, '--restart-cmd', `kill -TERM ${first.pid}`, '--timeout', '60', '--keep',
    ]);
    const second = await restarted;
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /restarting with: kill -TERM/);
    assert.match(result.stdout, /^PASS: /m);
    const { sessionId } = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { sessionId: string };
    assert.ok(await getState(second.url, sessionId), '--keep keeps the marked session');
  });

  it('verify-persistence fails when the restarted server has lost its data (a disk that was not persistent)', async (t) => {
    const { stateFile, first, port, url } = await setup(t);
    const recorded = await recordPhase(url, stateFile);
    await first.stop('SIGTERM');
    await startServer(t, await tempDataDir(t), { PORT: port });

    const verified = await runScript('verify-persistence', ['--phase', 'verify', '--state-file', stateFile]);
    assert.equal(verified.code, 1);
    assert.match(verified.stdout, /^FAIL: /m);
    assert.match(verified.stdout, new RegExp(`session: GET /api/sessions/${recorded.sessionId} answered 404 session_not_found`));
    assert.match(verified.stdout, /QR PNG: GET .* answered 404/);
    await fs.stat(stateFile); // kept for a closer look
  });

  it('verify-persistence names what differs: a changed song and a changed QR PNG', async (t) => {
    const { dataDir, stateFile, first, port, url } = await setup(t);
    const recorded = await recordPhase(url, stateFile);
    await first.stop('SIGTERM');
    const dataFile = path.join(dataDir, 'data.json');
    await fs.writeFile(dataFile, (await fs.readFile(dataFile, 'utf8')).replace('"Persistence Song 3"', '"Another Song"'));
    await fs.writeFile(path.join(dataDir, 'qr-codes', `${recorded.sessionId}.png`), await renderQrPng('https://elsewhere.example/'));
    // A songbook left on an ephemeral disk: gone after the restart.
    await fs.rm(path.join(dataDir, 'songbooks', `${recorded.sessionId}.json`));
    await startServer(t, dataDir, { PORT: port });

    const verified = await runScript('verify-persistence', ['--phase', 'verify', '--state-file', stateFile]);
    assert.equal(verified.code, 1);
    assert.match(verified.stdout, /queue\[\d\]\.title: expected "Persistence Song 3", got "Another Song"/);
    assert.match(verified.stdout, /QR PNG: expected sha256 [0-9a-f]{64} \(\d+ bytes\), got [0-9a-f]{64}/);
    assert.match(verified.stdout, new RegExp(`songbook: GET /api/sessions/${recorded.sessionId}/songbook answered 404 songbook_not_found`));
  });

  it('verify-persistence does not pass a server that was never restarted', async (t) => {
    const { stateFile, url } = await setup(t);
    await recordPhase(url, stateFile);
    const verified = await runScript('verify-persistence', ['--phase', 'verify', '--state-file', stateFile, '--timeout', '1']);
    assert.equal(verified.code, 1);
    assert.match(verified.stderr, /NOT VERIFIED: the server at .* has not restarted since the record phase/);
    assert.doesNotMatch(verified.stdout, /PASS/);
  });
});
