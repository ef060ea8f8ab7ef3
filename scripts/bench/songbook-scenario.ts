// The songbook scenario: a host uploads a 100,000-song list through the API, then guests search it
// as they type while the server also answers ordinary reads. Timed at the HTTP client, from a
// process of its own; the server's memory read from /proc around each songbook's first search.
import type { LoadResult } from './load.js';
import { cpuTimes, STEAL_LIMIT, stealShare } from './machine.js';
import { forkWorker, SONGBOOK_CLIENT_MAIN, type StartedServer } from './processes.js';
import type { BenchContext } from './scenarios.js';
import type { SeededSession } from './seed.js';
import type { PacedGetJob, PacedGetReply, SearchJob, SearchReply } from './songbook-client.js';
import { generateSongbook, songbookCsv } from './songbook-data.js';
import { makeQueries, type QueryKind } from './songbook-queries.js';
import { percentile } from './sse-clients.js';

export interface SongbookOptions {
  /** Songs per songbook. */
  songs: number;
  /** Songbooks uploaded (to different sessions) and loaded one after another: the memory steps. */
  books: number;
  /** Searches per second, all guests together. */
  searchRate: number;
  /** GET-session requests per second beside the searches (0: none). */
  backgroundRate: number;
  /**
   * Send them as autocannon's rate mode does, each second's quota in one burst at its top, instead
   * of evenly spaced (songbook-client.ts says why even is the default).
   */
  backgroundBursts: boolean;
  /** How long to leave the server idle before reading its RSS after a load: V8 gives back memory only once allocation has stopped for a while. */
  settleMs: number;
}

/** The two kinds judged, each half spelled right and half with one typo. */
export const SEARCH_CLASSES = [
  { name: 'one word', kinds: ['word1', 'typo1'] },
  { name: 'three words', kinds: ['word3', 'typo3'] },
] as const satisfies readonly { name: string; kinds: readonly QueryKind[] }[];

export interface SearchClassResult {
  name: string;
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** p99 of each measured round: the spread. */
  roundP99: number[];
  /** The same, for the typo half alone. */
  typoP99: number;
  medianTotal: number;
}

export interface SongbookScenario {
  /** Rows per uploaded songbook; each upload's `songs` is what the server kept (repeats dropped). */
  songs: number;
  csvBytes: number;
  uploads: { ms: number; songs: number; skipped: number }[];
  /** Each songbook's first search: reads the file, builds the index. */
  firstSearches: { ms: number; rssBefore: number; rssAfter: number; otherRequestMaxMs: number }[];
  /** RSS growth per loaded songbook, median of the steps. */
  rssPerSongbookBytes: number;
  /** All growth from before the first load to after the last, over the songbooks: includes V8's one-off growth and garbage not yet given back. */
  rssTotalPerSongbookBytes: number;
  rssAfterSearchesBytes: number;
  searchRate: number;
  backgroundRate: number;
  backgroundBursts: boolean;
  /** Pooled over the judged rounds: those with host steal under STEAL_LIMIT. */
  classes: SearchClassResult[];
  /** Pooled over every round, stolen ones included. */
  allRoundsClasses: SearchClassResult[];
  judgedRounds: number;
  /** `steal`: the share of the machine's CPU time the hypervisor took during the round (machine.ts). */
  rounds: { search: SearchReply; background?: Pick<LoadResult, 'rps' | 'p50' | 'p99'>; steal?: number }[];
  failed: number;
}

/** A round on a machine without /proc/stat is judged. */
const isQuiet = (round: { steal?: number | undefined }) => round.steal === undefined || round.steal < STEAL_LIMIT;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function upload(url: string, session: SeededSession, csv: string): Promise<{ ms: number; songs: number; skipped: number }> {
  const began = performance.now();
  const res = await fetch(`${url}/api/sessions/${session.id}/songbook`, {
    method: 'PUT',
    headers: { 'Content-Type': 'text/csv; charset=utf-8', Authorization: `Bearer ${session.hostKey}` },
    body: csv,
  });
  const text = await res.text();
  const ms = performance.now() - began;
  if (!res.ok) throw new Error(`songbook upload answered ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { songs: number; skippedCount: number };
  return { ms, songs: body.songs, skipped: body.skippedCount };
}

/**
 * One search that loads the songbook, while another request of the hot session goes out one
 * after another: the longest of those is how long the build held everyone else up.
 */
async function firstSearch(server: StartedServer, session: SeededSession, hot: SeededSession): Promise<{ ms: number; otherRequestMaxMs: number }> {
  let searching = true;
  let otherRequestMaxMs = 0;
  const others = (async () => {
    while (searching) {
      const began = performance.now();
      await (await fetch(`${server.url}/api/sessions/${hot.id}`)).arrayBuffer();
      otherRequestMaxMs = Math.max(otherRequestMaxMs, performance.now() - began);
      await sleep(5);
    }
  })();
  const began = performance.now();
  const res = await fetch(`${server.url}/api/sessions/${session.id}/songs?q=love&limit=20`);
  const text = await res.text();
  const ms = performance.now() - began;
  searching = false;
  await others;
  if (!res.ok) throw new Error(`first search answered ${res.status}: ${text.slice(0, 500)}`);
  return { ms, otherRequestMaxMs };
}

function summarise(name: string, kinds: readonly QueryKind[], replies: SearchReply[]): SearchClassResult {
  const of = (reply: SearchReply, only?: QueryKind) => (only ? [only] : kinds).flatMap((k) => reply.timings[k] ?? []);
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  const all = sorted(replies.flatMap((r) => of(r)));
  const typos = sorted(replies.flatMap((r) => of(r, kinds[1])));
  const totals = sorted(replies.flatMap((r) => kinds.map((k) => r.medianTotal[k] ?? 0)));
  return {
    name,
    count: all.length,
    p50: all.length ? percentile(all, 50) : 0,
    p99: all.length ? percentile(all, 99) : 0,
    max: all.at(-1) ?? 0,
    roundP99: replies.map((r) => {
      const xs = sorted(of(r));
      return xs.length ? percentile(xs, 99) : 0;
    }),
    typoP99: typos.length ? percentile(typos, 99) : 0,
    medianTotal: totals.length ? percentile(totals, 50) : 0,
  };
}

export async function songbookScenario(
  ctx: BenchContext,
  start: (role: 'upload' | 'search') => Promise<StartedServer>,
  stop: (server: StartedServer) => Promise<void>,
  sessions: SeededSession[],
  hot: SeededSession,
  options: SongbookOptions,
): Promise<SongbookScenario> {
  const targets = sessions.filter((s) => s.id !== hot.id).slice(0, options.books);
  if (targets.length < options.books) throw new Error(`${options.books} songbooks need ${options.books} seeded sessions besides the hot one`);
  const books = targets.map((_, i) => generateSongbook(options.songs, 1 + i));
  const csvs = books.map(songbookCsv);
  const csvBytes = Buffer.byteLength(csvs[0]!);

  // Upload on one server, search on a fresh one: its memory then holds nothing of the uploads.
  const uploader = await start('upload');
  const uploads = [];
  for (const [i, session] of targets.entries()) {
    const result = await upload(uploader.url, session, csvs[i]!);
    // The server keeps a song listed twice once (the generator repeats some, as catalogues do).
    if (result.skipped > 0 || result.songs < 0.95 * options.songs) throw new Error(`songbook upload kept ${result.songs} songs and skipped ${result.skipped} of ${options.songs} rows`);
    ctx.log(`  songbook upload ${i + 1}: ${options.songs} rows (${result.songs} distinct songs), ${(csvBytes / 1e6).toFixed(1)} MB of CSV in ${result.ms.toFixed(0)} ms`);
    uploads.push(result);
  }
  await stop(uploader);

  const server = await start('search');
  const client = forkWorker<SearchJob, { result?: SearchReply; error?: string }>(ctx.node, SONGBOOK_CLIENT_MAIN, ctx.clientCpus);
  const others = forkWorker<PacedGetJob, { result?: PacedGetReply; error?: string }>(ctx.node, SONGBOOK_CLIENT_MAIN, ctx.clientCpus);
  try {
    // Memory settles for a moment after start (lazy compilation, the first requests' buffers).
    await sleep(options.settleMs);
    const firstSearches: SongbookScenario['firstSearches'] = [];
    for (const [i, session] of targets.entries()) {
      const rssBefore = server.rssBytes();
      const first = await firstSearch(server, session, hot);
      await sleep(options.settleMs);
      const rssAfter = server.rssBytes();
      firstSearches.push({ ...first, rssBefore, rssAfter });
      ctx.log(`  songbook ${i + 1} first search (load and build): ${first.ms.toFixed(0)} ms, other requests waited up to ${first.otherRequestMaxMs.toFixed(0)} ms; RSS ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MB more ${options.settleMs} ms later`);
    }
    const steps = firstSearches.map((f) => f.rssAfter - f.rssBefore).sort((a, b) => a - b);

    const searched = targets[0]!;
    const path = `/api/sessions/${hot.id}`;
    /** The ordinary traffic of a round: its rate, median and p99 as the round's `background`. */
    const backgroundFor = (seconds: number): Promise<Pick<LoadResult, 'rps' | 'p50' | 'p99'>> | undefined => {
      if (options.backgroundRate === 0) return undefined;
      if (options.backgroundBursts) {
        return ctx.load.ask({ kind: 'get', url: server.url, path, connections: ctx.connections, duration: seconds + 1, rate: options.backgroundRate }).then((r) => {
          if (!r.result) throw new Error(`load generator failed: ${r.error}`);
          return r.result;
        });
      }
      return others.ask({ url: server.url, path, rate: options.backgroundRate, seconds: seconds + 1 }).then((r) => {
        if (!r.result) throw new Error(`paced GET client failed: ${r.error}`);
        const { timings, seconds: took } = r.result;
        return { rps: timings.length / took, p50: timings.length ? percentile(timings, 50) : 0, p99: timings.length ? Math.round(percentile(timings, 99) * 10) / 10 : 0 };
      });
    };
    const round = async (seed: number, seconds: number) => {
      const background = backgroundFor(seconds);
      // The background is under way (its connections open) before the first search goes out.
      if (background) await sleep(500);
      const queries = makeQueries(books[0]!, Math.ceil(options.searchRate * seconds), seed, ['word1', 'typo1', 'word3', 'typo3']);
      const reply = await client.ask({ url: server.url, sessionId: searched.id, queries, rate: options.searchRate, seconds, limit: 20 });
      if (!reply.result) throw new Error(`songbook client failed: ${reply.error}`);
      const loaded = background ? await background : undefined;
      return { search: reply.result, ...(loaded ? { background: loaded } : {}) };
    };
    if (ctx.warmup > 0) await round(1000, ctx.warmup);
    const rounds: SongbookScenario['rounds'] = [];
    // A round in which the host took the vCPUs away (steal) is kept and shown, but not judged; up
    // to as many extra rounds are run so that ctx.rounds quiet ones are judged when the host allows.
    const quiet = () => rounds.filter(isQuiet).length;
    for (let r = 1; r <= ctx.rounds * 2 && (r <= ctx.rounds || quiet() < ctx.rounds); r += 1) {
      const cpuBefore = cpuTimes();
      const measured = { ...(await round(2000 + r, Math.max(1, ctx.duration - 1))), steal: stealShare(cpuBefore, cpuTimes()) };
      const p99s = SEARCH_CLASSES.map((c) => summarise(c.name, c.kinds, [measured.search]));
      ctx.log(`  songbook search round ${r}: ${p99s.map((c) => `${c.name} p50 ${c.p50.toFixed(1)} / p99 ${c.p99.toFixed(1)} ms`).join(', ')}; background ${measured.background?.rps.toFixed(0) ?? 0} req/s (p99 ${measured.background?.p99 ?? 0} ms); client send lag ${measured.search.maxSendLagMs.toFixed(1)} ms; steal ${measured.steal === undefined ? 'n/a' : `${(measured.steal * 100).toFixed(1)} %`}${isQuiet(measured) ? '' : ' (not judged)'}`);
      rounds.push(measured);
    }
    const judged = rounds.filter(isQuiet);
    return {
      songs: options.songs,
      csvBytes,
      uploads,
      firstSearches,
      rssPerSongbookBytes: percentile(steps, 50),
      rssTotalPerSongbookBytes: (firstSearches.at(-1)!.rssAfter - firstSearches[0]!.rssBefore) / firstSearches.length,
      rssAfterSearchesBytes: server.rssBytes(),
      searchRate: options.searchRate,
      backgroundRate: options.backgroundRate,
      backgroundBursts: options.backgroundBursts,
      classes: SEARCH_CLASSES.map((c) => summarise(c.name, c.kinds, judged.map((r) => r.search))),
      allRoundsClasses: SEARCH_CLASSES.map((c) => summarise(c.name, c.kinds, rounds.map((r) => r.search))),
      judgedRounds: judged.length,
      rounds,
      failed: rounds.reduce((n, r) => n + r.search.failed, 0),
    };
  } finally {
    await client.stop();
    await others.stop();
    await stop(server);
  }
}
