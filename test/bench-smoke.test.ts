// The benchmark harness in --quick mode, only to prove it still works end to end: servers start,
// seeding goes through the API, every scenario runs and the results are written. No timing is
// asserted; numbers from a shared CI machine mean nothing (see docs/benchmarks.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SseBlockScanner, SseParser } from '../scripts/bench/sse-client.js';
import { tempDataDir } from './support/app.js';

const BENCH = fileURLToPath(new URL('../scripts/bench/bench.js', import.meta.url));

describe('benchmark harness', () => {
  it('runs every scenario in --quick mode and writes the results as JSON', { timeout: 120_000 }, async (t) => {
    const out = await tempDataDir(t, 'karaoke-bench-smoke-');
    const child = spawn(process.execPath, [BENCH, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);

    const files = (await readdir(out)).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1, output);
    const results = JSON.parse(await readFile(`${out}/${files[0]}`, 'utf8'));
    assert.equal(results.nodeVersion, process.version);
    for (const scenario of [results.read, ...results.writes]) {
      assert.ok(scenario.projectRps > 0 && scenario.baselineRps > 0, `${scenario.name} measured something`);
      assert.ok(Number.isFinite(scenario.ratio) && Number.isFinite(scenario.p99));
      assert.equal(scenario.errors, 0, `${scenario.name}: no connection errors`);
      assert.equal(scenario.non2xx, 0, `${scenario.name}: every request succeeded`);
    }
    assert.ok(results.writes[0].batchSize >= 1, 'group commit reported its batch size');
    assert.equal(results.fanout[0].missing, 0, 'every stream got every change');
    assert.equal(results.fanout[0].drainedToZero, true);
    assert.ok(results.create.p50 > 0);
    assert.ok(results.coldStart.median > 0);
    assert.ok(results.songbook.uploads[0].songs > 0, 'the songbook was uploaded through the API');
    // Every round counts here: a round the host stole CPU from is set aside from the judged pool only.
    assert.ok(results.songbook.allRoundsClasses.every((c: { count: number }) => c.count > 0), 'every search kind was measured');
    assert.ok(results.songbook.judgedRounds <= results.songbook.rounds.length);
    assert.ok(results.songbook.rounds.every((r: { steal?: number }) => r.steal === undefined || (r.steal >= 0 && r.steal <= 1)), 'each round says how much CPU the host took');
    if (process.platform === 'linux') assert.equal(typeof results.steal.read, 'number', 'the read scenario recorded its steal');
    assert.ok(Object.values(results.steal).every((s) => typeof s === 'number' && s >= 0 && s <= 1), 'each scenario says how much CPU the host took');
    assert.equal(results.songbook.failed, 0, 'every search answered 200');
    assert.ok(results.bounded.host.bigRps > 0 && results.bounded.join.freshRps > 0, 'the bounded scenario measured both nights');
    const statuses = [results.bounded.host, results.bounded.join].flatMap((v: { rounds: { fresh: { statusCodes: object }; big: { statusCodes: object } }[] }) => v.rounds.flatMap((r) => [r.fresh.statusCodes, r.big.statusCodes]));
    assert.equal(results.bounded.host.non2xx + results.bounded.join.non2xx, 0, `every host change and join succeeded: ${JSON.stringify(statuses)}`);
    assert.equal(results.bounded.fanout.missing, 0);
    assert.ok(results.checks.length > 0);
    // The printed table names every scenario.
    assert.match(output, /GET session/);
    assert.match(output, /durable writes/);
    assert.match(output, /fan-out/);
    assert.match(output, /songbook search/);
  });
});

describe('the fan-out clients\' stream scanner', () => {
  it('finds every event of a real stream however its bytes are split, as a full parser does', () => {
    // A chunked event-stream response as the server sends it: status line, headers, chunk sizes.
    const frames = ['retry: 2000\n\n', ...Array.from({ length: 12 }, (_, i) => `${i % 5 === 2 ? ': keep-alive\n\n' : ''}id: ${i + 1}\nevent: state\ndata: ${JSON.stringify({ name: 'Zoë'.repeat(i * 9) })}\n\n`)];
    const body = frames.map((f) => `${Buffer.byteLength(f).toString(16)}\r\n${f}\r\n`).join('');
    const bytes = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const expected: string[] = [];
    new SseParser((e) => expected.push(`${e.id}:${e.event}`)).push(frames.join(''));
    assert.equal(expected.length, 12);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 40 }), (cuts) => {
        const seen: string[] = [];
        const scanner = new SseBlockScanner((id, event) => seen.push(`${id}:${event}`));
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          scanner.push(bytes.subarray(from, Math.max(from, cut)));
          from = Math.max(from, cut);
        }
        scanner.push(bytes.subarray(from));
        assert.deepEqual(seen, expected);
      }),
      { numRuns: 300 },
    );
  });
});
