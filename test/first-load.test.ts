// The first seconds after the scan, in real Chromium with the network throttled through the
// DevTools protocol: how long from navigation until the queue is on screen, on the guest, host and
// TV pages, on a slow 3G and a 4G profile; and whether a repeat visit asks again for scripts and
// stylesheets that have not changed. Every number is reported with t.diagnostic: the time, and the
// responses and bytes the first paint waited for (and all of them, once the modules imported after
// it are in). The times are asserted (MARGIN), and so is the repeat visit.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { cpuTimes, STEAL_LIMIT, stealShare } from '../scripts/bench/machine.js';
import { launchBrowser, liveServer, PHONE } from './support/browser.js';
import { joinAs, requestSong, createSession } from './support/app.js';

/** Latency is added to every response; throughputs are in bytes per second, as the protocol wants them. */
const PROFILES = {
  'slow 3G': { latency: 400, downloadThroughput: 400_000 / 8, uploadThroughput: 400_000 / 8, target: 1500 },
  '4G': { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8, target: 600 },
} as const;
type Profile = keyof typeof PROFILES;

/** On a phone the queue sits below the song form: there, laid out is what counts, not in the viewport. */
const PAGES = {
  guest: { path: '/s/', viewport: PHONE, inViewport: false },
  host: { path: '/host/', viewport: { width: 1280, height: 800 }, inViewport: true },
  display: { path: '/display/', viewport: { width: 1920, height: 1080 }, inViewport: true },
} as const;
type PageKind = keyof typeof PAGES;

/** Runs per page and profile; the median is what is reported and checked. */
const RUNS = 3;
/**
 * A run while the VM's host took STEAL_LIMIT of the CPU or more is reported and not judged, and
 * another is made in its place, up to this many runs in all. If too few were quiet, the least
 * stolen RUNS are judged. (CI once had every page 150-300 ms slower in a stolen stretch.)
 */
const MAX_RUNS = 3 * RUNS;
/**
 * The median of the runs is held to the target plus a quarter. On a quiet machine every page meets
 * the target itself (docs/benchmarks.md: 1.2-1.3 s of 1.5 on slow 3G, 0.51-0.60 s of 0.6 on 4G);
 * the quarter is for the machine this suite shares: its runs of one page move by up to 100 ms
 * on 4G under load. The 1.9-2.1 s and 0.72-0.82 s from before the lazy imports and the lean files
 * break it, as do the 2.9-3.6 s from before compression, preloads and the first state.
 */
const MARGIN = 1.25;

async function throttle(page: Page, profile: Profile): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const { latency, downloadThroughput, uploadThroughput } = PROFILES[profile];
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency, downloadThroughput, uploadThroughput });
  return cdp;
}

/**
 * Milliseconds from the start of navigation until the first queue row is painted inside the
 * viewport, read on the page's own clock (performance.now() counts from navigation start).
 */
async function queueOnScreen(page: Page, inViewport: boolean): Promise<number> {
  const handle = await page.waitForFunction(
    (inViewport) => {
      const doc = (globalThis as any).document;
      const row = doc.querySelector('#queue > li');
      if (!row) return false;
      const box = row.getBoundingClientRect();
      const view = (globalThis as any).innerHeight;
      const shown = box.height > 0 && (!inViewport || (box.top >= 0 && box.bottom <= view));
      return shown && row.textContent.trim() !== '' ? performance.now() : false;
    },
    inViewport,
    { polling: 'raf', timeout: 20_000 },
  );
  return Number(await handle.jsonValue());
}

interface Visit {
  ms: number;
  /** Share of the machine's CPU time the hypervisor gave to others during the visit; undefined off Linux. */
  steal: number | undefined;
  /** Responses and bytes on the wire before the queue was on screen: what the first paint waited for. */
  requests: number;
  bytes: number;
  /** The same once the page has settled: the modules it imports after the first paint included. */
  allRequests: number;
  allBytes: number;
  /** Scripts and stylesheets fetched over the network (not from the browser's cache), 304s included. */
  refetched: string[];
}

/** Event streams never finish (they are not counted). */
const isStream = (url: string) => new URL(url).pathname.endsWith('/events');

async function visit(page: Page, cdp: CDPSession, url: string, inViewport: boolean): Promise<Visit> {
  const urls = new Map<string, string>();
  const cached = new Set<string>();
  const pending = new Set<string>();
  let settled: () => void = () => {};
  let painted = false;
  const before = { requests: 0, bytes: 0 };
  const all = { requests: 0, bytes: 0 };
  const onSent = (e: any) => {
    if (e.type === 'Script' || e.type === 'Stylesheet') pending.add(e.requestId);
  };
  const onResponse = (e: any) => {
    if (!e.response.fromDiskCache && !e.response.fromPrefetchCache) urls.set(e.requestId, e.response.url);
  };
  const onCached = (e: any) => cached.add(e.requestId);
  const onEnd = (e: any) => {
    if (urls.has(e.requestId) && !cached.has(e.requestId) && !isStream(urls.get(e.requestId)!)) {
      for (const count of painted ? [all] : [before, all]) {
        count.requests += 1;
        count.bytes += e.encodedDataLength ?? 0;
      }
    }
    pending.delete(e.requestId);
    if (pending.size === 0) settled();
  };
  cdp.on('Network.requestWillBeSent', onSent);
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.requestServedFromCache', onCached);
  cdp.on('Network.loadingFinished', onEnd);
  cdp.on('Network.loadingFailed', onEnd);
  const cpuBefore = cpuTimes();
  await page.goto(url, { waitUntil: 'commit' });
  const ms = await queueOnScreen(page, inViewport);
  const steal = stealShare(cpuBefore, cpuTimes());
  painted = true;
  await page.waitForLoadState('load');
  // The scripts the page imports after its first paint are in the cache before the visit counts
  // as done, as they are when a guest scans again later in the night. (Only scripts and stylesheets
  // are waited for: the browser fetches the icon itself, and this session does not always hear the end.)
  if (pending.size > 0) await new Promise<void>((resolve) => (settled = resolve));
  cdp.off('Network.requestWillBeSent', onSent);
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.requestServedFromCache', onCached);
  cdp.off('Network.loadingFinished', onEnd);
  cdp.off('Network.loadingFailed', onEnd);
  const fetched = [...urls].filter(([id]) => !cached.has(id)).map(([, u]) => new URL(u).pathname);
  return {
    ms,
    steal,
    requests: before.requests,
    bytes: before.bytes,
    allRequests: all.requests,
    allBytes: all.bytes,
    refetched: fetched.filter((p) => /\.(?:js|css)$/.test(p)),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const isQuiet = (v: Visit) => v.steal === undefined || v.steal < STEAL_LIMIT;
const percent = (v: Visit) => (v.steal === undefined ? 'n/a' : `${(v.steal * 100).toFixed(1)} %`);

/** The quiet runs if there are RUNS of them, else the RUNS least stolen. */
function judged(firsts: Visit[]): Visit[] {
  const quiet = firsts.filter(isQuiet);
  return quiet.length >= RUNS ? quiet : [...firsts].sort((a, b) => (a.steal ?? 0) - (b.steal ?? 0)).slice(0, RUNS);
}

async function measure(t: TestContext, browser: Browser, origin: string, sessionId: string, kind: PageKind, profile: Profile) {
  const firsts: Visit[] = [];
  let repeat: Visit | undefined;
  for (let run = 0; run < MAX_RUNS && firsts.filter(isQuiet).length < RUNS; run += 1) {
    // A fresh context is a phone that has never seen the site: an empty cache.
    const context = await browser.newContext({ viewport: PAGES[kind].viewport });
    try {
      const page = await context.newPage();
      const cdp = await throttle(page, profile);
      const url = `${origin}${PAGES[kind].path}${sessionId}`;
      firsts.push(await visit(page, cdp, url, PAGES[kind].inViewport));
      if (run === 0) repeat = await visit(page, cdp, url, PAGES[kind].inViewport);
    } finally {
      await context.close();
    }
  }
  const ms = median(judged(firsts).map((v) => v.ms));
  const first = firsts[0]!;
  t.diagnostic(
    `${kind} on ${profile}: queue on screen after ${Math.round(ms)} ms, the median of ${judged(firsts).length} of ${firsts.length} runs ` +
      `(runs ${firsts.map((v) => `${Math.round(v.ms)} ms at ${percent(v)} host steal`).join(', ')}; target ${PROFILES[profile].target} ms); ` +
      `${first.requests} responses, ${(first.bytes / 1024).toFixed(1)} KB on the wire before it (${first.allRequests}, ${(first.allBytes / 1024).toFixed(1)} KB in all); ` +
      `repeat visit ${Math.round(repeat!.ms)} ms, scripts and stylesheets fetched again: ${repeat!.refetched.length === 0 ? 'none' : repeat!.refetched.join(' ')}`,
  );
  return { ms, repeat: repeat! };
}

describe('the first seconds after the scan', () => {
  it('first load: the queue is on screen within 1.5 s on slow 3G and 0.6 s on 4G, and a repeat visit refetches no script or stylesheet', async (t) => {
    const server = await liveServer(t);
    const browser = await launchBrowser(t);
    const { app } = server.app;
    const session = await createSession(app, 'Friday Night at the Anchor');
    for (const [name, title] of [
      ['Maya', 'Dancing Queen'],
      ['Jonas', 'Africa'],
      ['Ada', 'Wonderwall'],
    ] as const) {
      const singer = await joinAs(app, session.id, name);
      await requestSong(app, session.id, singer.key, title);
    }
    for (const kind of Object.keys(PAGES) as PageKind[]) {
      for (const profile of Object.keys(PROFILES) as Profile[]) {
        await t.test(`${kind} page on ${profile}`, async (st) => {
          const { ms, repeat } = await measure(st, browser, server.url, session.id, kind, profile);
          assert.deepEqual(repeat.refetched, [], 'a repeat visit fetched unchanged scripts or stylesheets again');
          assert.ok(ms <= PROFILES[profile].target * MARGIN, `${kind} on ${profile}: ${Math.round(ms)} ms, target ${PROFILES[profile].target} ms`);
        });
      }
    }
  });
});
