// Measures song search in-process: build time, index memory, and p50/p99 per query kind.
// Run: node --expose-gc dist/scripts/bench/songbook-search.js [--songs 100000] [--queries 2000] [--rounds 3]
// Without --expose-gc the memory lines are skipped (they need a settled heap to mean anything).
import { parseArgs } from 'node:util';
import { SongIndex } from '../../server/songbook/search.js';
import { generateSongbook } from './songbook-data.js';
import { makeQueries, QUERY_KINDS, type QueryKind } from './songbook-queries.js';

const { values } = parseArgs({
  options: {
    songs: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const songCount = Number(values.songs);
const queryCount = Number(values.queries);
const rounds = Number(values.rounds);
const gc = (globalThis as { gc?: () => void }).gc;

function memory(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

const before = memory();
const songs = generateSongbook(songCount, Number(values.seed));
const withSongs = memory();
const t0 = performance.now();
let index: SongIndex | undefined = SongIndex.build(songs);
const buildMs = performance.now() - t0;
const withIndex = memory();

type Kind = QueryKind;
const KINDS = QUERY_KINDS;
const makeQueriesFor = (seed: number) => makeQueries(songs, queryCount, seed);

// Warm-up on its own query set, then each round on a fresh one (see makeQueries).
for (const { q } of makeQueriesFor(1000)) index.search(q, 20);

const timings = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
const cpuTimings = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
const perRoundP99: number[] = [];
const perRoundClock: string[] = [];
const hits = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
const examples = new Map<Kind, string>();
for (let r = 0; r < rounds; r++) {
  const all: number[] = [];
  const batch = makeQueriesFor(2000 + r);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (const { kind, q } of batch) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const { total } = index.search(q, 20);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    timings.get(kind)!.push(ms);
    cpuTimings.get(kind)!.push((cpu.user + cpu.system) / 1000);
    all.push(ms);
    hits.get(kind)!.push(total);
    if (!examples.has(kind)) examples.set(kind, q);
  }
  perRoundP99.push(percentile(all, 0.99));
  // CPU time well under wall time means other processes had the cores: that round's tail is theirs.
  const cpu = process.cpuUsage(cpu0);
  perRoundClock.push(`${((cpu.user + cpu.system) / 1000 / (performance.now() - wall0) * 100).toFixed(0)}%`);
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

console.log(`node ${process.version}, ${songCount} songs, ${queryCount} fresh queries × ${rounds} rounds`);
console.log(`build: ${buildMs.toFixed(0)} ms; index.size ${index.size}; index.bytes estimate ${mb(index.bytes)}`);
if (gc) console.log(`memory: songs ${mb(withSongs - before)}, index structures ${mb(withIndex - withSongs)}, both ${mb(withIndex - before)}`);
else console.log('memory: run with --expose-gc to measure');
// Wall time is what a guest waits; CPU time (this process, all threads) leaves out the moments
// another process had the core, so on a busy machine its p99 is the steadier number for our code.
console.log('kind    p50 ms  p90 ms  p99 ms  max ms  cpu p50  cpu p99  median total  example');
for (const kind of KINDS) {
  const ts = timings.get(kind)!;
  const cs = cpuTimings.get(kind)!;
  const example = examples.get(kind)!;
  console.log(
    `${kind.padEnd(7)} ${percentile(ts, 0.5).toFixed(3).padStart(6)}  ${percentile(ts, 0.9).toFixed(3).padStart(6)}  ${percentile(ts, 0.99).toFixed(3).padStart(6)}  ${Math.max(...ts).toFixed(2).padStart(6)}  ${percentile(cs, 0.5).toFixed(3).padStart(7)}  ${percentile(cs, 0.99).toFixed(3).padStart(7)}  ${String(percentile(hits.get(kind)!, 0.5)).padStart(12)}  ${JSON.stringify(example)}`,
  );
}
console.log(`p99 of all kinds per round (noise): ${perRoundP99.map((x) => x.toFixed(3)).join(', ')} ms; median ${percentile(perRoundP99, 0.5).toFixed(3)} ms`);
console.log(`CPU time / wall time per round (100% = the core was ours): ${perRoundClock.join(', ')}`);
index = undefined;
