// A songbook night in real headless Chromium at phone size: the host uploads a song list through
// the page's file input, a guest who came in by the QR code finds a song despite a typo, a free-text
// request is flagged, the host starts a new night, downloads last night's songs, and the guest
// rejoins with one tap through the same QR code. Then the printable page, on screen and on paper.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
  ARTIFACTS,
  assertQuietConsoles,
  decodeQrAt,
  expectQueue,
  expectText,
  PHONE,
  phoneContext,
  screenshot,
  startNight,
  stepper,
} from './support/browser.js';
import type { CreatedSession } from './support/app.js';

const README_SCREENSHOTS = path.join(new URL('../../', import.meta.url).pathname, 'docs', 'screenshots');

/** A host's list as a spreadsheet exports it: a header row, quotes where a comma is in a name. */
const SONGBOOK = [
  'Artist,Title,Duration',
  'ABBA,Dancing Queen,3:51',
  'ABBA,Mamma Mia,3:32',
  'Queen,Bohemian Rhapsody,5:55',
  "Queen,Don't Stop Me Now,3:29",
  'Queen,Somebody to Love,4:56',
  'Toto,Africa,4:55',
  'Bonnie Tyler,Total Eclipse of the Heart,4:30',
  'The Cranberries,Zombie,5:06',
  'Whitney Houston,I Will Always Love You,4:31',
  'Oasis,Wonderwall,4:18',
  '"Earth, Wind & Fire",September,3:35',
  'Journey,Don\'t Stop Believin\',4:10',
  'Gloria Gaynor,I Will Survive,3:18',
  'Spice Girls,Wannabe,2:53',
  'Britney Spears,Toxic,3:19',
  'Céline Dion,My Heart Will Go On,4:40',
].join('\n');
const SONGS = SONGBOOK.split('\n').length - 1;

/** Created over the real port, as the landing page does: the links and the QR code carry this origin. */
async function createSession(origin: string, name: string): Promise<CreatedSession> {
  const res = await fetch(`${origin}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
  assert.equal(res.status, 201);
  const body = (await res.json()) as CreatedSession & { session: { id: string } };
  return { ...body, id: body.session.id };
}

/** The bytes of a PNG are the same file: the QR code on the tables still works. */
async function bytesAt(url: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return Buffer.from(await res.arrayBuffer());
}

/**
 * The element is on screen as a person sees it: its whole box inside the viewport. With `scroll`,
 * it is first scrolled into view, as a person would; without, the page must have put it there.
 */
async function assertOnScreen(locator: Locator, what: string, { scroll = false } = {}): Promise<void> {
  await locator.waitFor({ state: 'visible' });
  if (scroll) await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const viewport = locator.page().viewportSize() ?? PHONE;
  assert.ok(box, `${what}: no box`);
  const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5 && box.y + box.height <= viewport.height + 0.5;
  assert.ok(inside, `${what} is not inside the ${viewport.width}×${viewport.height} viewport: ${JSON.stringify(box)}`);
}

/** A tap target a thumb can hit: at least 44 × 44 CSS px (WCAG 2.5.5). */
async function assertTapTarget(locator: Locator, what: string): Promise<void> {
  const box = await locator.boundingBox();
  assert.ok(box && box.height >= 44 && box.width >= 44, `${what} is ${box?.width}×${box?.height}, smaller than 44×44`);
}

/** Every visible control inside `scope` is at least 44 CSS px high and wide; says which are not. */
async function assertTapTargets(scope: Locator, what: string): Promise<void> {
  const small = await scope.evaluate((root) => {
    const controls = root.querySelectorAll('button, a.button, input:not([type="radio"]), summary, .segmented label, [role="option"]');
    return [...controls].flatMap((el) => {
      const box = el.getBoundingClientRect();
      // An open form's summary is its heading, not a target (pointer-events: none).
      const shown = box.width > 0 && box.height > 0 && (globalThis as any).getComputedStyle(el).pointerEvents !== 'none';
      return shown && (box.width < 44 || box.height < 44) ? [`${el.tagName.toLowerCase()} “${(el.textContent ?? '').trim().slice(0, 30)}” ${Math.round(box.width)}×${Math.round(box.height)}`] : [];
    });
  });
  assert.deepEqual(small, [], `${what}: tap targets under 44 px`);
}

/** No sideways scrolling: the page is as wide as the screen. */
async function assertNoOverflow(page: Page, what: string): Promise<void> {
  const width = await page.evaluate('document.documentElement.scrollWidth');
  assert.equal(width, page.viewportSize()?.width, `${what} scrolls sideways`);
}

/** One part of a page, saved as test-artifacts/NAME.png (and docs/screenshots/ with UPDATE_README_SCREENSHOTS=1). */
async function shotOf(locator: Locator, name: string, readmeName?: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = await locator.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled' });
  if (readmeName && process.env.UPDATE_README_SCREENSHOTS === '1') {
    await mkdir(README_SCREENSHOTS, { recursive: true });
    await writeFile(path.join(README_SCREENSHOTS, `${readmeName}.png`), png);
  }
}

/**
 * The same page on a 320 px screen (a 640 px phone at 200% zoom): no sideways scrolling, and a
 * picture of it in test-artifacts/NAME-320.png. The phone size is restored after.
 */
async function at320(page: Page, name: string, part?: Locator): Promise<void> {
  await page.setViewportSize({ width: 320, height: 640 });
  try {
    await assertNoOverflow(page, `${name} at 320 px`);
    if (part) await shotOf(part, `${name}-320`);
    else await screenshot(page, `${name}-320`);
  } finally {
    await page.setViewportSize(PHONE);
  }
}

/** How many pages a PDF has, from its page objects (not the /Pages tree nodes). */
function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

describe('a songbook night in the browser', () => {
  it('a songbook night on phones: upload, typo search, free text flagged, new night, CSV, rejoin by the same QR code', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const step = stepper(t);
    const session = await createSession(server.url, 'Thursday Songbook Night');
    const files = await mkdtemp(path.join(os.tmpdir(), 'karaoke-songbook-'));
    t.after(() => rm(files, { recursive: true, force: true }));
    const songbookFile = path.join(files, 'my-songs.csv');
    await writeFile(songbookFile, SONGBOOK);

    let host!: Page;
    let maya!: Page;
    let jonas!: Page;
    let joinUrl = '';
    let qrPng: Buffer = Buffer.alloc(0);

    await step('the host opens the host link on a phone and uploads a songbook through the file input', async () => {
      const hostContext = await phoneContext(browser);
      host = await night.open(hostContext, 'host', session.hostUrl);
      await host.getByRole('button', { name: 'I saved it' }).click();
      await expectText(host, '#link', /^Live$/);
      const panel = host.locator('#songbook-card');
      await expectText(host, '#songbook-summary', /No songbook yet/);
      // The input is drawn as a button; it is set the way a file picker sets it.
      const input = host.getByLabel(/Song list/);
      await assertOnScreen(input, 'the file input', { scroll: true });
      const upload = host.getByRole('button', { name: 'Upload songbook' });
      // A file that is not a song list is refused with the lines it could not read.
      await input.setInputFiles({ name: 'albums.csv', mimeType: 'text/csv', buffer: Buffer.from('Album,Year,Genre\nA Night at the Opera,1975,Rock\n') });
      await upload.click();
      await expectText(host, '#songbook-error', /./);
      await expectText(host, '#songbook-bad-lines', /Lines it could not read/);
      await assertOnScreen(host.locator('#songbook-error p'), 'the upload error', { scroll: true });
      await expectText(host, '#songbook-summary', /No songbook yet/);
      night.watches.find((w) => w.name === 'host')!.allow(/status of 400/, 1);
      await input.setInputFiles(songbookFile);
      await assertTapTarget(upload, 'Upload songbook');
      await upload.click();
      await host.locator('#songbook-error').waitFor({ state: 'hidden' });
      await expectText(host, '#songbook-done', new RegExp(`^Read ${SONGS} songs \\(format: CSV\\)\\.$`));
      await assertOnScreen(host.locator('#songbook-done'), 'the upload result');
      await expectText(host, '#songbook-summary', new RegExp(`^${SONGS} songs, uploaded .+\\. Guests search it`));
      // Now there is a list, the host chooses whether other songs may be asked for; "any" is the default.
      assert.equal(await host.getByLabel('Yes').isChecked(), true);
      assert.equal(await host.getByRole('button', { name: 'Remove songbook' }).isVisible(), true);
      await assertNoOverflow(host, 'the host page');
      await host.evaluate('document.activeElement?.blur()');
      await assertTapTargets(panel, 'the songbook panel');
      await shotOf(panel, 'host-songbook', 'host-songbook');
      await at320(host, 'host-songbook', panel);
    });

    await step('a guest scans the QR code, types a name, finds the song despite a typo and taps it', async () => {
      qrPng = await bytesAt(`${server.url}/qr-codes/${session.id}.png`);
      joinUrl = await decodeQrAt(`${server.url}/qr-codes/${session.id}.png`);
      assert.equal(joinUrl, `${server.url}/s/${session.id}`);
      maya = await night.open(await phoneContext(browser), 'guest Maya', joinUrl);
      await expectText(maya, '#session-name', /^Thursday Songbook Night$/);
      await maya.getByLabel('Your name').fill('Maya');
      // With a songbook, the guest searches it instead of typing a title.
      assert.equal(await maya.getByLabel('Song title').isVisible(), false);
      const box = maya.getByRole('combobox', { name: /Find your song/ });
      await box.pressSequentially('bohemain');
      const option = maya.getByRole('option', { name: /Bohemian Rhapsody/ });
      await option.waitFor();
      await expectText(maya, '#song-status', /^1 song\. Tap yours\.$/);
      assert.equal(await maya.getByRole('option').count(), 1);
      assert.equal(await option.locator('.song-option-artist').textContent(), 'Queen');
      await assertOnScreen(option, 'the search result', { scroll: true });
      await assertTapTarget(option, 'the search result');
      await assertNoOverflow(maya, 'the guest page while searching');
      await assertTapTargets(maya.locator('main'), 'the guest page while searching');
      await screenshot(maya, 'guest-songbook-search', 'guest-songbook-search');
      await at320(maya, 'guest-songbook-search');
      await option.tap();
      await expectText(maya, '#request-done', /^Added “Bohemian Rhapsody”\. You're next!$/);
      await expectText(maya, '#you-headline', /^You're up next!$/);
      // The page brings the guest's place into view by itself.
      await assertOnScreen(maya.locator('#you'), "the guest's place");
      await expectQueue(maya, 'guest', ['Maya: Bohemian Rhapsody · Queen']);
      assert.equal(await maya.locator('#song-q').inputValue(), '', 'the search box is cleared after the song is added');
    });

    await step('the host page shows the request from the songbook, unflagged', async () => {
      await expectQueue(host, 'host', ['Maya: Bohemian Rhapsody · Queen']);
      assert.equal(await host.locator('#queue .tag').count(), 0);
    });

    await step('a song typed by hand is accepted and flagged on the host page as not in the songbook', async () => {
      jonas = await night.open(await phoneContext(browser), 'guest Jonas', joinUrl);
      await jonas.getByLabel('Your name').fill('Jonas');
      await jonas.getByRole('combobox', { name: /Find your song/ }).pressSequentially('Valerie');
      await expectText(jonas, '#song-status', /^No match for “Valerie”\.$/);
      const anyway = jonas.getByRole('button', { name: 'Not in the list? Ask for it anyway' });
      await assertOnScreen(anyway, 'the ask-anyway button', { scroll: true });
      await anyway.tap();
      // The search words are the first guess at the title.
      assert.equal(await jonas.getByLabel('Song title').inputValue(), 'Valerie');
      await jonas.getByLabel('Artist').fill('Amy Winehouse');
      await jonas.getByRole('button', { name: 'Join and add my song' }).tap();
      await expectText(jonas, '#request-done', /^Added “Valerie”\. You're 2nd in the queue\.$/);
      const order = ['Maya: Bohemian Rhapsody · Queen', 'Jonas: Valerie · Amy Winehousenot in songbook'];
      await expectQueue(host, 'host', order);
      await assertTapTargets(host.locator('body'), 'the host page');
      await assertTapTargets(jonas.locator('body'), 'the guest page with a song queued');
      const flagged = host.locator('#queue > li').filter({ hasText: 'Valerie' }).locator('.tag');
      await expectText(host, '#queue > li .tag', /^not in songbook$/);
      await assertOnScreen(flagged, 'the not-in-songbook tag', { scroll: true });
      await expectQueue(jonas, 'guest', ['Maya: Bohemian Rhapsody · Queen', 'Jonas: Valerie · Amy Winehouse']);
    });

    await step('the night goes on: both songs are sung', async () => {
      const next = host.locator('#next');
      await next.scrollIntoViewIfNeeded();
      await next.click();
      await expectText(maya, '#you-headline', /^You're singing now!$/);
      await expectText(host, '#next', /^Next: Jonas/);
      await next.click();
      await expectText(jonas, '#you-headline', /^You're singing now!$/);
    });

    await step('the host starts a new night with two taps; night 1 is archived and its CSV downloads', async () => {
      const button = host.getByRole('button', { name: 'End the night and start a new one' });
      await assertOnScreen(button, 'the new-night button', { scroll: true });
      await assertTapTarget(button, 'the new-night button');
      await button.click();
      // One tap only asks; nothing has happened yet.
      const confirm = host.getByRole('button', { name: 'Tap again to end tonight' });
      await confirm.waitFor();
      await expectText(host, '#night-now', /^Tonight is night 1,/);
      await confirm.click();
      await expectText(host, '#nights-done', /^Night 1 is archived; its songs are under Past nights\. The queue is empty for tonight\.$/);
      await expectText(host, '#night-now', /^Tonight is night 2,/);
      await expectQueue(host, 'host', []);
      await expectText(host, '#now', /Nobody is singing and the queue is empty/);
      const past = host.locator('#nights-list > li');
      await expectText(host, '#nights-list > li', /Night 1.*2 songs, 2 singers/);
      assert.equal(await past.count(), 1);
      assert.equal(await host.locator('#nights-empty').isVisible(), false);
      const get = host.getByRole('button', { name: 'Download the songs of night 1 (CSV)' });
      await assertOnScreen(get, 'the CSV download button', { scroll: true });
      await assertTapTarget(get, 'the CSV download button');
      const [download] = await Promise.all([host.waitForEvent('download'), get.click()]);
      assert.equal(download.suggestedFilename(), `karaoke-${session.id}-night-1.csv`);
      const csv = (await readFile(await download.path())).toString('utf8').replace(/^\ufeff/, '');
      const [header, ...rows] = csv.trim().split(/\r?\n/);
      assert.equal(header, 'startedAt,endedAt,singer,title,artist,outcome,songId');
      assert.equal(rows.length, 2, csv);
      assert.match(rows[0]!, /,Maya,Bohemian Rhapsody,Queen,sung,\S+$/);
      assert.match(rows[1]!, /,Jonas,Valerie,Amy Winehouse,sung,$/);
      await host.evaluate('document.activeElement?.blur()');
      await assertTapTargets(host.locator('#nights-card'), 'the nights panel');
      await shotOf(host.locator('#nights-card'), 'host-nights');
      await at320(host, 'host-nights', host.locator('#nights-card'));
      // The songbook stays for the next night.
      await expectText(host, '#songbook-summary', new RegExp(`^${SONGS} songs`));
    });

    await step("the guest's open page asks to rejoin with one tap, then works on night 2", async () => {
      const prompt = maya.locator('#rejoin');
      await expectText(maya, '#rejoin-text', /^A new night has started\. Join tonight as Maya\?$/);
      await assertOnScreen(prompt, 'the rejoin prompt');
      const rejoin = maya.getByRole('button', { name: 'Join tonight as Maya' });
      await assertTapTarget(rejoin, 'the rejoin button');
      // Last night's place is gone from the page; the name is not asked again, and the song form is open.
      await maya.getByRole('combobox', { name: /Find your song/ }).waitFor();
      assert.equal(await maya.locator('#you').isVisible(), false);
      assert.equal(await maya.getByLabel('Your name').isVisible(), false);
      await assertNoOverflow(maya, 'the guest page with the rejoin prompt');
      // What was said about last night's queue is gone with it.
      assert.equal(await maya.locator('#request-done').isVisible(), false);
      await assertTapTargets(maya.locator('main'), 'the guest page with the rejoin prompt');
      await screenshot(maya, 'guest-rejoin', 'guest-rejoin');
      await at320(maya, 'guest-rejoin');
      await rejoin.tap();
      await expectText(maya, '#request-done', /^You're in for tonight as Maya\. Add a song!$/);
      await prompt.waitFor({ state: 'hidden' });
      await expectText(maya, '#me', /^You sing as Maya$/);
      await maya.getByRole('combobox', { name: /Find your song/ }).pressSequentially('dansing queen');
      await maya.getByRole('option', { name: /Dancing Queen/ }).first().tap();
      await expectText(maya, '#request-done', /^Added “Dancing Queen”\. You're next!$/);
      await assertOnScreen(maya.locator('#you'), "the guest's place on night 2");
      await expectQueue(host, 'host', ['Maya: Dancing Queen · ABBA']);
    });

    await step('a guest whose page was closed comes back through the same QR code to the new night', async () => {
      assert.equal(await decodeQrAt(`${server.url}/qr-codes/${session.id}.png`), joinUrl);
      assert.ok((await bytesAt(`${server.url}/qr-codes/${session.id}.png`)).equals(qrPng), 'the QR image is the same file');
      // Jonas's phone still holds last night's key: a fresh visit through the code must not use it.
      await jonas.goto(joinUrl);
      await expectText(jonas, '#rejoin-text', /Join tonight as Jonas\?$/);
      await expectQueue(jonas, 'guest', ['Maya: Dancing Queen · ABBA']);
      assert.equal(await jonas.locator('#queue .item.mine').count(), 0);
      await jonas.getByRole('combobox', { name: /Find your song/ }).pressSequentially('afrika');
      // Picking a song while last night's key is held joins tonight first, under the same name.
      await jonas.getByRole('option', { name: /Africa/ }).tap();
      await expectText(jonas, '#request-done', /^Added “Africa”\. You're 2nd in the queue\.$/);
      await jonas.locator('#rejoin').waitFor({ state: 'hidden' });
      await expectQueue(host, 'host', ['Maya: Dancing Queen · ABBA', 'Jonas: Africa · Toto']);
      // And a new phone through the same URL lands on night 2 like anyone else.
      const ana = await night.open(await phoneContext(browser), 'guest Ana', joinUrl);
      await expectQueue(ana, 'guest', ['Maya: Dancing Queen · ABBA', 'Jonas: Africa · Toto']);
      assert.equal(await ana.locator('#rejoin').isVisible(), false);
      assert.equal(await ana.getByLabel('Your name').isVisible(), true);
    });

    assertQuietConsoles(night.watches);
  });

  it('the printable page: the QR image loads, the sheet of table cards fits, A4 and Letter print on one page each', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const session = await createSession(server.url, 'Karaoke at The Long Name Tavern');
    const page = await night.open(await phoneContext(browser), 'print', `${server.url}/print/${session.id}`);
    await page.locator('.poster-name').filter({ hasText: 'Karaoke at The Long Name Tavern' }).waitFor();
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('img[data-fill="qr"]')].every((img: any) => img.complete && img.naturalWidth > 0));
    const poster = page.locator('.poster-qr');
    assert.ok((await poster.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0, 'the poster QR image loaded');
    assert.equal(await page.locator('.poster-url').textContent(), `127.0.0.1:${server.port}/s/${session.id}`);
    assert.equal(await page.getByRole('button', { name: 'Print' }).isEnabled(), true);
    await assertNoOverflow(page, 'the print page');
    await assertTapTarget(page.getByRole('button', { name: 'Print' }), 'the Print button');

    await screenshot(page, 'print-poster');
    await page.getByText('8 table cards').tap();
    const cards = page.locator('.table-card');
    assert.equal(await cards.count(), 8);
    await cards.first().waitFor();
    for (const img of await page.locator('.card-qr').all()) {
      assert.ok((await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)) > 0, 'a card QR image loaded');
    }
    // Every card's text stays inside its card, at phone size and on paper.
    const clipped = await page.evaluate(`[...document.querySelectorAll('.table-card')].filter((c) => c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1).length`);
    assert.equal(clipped, 0, 'a table card clips its text on screen');
    await assertOnScreen(page.locator('#sheet'), 'the sheet preview', { scroll: true });
    await assertNoOverflow(page, 'the print page with cards');
    await assertTapTargets(page.locator('.print-controls'), 'the print controls');
    await screenshot(page, 'print-cards', 'print-cards');
    await at320(page, 'print-cards');

    await page.emulateMedia({ media: 'print' });
    const clippedOnPaper = await page.evaluate(`[...document.querySelectorAll('.table-card')].filter((c) => c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1).length`);
    assert.equal(clippedOnPaper, 0, 'a table card clips its text on paper');
    await page.emulateMedia({ media: null });
    for (const format of ['A4', 'Letter'] as const) {
      for (const layout of ['cards', 'poster']) {
        await page.locator(`input[name="layout"][value="${layout}"]`).check({ force: true });
        const pdf = await page.pdf({ format, printBackground: true });
        await mkdir(ARTIFACTS, { recursive: true });
        await writeFile(path.join(ARTIFACTS, `print-${layout}-${format}.pdf`), pdf);
        assert.equal(pdfPages(pdf), 1, `${layout} on ${format} prints on ${pdfPages(pdf)} pages`);
      }
    }
    assertQuietConsoles(night.watches);
  });
});
