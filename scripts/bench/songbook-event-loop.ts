// How long the event loop stalls while a room uploads a big songbook and a guest then searches it
// for the first time (the parse, the file write, reading it back, building the index), and what
// that does to an ordinary GET issued every 10 ms meanwhile. In-process: the server and its
// clients share one loop, which is what monitorEventLoopDelay sees.
// Run: node dist/scripts/bench/songbook-event-loop.js [--songs 100000] [--rounds 3]
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createApp } from '../../server/app.js';
import { testConfig } from '../../server/config.js';
import { buildServices } from '../../server/services.js';
import { openStore } from '../../server/store/index.js';
import { generateSongbook, songbookCsv } from './songbook-data.js';

const { values } = parseArgs({ options: { songs: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } });
const csv = songbookCsv(generateSongbook(Number(values.songs)));
const ms = (ns: number) => (ns / 1e6).toFixed(1);

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-bench-loop-'));
const { store } = await openStore({ dataDir });
const config = testConfig({ dataDir });
const log = pino({ level: 'silent' });
const now = () => new Date();
const services = buildServices({ config, store, log, now });
await services.qr.prepare();
const app = createApp({ config, store, ...services, log, now });
const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const created = (await (await fetch(`${base}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"Bench"}' })).json()) as {
  session: { id: string };
  hostKey: string;
};
const id = created.session.id;

console.log(`node ${process.version}, ${values.songs} songs, CSV ${(csv.length / 2 ** 20).toFixed(1)} MB`);
for (let round = 1; round <= Number(values.rounds); round++) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  let worstGet = 0;
  let gets = 0;
  let running = true;
  // A steady trickle of ordinary requests: each one's time is how long a phone would wait.
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(`${base}/api/sessions/${id}`)).arrayBuffer();
      worstGet = Math.max(worstGet, performance.now() - t);
      gets++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  h.enable();
  const t0 = performance.now();
  const put = await fetch(`${base}/api/sessions/${id}/songbook`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${created.hostKey}`, 'Content-Type': 'text/csv' },
    body: csv,
  });
  const t1 = performance.now();
  const found = (await (await fetch(`${base}/api/sessions/${id}/songs?q=hello`)).json()) as { total: number };
  const t2 = performance.now();
  h.disable();
  running = false;
  await probe;
  console.log(
    `round ${round}: upload ${put.status} ${(t1 - t0).toFixed(0)} ms, first search ${(t2 - t1).toFixed(0)} ms (${found.total} hits); ` +
      `event-loop delay max ${ms(h.max)} ms, p99 ${ms(h.percentile(99))} ms, p50 ${ms(h.percentile(50))} ms; ` +
      `${gets} GETs meanwhile, slowest ${worstGet.toFixed(0)} ms`,
  );
}
server.closeAllConnections();
server.close();
services.hub.close();
await services.songbookWorker.close();
await store.close();
await rm(dataDir, { recursive: true, force: true });
