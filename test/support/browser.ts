import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { buildApp, type TestApp } from './app.js';
import { decodeQr } from './qr-decode.js';

const ROOT = new URL('../../../', import.meta.url);
export const ARTIFACTS = path.join(ROOT.pathname, 'test-artifacts');

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** The browser as a contributor's machine has it; no browser is a failure with a fix, never a skip. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CHROMIUM_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chromium or Chrome binary.`);
  }
  const found = CANDIDATES.find((candidate) => existsSync(candidate));
  if (found) return found;
  throw new Error(
    'No Chromium found for the browser tests: install it (Debian/Ubuntu: `sudo apt-get install chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
}

export async function launchBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(() => browser.close());
  return browser;
}

export const PHONE = { width: 390, height: 844 };

/** A phone-sized context, as a guest's browser: its own storage and cookies, a touch screen. */
export function phoneContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
}

/**
 * A phone-sized context whose page already holds a guest's key, as if this phone had joined: for
 * what only a singer of the night sees (the setlist once the night is over).
 */
export async function guestPhoneContext(browser: Browser, sessionId: string, guest: { id: string; key: string; name: string }): Promise<BrowserContext> {
  const context = await phoneContext(browser);
  const entry = { key: guest.key, singerId: guest.id, name: guest.name, sessionName: '', night: 1, savedAt: new Date().toISOString() };
  await context.addInitScript(({ id, entry }) => (globalThis as any).localStorage.setItem(`karaoke:guest:${id}`, JSON.stringify(entry)), { id: sessionId, entry });
  return context;
}

/**
 * Collects what would show up red in the browser console: JavaScript errors, console.error, and
 * failed loads. `allow` drops entries a step provoked on purpose (a 409 the test asked for).
 */
export class ConsoleWatch {
  readonly problems: string[] = [];
  readonly dialogs: string[] = [];

  constructor(
    readonly name: string,
    page: Page,
  ) {
    page.on('pageerror', (err) => this.problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() === 'error' || msg.type() === 'warning') this.problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('dialog', (dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }

  /** Forget the problems matching `pattern` (at most `count`), returning how many were dropped. */
  allow(pattern: RegExp, count = Infinity): number {
    let dropped = 0;
    for (let i = this.problems.length - 1; i >= 0 && dropped < count; i -= 1) {
      if (pattern.test(this.problems[i]!)) {
        this.problems.splice(i, 1);
        dropped += 1;
      }
    }
    return dropped;
  }
}

/** The URL a QR code image encodes, read the way a phone camera would: from the pixels. */
/** The URL a QR code image on the server encodes, read the way a phone camera would: from the pixels. */
export async function decodeQrAt(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return decodeQr(Buffer.from(await res.arrayBuffer()));
}

const README_SCREENSHOTS = path.join(ROOT.pathname, 'docs', 'screenshots');

/**
 * Save what the page shows to test-artifacts/NAME.png. With UPDATE_README_SCREENSHOTS=1, the shots
 * named for the README are written to docs/screenshots/ as well.
 */
export async function screenshot(page: Page, name: string, readmeName?: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  // Clicks scroll the page; a screenshot shows what a person sees on arrival.
  await page.evaluate('window.scrollTo(0, 0)');
  const png = await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled' });
  if (readmeName && process.env.UPDATE_README_SCREENSHOTS === '1') {
    await mkdir(README_SCREENSHOTS, { recursive: true });
    await writeFile(path.join(README_SCREENSHOTS, `${readmeName}.png`), png);
  }
}

async function serve(app: TestApp, port: number): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = app.app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

async function stop(app: TestApp, server: Server): Promise<void> {
  // Open event streams would keep close() waiting forever.
  app.hub.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.close();
}

export interface LiveServer {
  url: string;
  port: number;
  app: TestApp;
  /** Stop the server (store closed, streams cut) without starting again. */
  stop(): Promise<void>;
  /** Start a fresh app on the same DATA_DIR and the same port, as a real restart does. */
  start(): Promise<void>;
}

/** The app on a real port, restartable in place, stopped after the test. */
export async function liveServer(t: TestContext): Promise<LiveServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-browser-'));
  let app: TestApp | undefined;
  let server: Server | undefined;
  const halt = async () => {
    const running = server;
    server = undefined;
    if (running && app) await stop(app, running);
  };
  // Added first, so it runs first: the server stops before the data directory goes.
  t.after(async () => {
    await halt();
    await rm(dataDir, { recursive: true, force: true });
  });
  app = await buildApp(t, { dataDir });
  server = await serve(app, 0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get app() {
      return app!;
    },
    stop: halt,
    async start() {
      if (server) throw new Error('already running');
      app = await buildApp(t, { dataDir });
      server = await serve(app, port);
    },
  };
}

export const WAIT_MS = 8000;

/** Where each page lists the queue: rows, and the singer and song inside a row. */
const QUEUE = {
  guest: { rows: '#queue > li', singer: '.singer', song: '.song' },
  host: { rows: '#queue > li', singer: '.singer', song: '.song' },
  display: { rows: '#queue > li', singer: '.next-singer', song: '.next-song' },
} as const;
export type QueueKind = keyof typeof QUEUE;

/** Wait until the page lists exactly these "Singer: Song" rows; on timeout, say what it showed. */
export async function expectQueue(page: Page, kind: QueueKind, expected: string[], timeout = WAIT_MS): Promise<void> {
  const where = QUEUE[kind];
  try {
    await page.waitForFunction(
      ({ where, expected }) => {
        const doc = (globalThis as any).document;
        const rows = [...doc.querySelectorAll(where.rows)].map(
          (row: any) => `${row.querySelector(where.singer)?.textContent}: ${row.querySelector(where.song)?.textContent}`,
        );
        return JSON.stringify(rows) === JSON.stringify(expected);
      },
      { where, expected },
      { timeout },
    );
  } catch {
    const shown = await page.locator(where.rows).allTextContents();
    assert.fail(`${kind} page at ${page.url()} shows ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}`);
  }
}

/** Wait until the element's text matches; on timeout, say what it showed. */
export async function expectText(page: Page, selector: string, pattern: RegExp, timeout = WAIT_MS): Promise<void> {
  const locator = page.locator(selector).filter({ hasText: pattern });
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await page.locator(selector).allTextContents().catch(() => ['(none)']);
    assert.fail(`${page.url()}: ${selector} shows ${JSON.stringify(shown)}, expected ${pattern}`);
  }
}

export interface Night {
  server: LiveServer;
  browser: Browser;
  watches: ConsoleWatch[];
  open(context: BrowserContext, name: string, url: string): Promise<Page>;
}

/** A server and a browser for one test; every page opened through it has its console watched. */
export async function startNight(t: TestContext): Promise<Night> {
  const server = await liveServer(t);
  const browser = await launchBrowser(t);
  const watches: ConsoleWatch[] = [];
  return {
    server,
    browser,
    watches,
    async open(context, name, url) {
      context.setDefaultTimeout(WAIT_MS);
      const page = await context.newPage();
      watches.push(new ConsoleWatch(name, page));
      await page.goto(url);
      return page;
    },
  };
}

/** Run steps of one story in order; after a failure the rest are reported as skipped, not run against a broken page. */
export function stepper(t: TestContext): (name: string, fn: () => Promise<void>) => Promise<void> {
  let failed = false;
  return async (name, fn) => {
    await t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  };
}

/** No page showed a dialog or wrote an error or warning to its console. */
export function assertQuietConsoles(watches: readonly ConsoleWatch[]): void {
  for (const watch of watches) {
    assert.deepEqual(watch.dialogs, [], `${watch.name}: a dialog opened`);
    assert.deepEqual(watch.problems, [], `${watch.name}: console errors`);
  }
}
