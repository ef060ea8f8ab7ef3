// npm run soak -- --seconds 60: a whole night against the real server process. Guests join,
// request and cancel songs, hosts advance, phones and TVs hold event streams open and drop and
// reconnect; then: no unexpected errors, memory after warm-up grows less than 10 %, the stream
// count returns to 0 once everyone leaves, and data.json is valid and holds every acknowledged
// change. Exits 1 if any check fails.
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JOURNAL_FILE, parseData } from '../server/store/index.js';
import { sessionProblems } from './bench/invariants.js';
import { runCli, type CliArgs } from './lib/cli.js';
import { startProjectServer, type StartedServer } from './bench/processes.js';
import { healthz } from './bench/scenarios.js';
import { openSse } from './bench/sse-client.js';

const HELP = `Usage: npm run soak -- [options]

Options:
  --seconds N    length of the night (default 60)
  --clients N    event-stream clients, spread over the sessions (default 500)
  --sessions N   sessions (default 8)
  --guests N     guests per session (default 20)
  --heap-mb N    the server's V8 heap limit (default 128: what V8 picks on the 512 MB
                 production VM, a quarter of its memory; 0 for this machine's default)
  --node PATH    Node binary for the server (default: the one running this)
  -h, --help     this help`;

const OPTIONS = {
  seconds: { type: 'string', default: '60' },
  clients: { type: 'string', default: '500' },
  sessions: { type: 'string', default: '8' },
  guests: { type: 'string', default: '20' },
  'heap-mb': { type: 'string', default: '128' },
  node: { type: 'string' },
} as const;

interface Call {
  status: number;
  body: any;
}

interface Tally {
  calls: number;
  /** Answers a busy night legitimately produces (a full queue, a song already being sung...). */
  expected: Record<string, number>;
  unexpected: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

function client(url: string, tally: Tally) {
  return async (method: string, p: string, body?: unknown, key?: string, allowed: string[] = []): Promise<Call | undefined> => {
    tally.calls += 1;
    try {
      const res = await fetch(`${url}${p}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      const call: Call = { status: res.status, body: text ? JSON.parse(text) : undefined };
      if (res.ok) return call;
      const code = String(call.body?.error?.code);
      if (allowed.includes(code)) {
        tally.expected[code] = (tally.expected[code] ?? 0) + 1;
        return call;
      }
      tally.unexpected.push(`${method} ${p} answered ${res.status} ${text.slice(0, 200)}`);
    } catch (err) {
      tally.unexpected.push(`${method} ${p} failed: ${(err as Error).message}`);
    }
    return undefined;
  };
}

/** What the night acknowledged, to find on disk afterwards. */
interface Acked {
  singers: Set<string>;
  live: Set<string>;
  cancelled: Set<string>;
}

async function main(values: CliArgs<typeof OPTIONS>): Promise<number> {
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  const sessionCount = Number(values.sessions);
  const guestsPerSession = Number(values.guests);
  const log = (line: string) => process.stdout.write(`soak: ${line}\n`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-soak-'));
  const tally: Tally = { calls: 0, expected: {}, unexpected: [] };
  const failures: string[] = [];
  let server: StartedServer | undefined;
  try {
    // V8 sizes its heap to the machine and resizes it as it goes: on this big machine garbage
    // piles up for tens of seconds before the first full collection, and the young generation
    // doubles after a few seconds of traffic. Both read as growth without anything being kept.
    // So the server gets the old-space limit V8 picks on the production VM and a young
    // generation of fixed size: what is left to grow is what the server really retains.
    const heapMb = Number(values['heap-mb']);
    server = await startProjectServer({
      node: values.node ?? process.execPath,
      dataDir,
      env: { SSE_HEARTBEAT_SECONDS: '5' },
      nodeArgs: heapMb > 0 ? [`--max-old-space-size=${heapMb}`, '--min-semi-space-size=16', '--max-semi-space-size=16'] : [],
    });
    const call = client(server.url, tally);
    const sessions: { id: string; hostKey: string; acked: Acked }[] = [];
    for (let i = 0; i < sessionCount; i += 1) {
      const created = await call('POST', '/api/sessions', { name: `Soak night ${i + 1}` });
      if (!created) throw new Error(`could not create a session: ${tally.unexpected.join('; ')}`);
      await call('PATCH', `/api/sessions/${created.body.session.id}`, { maxQueuedPerSinger: 2 }, created.body.hostKey);
      sessions.push({ id: created.body.session.id, hostKey: created.body.hostKey, acked: { singers: new Set(), live: new Set(), cancelled: new Set() } });
    }
    const start = Date.now();
    const deadline = start + seconds * 1000;
    const running = () => Date.now() < deadline;

    // Phones and TVs: each stream lives a few seconds, drops, and comes back.
    const streams = { opened: 0, frames: 0 };
    const watchers = Array.from({ length: clients }, async (_, i) => {
      const session = sessions[i % sessions.length]!;
      await sleep(between(0, 1000));
      while (running()) {
        let last = 0;
        let leaving = false;
        const closed = new Promise<void>((resolve) => {
          const conn = openSse(`${server!.url}/api/sessions/${session.id}/events`, {
            onEvent: (e) => {
              if (e.event !== 'state') return tally.unexpected.push(`unexpected stream event ${e.event}`);
              streams.frames += 1;
              const state = JSON.parse(e.data) as { id: string; version: number };
              if (state.id !== session.id || state.version !== Number(e.id)) tally.unexpected.push(`frame ${e.id} does not match its state`);
              if (state.version < last) tally.unexpected.push(`a stream went back from version ${last} to ${state.version}`);
              last = state.version;
            },
            onClose: (err) => {
              if (!leaving) {
                tally.unexpected.push(`a stream closed on its own${err ? `: ${err.message}` : ''}`);
              }
              resolve();
            },
          });
          conn.ready.then((status) => {
            if (status !== 200) tally.unexpected.push(`a stream opened with ${status}`);
            streams.opened += 1;
          }, () => {});
          const stay = Math.min(between(1000, 8000), Math.max(0, deadline - Date.now()));
          void sleep(stay).then(() => {
            leaving = true;
            conn.close();
            resolve();
          });
        });
        await closed;
        await sleep(between(50, 500));
      }
    });

    // Guests: join, request songs, now and then cancel one; some leave and a new phone joins.
    let phones = 0;
    const guests = sessions.flatMap((session) =>
      Array.from({ length: guestsPerSession }, async () => {
        await sleep(between(0, 2000));
        while (running()) {
          // Names are unique within a night (a second "Guest 7" is asked for an initial): one number per phone.
          const joined = await call('POST', `/api/sessions/${session.id}/singers`, { name: `Guest ${(phones += 1)}` });
          if (!joined) return;
          session.acked.singers.add(joined.body.singer.id);
          const key = joined.body.guestKey as string;
          const mine: string[] = [];
          let song = 0;
          while (running() && Math.random() > 0.1) {
            await sleep(between(2000, 6000));
            if (mine.length > 0 && Math.random() < 0.25) {
              const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
              const res = await call('DELETE', `/api/sessions/${session.id}/requests/${id}`, undefined, key, ['already_singing', 'request_not_found']);
              if (res?.status === 204) {
                session.acked.live.delete(id);
                session.acked.cancelled.add(id);
              }
            } else {
              song += 1;
              const res = await call('POST', `/api/sessions/${session.id}/requests`, { title: `Song ${song}`, artist: 'Soak' }, key, ['queue_limit']);
              if (res?.status === 201) {
                mine.push(res.body.request.id);
                session.acked.live.add(res.body.request.id);
              }
            }
          }
        }
      }),
    );

    // Hosts: advance every second or two, guarding against a double tap.
    const hosts = sessions.map(async (session) => {
      let current: string | null = null;
      while (running()) {
        await sleep(between(2000, 4000));
        const res = await call('POST', `/api/sessions/${session.id}/next`, { outcome: Math.random() < 0.9 ? 'sung' : 'skipped', expectedCurrentId: current }, session.hostKey, ['queue_empty']);
        if (res?.status === 200) current = res.body.nowSinging?.id ?? null;
      }
    });

    // Memory, sampled from /proc while the night runs.
    const samples: { at: number; rss: number }[] = [];
    const sampler = setInterval(() => samples.push({ at: Date.now() - start, rss: server!.rssBytes() }), 250);
    await Promise.all([...watchers, ...guests, ...hosts]);
    clearInterval(sampler);
    if (process.env.SOAK_TRACE) log(samples.map((x) => `${(x.at / 1000).toFixed(1)}s:${(x.rss / 1048576).toFixed(0)}`).join(' '));
    log(`${tally.calls} API calls, ${streams.opened} streams opened, ${streams.frames} frames received, expected refusals ${JSON.stringify(tally.expected)}`);

    // Everyone has left: the server must count no streams.
    let connections = -1;
    for (let i = 0; i < 100 && connections !== 0; i += 1) {
      connections = (await healthz(server.url)).sseConnections;
      if (connections !== 0) await sleep(100);
    }
    if (connections !== 0) failures.push(`the server still counts ${connections} streams after every client left`);

    // RSS settles late in a short run (the heap grows in steps): measure from half-way.
    const warmEnd = Math.max(3000, seconds * 500);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const afterWarmup = median(samples.filter((s) => s.at >= warmEnd && s.at < warmEnd + 2000).map((s) => s.rss));
    const atEnd = median(samples.slice(-8).map((s) => s.rss));
    const growth = afterWarmup > 0 ? atEnd / afterWarmup - 1 : Number.NaN;
    log(`memory: ${(afterWarmup / 1048576).toFixed(1)} MB after warm-up, ${(atEnd / 1048576).toFixed(1)} MB at the end (${(growth * 100).toFixed(1)} %)`);
    if (!(growth < 0.1)) failures.push(`memory grew ${(growth * 100).toFixed(1)} % after warm-up (limit 10 %)`);

    const { code, signal } = await server.stop();
    if (code !== 0) failures.push(`the server exited with ${code ?? signal} on SIGTERM`);
    // 4xx answers are logged at warn by design, and so is the temp DATA_DIR this run chose;
    // anything else at warn or above is a problem.
    const harmless = (line: string) => line.includes('"msg":"request completed"') || line.includes('ALLOW_EPHEMERAL_DATA');
    const logged = server.warnings().filter((line) => !/"level":40/.test(line) || !harmless(line));
    if (logged.length > 0) failures.push(`the server logged ${logged.length} warnings or errors, first: ${logged[0]}`);

    // After a clean stop data.json alone holds everything: the journal has been folded into it.
    const file = path.join(dataDir, 'data.json');
    const { data } = parseData(JSON.parse(await readFile(file, 'utf8')), file);
    const journal = await stat(path.join(dataDir, JOURNAL_FILE)).catch(() => null);
    if (journal && journal.size > 0) failures.push(`the journal still holds ${journal.size} bytes after a clean stop`);
    for (const session of sessions) {
      const stored = data.sessions[session.id];
      if (!stored) {
        failures.push(`session ${session.id} is missing from data.json`);
        continue;
      }
      failures.push(...sessionProblems(stored));
      const singers = new Set(stored.singers.map((s) => s.id));
      const songs = new Set([...stored.queue, ...stored.history, ...(stored.nowSinging ? [stored.nowSinging] : [])].map((r) => r.id));
      for (const id of session.acked.singers) if (!singers.has(id)) failures.push(`acknowledged singer ${id} is not in data.json`);
      for (const id of session.acked.live) if (!songs.has(id)) failures.push(`acknowledged request ${id} is not in data.json`);
      for (const id of session.acked.cancelled) if (songs.has(id)) failures.push(`cancelled request ${id} is still in data.json`);
    }
    log(`data.json: ${Object.keys(data.sessions).length} sessions, valid`);
  } catch (err) {
    failures.push(`the soak itself failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  failures.unshift(...tally.unexpected.slice(0, 20));
  if (tally.unexpected.length > 20) failures.push(`... and ${tally.unexpected.length - 20} more unexpected answers`);
  if (failures.length > 0) {
    for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
    return 1;
  }
  process.stdout.write('PASS\n');
  return 0;
}

runCli({ name: 'soak', help: HELP, options: OPTIONS }, main);
