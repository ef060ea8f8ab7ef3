import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { SseClient } from '../scripts/bench/sse-client.js';
import { sseFrame } from '../server/events.js';
import { nameField, RequestBody } from '../server/http/bodies.js';
import { MAX_STATE_BYTES, RECENT_HISTORY, type HistoryPage } from '../server/model/public-state.js';
import type { PastRequest, SongRequest, StoredSession, StoredSinger, UndoEntry } from '../server/model/session.js';
import { hashKey, newKey } from '../server/sessions/auth.js';
import { createSession as newSession } from '../server/sessions/queue.js';
import { publicStateBytes } from '../server/sessions/view.js';
import { bearer, buildApp, createSession, joinAs, listen, requestSong, type TestApp } from './support/app.js';

/** A night with `count` songs gone to history (every fourth one skipped), through the API. */
async function night(t: Parameters<typeof buildApp>[0], count: number) {
  const built = await buildApp(t);
  const s = await createSession(built.app);
  const singers = await Promise.all(['Ann', 'Ben', 'Cleo'].map((name) => joinAs(built.app, s.id, name)));
  await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ maxQueuedPerSinger: 20 }).expect(200);
  const titles: string[] = [];
  for (let i = 0; i < count + 1; i += 1) {
    titles.push(`Song ${i + 1}`);
    await requestSong(built.app, s.id, singers[i % 3]!.key, `Song ${i + 1}`);
  }
  // The first next starts song 1; each later one sends one song to history.
  for (let i = 0; i <= count; i += 1) {
    await request(built.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send(i > 0 && i % 4 === 0 ? { outcome: 'skipped' } : {}).expect(200);
  }
  return { built, s, titles: titles.slice(0, count) };
}

const page = async (built: TestApp, id: string, query: string) => (await request(built.app).get(`/api/sessions/${id}/history${query}`).expect(200)).body as HistoryPage;

describe('once the night is over, who sang is shown only to the night\'s singers and host', () => {
  it('requests closed and the last song sung: the state keeps the counts without the names, /history wants a key of the night, reopening shows them again', async (t) => {
    const { built, s, titles } = await night(t, 5);
    const dee = await joinAs(built.app, s.id, 'Dee');
    const stranger = async () => (await request(built.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ status: 'closed' }).expect(200);
    // Closed, but the last song is still being sung: the room still sees the night.
    let state = await stranger();
    assert.deepEqual([state.historyHidden, state.history.length, state.nowSinging?.title], [false, 5, 'Song 6']);

    const { url } = await listen(t, built);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    await client.next();
    await request(built.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}).expect(200);
    const frame = JSON.parse((await client.next())!.data);
    state = await stranger();
    for (const shown of [state, frame]) {
      assert.deepEqual([shown.historyHidden, shown.history, shown.historyCount, shown.sungCount, shown.nowSinging, shown.queue], [true, [], 6, 5, null, []]);
      assert.ok(!JSON.stringify(shown).includes('Song '), 'no title of the night in the state');
    }

    const history = (key?: string) => {
      const req = request(built.app).get(`/api/sessions/${s.id}/history`);
      return key ? req.set(bearer(key)) : req;
    };
    const refused = await history().expect(401);
    assert.equal(refused.body.error.code, 'unauthorized');
    await history('not-a-key-of-this-night').expect(401);
    const forGuest = (await history(dee.key).expect(200)).body as HistoryPage;
    assert.deepEqual(forGuest.history.map((r) => r.title), [...titles, 'Song 6']);
    const forHost = (await history(s.hostKey).expect(200)).body as HistoryPage;
    assert.equal(forHost.historyCount, 6);

    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ status: 'open' }).expect(200);
    state = await stranger();
    assert.deepEqual([state.historyHidden, state.history.length], [false, 6]);
    await history().expect(200);
  });
});

describe('the public state carries the newest songs of the night, and /history pages the rest', () => {
  it('GET, the host\'s answers and every SSE frame carry the newest 20 songs and the counts, not the whole night', async (t) => {
    const { built, s, titles } = await night(t, 30);
    const state = (await request(built.app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.historyCount, 30);
    assert.equal(state.sungCount, 30 - 7, 'songs 4, 8, …, 28 were skipped');
    assert.deepEqual(state.history.map((r: PastRequest) => r.title), titles.slice(-RECENT_HISTORY), 'the newest 20, oldest first');

    const { url } = await listen(t, built);
    const client = new SseClient(`${url}/api/sessions/${s.id}/events`);
    t.after(() => client.close());
    const first = JSON.parse((await client.next())!.data);
    assert.equal(first.history.length, RECENT_HISTORY);
    assert.equal(first.historyCount, 30);
    const answer = (await request(built.app).post(`/api/sessions/${s.id}/next`).set(bearer(s.hostKey)).send({}).expect(200)).body;
    assert.equal(answer.historyCount, 31);
    assert.equal(answer.history.length, RECENT_HISTORY);
    assert.equal(answer.history.at(-1).title, 'Song 31');
    const frame = JSON.parse((await client.next())!.data);
    assert.deepEqual([frame.historyCount, frame.history.length, frame.history.at(-1).title], [31, RECENT_HISTORY, 'Song 31']);
  });

  it('GET /history pages back through the whole night, oldest first, to anyone with the code', async (t) => {
    const { built, s, titles } = await night(t, 45);
    const newest = await page(built, s.id, '?limit=20');
    assert.deepEqual(newest.history.map((r) => r.title), titles.slice(25));
    assert.deepEqual([newest.night, newest.historyCount, newest.start, newest.nextBefore], [1, 45, 25, 25]);

    const seen = [...newest.history];
    for (let before = newest.nextBefore; before !== null; ) {
      const older = await page(built, s.id, `?before=${before}&limit=20`);
      seen.unshift(...older.history);
      before = older.nextBefore;
    }
    assert.deepEqual(seen.map((r) => r.title), titles, 'every song once, in order');
    assert.deepEqual(seen.map((r) => r.outcome).filter((o) => o === 'skipped').length, 11);

    const all = await page(built, s.id, '');
    assert.deepEqual([all.history.length, all.start, all.nextBefore], [45, 0, null], 'the default page is 50');
    const past = await page(built, s.id, '?before=9999&limit=5');
    assert.deepEqual(past.history.map((r) => r.title), titles.slice(40), 'a `before` past the end reads as the end');
    const none = await page(built, s.id, '?before=0');
    assert.deepEqual([none.history, none.nextBefore], [[], null]);
  });

  it('GET /history answers 400 invalid_input naming before or limit, and 404 for an unknown code', async (t) => {
    const built = await buildApp(t);
    const s = await createSession(built.app);
    const cases: [string, string][] = [
      ['?before=-1', 'before'],
      ['?before=1.5', 'before'],
      ['?before=abc', 'before'],
      ['?before=1&before=2', 'before'],
      ['?before=99999999', 'before'],
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=', 'limit'],
    ];
    for (const [query, field] of cases) {
      const res = await request(built.app).get(`/api/sessions/${s.id}/history${query}`).expect(400);
      assert.equal(res.body.error.code, 'invalid_input', query);
      assert.equal(res.body.error.field, field, query);
    }
    const unknown = await request(built.app).get(`/api/sessions/${s.id}/history?page=2`).expect(400);
    assert.match(unknown.body.error.message, /unknown field page/);
    const missing = await request(built.app).get('/api/sessions/ZZZZZZ/history').expect(404);
    assert.equal(missing.body.error.code, 'session_not_found');
    const fresh = await page(built, s.id, '?limit=100');
    assert.deepEqual([fresh.historyCount, fresh.history, fresh.nextBefore], [0, [], null]);
  });

  it('a new night starts its history empty, and /history says which night it pages', async (t) => {
    const { built, s } = await night(t, 3);
    await request(built.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    const fresh = await page(built, s.id, '');
    assert.deepEqual([fresh.night, fresh.historyCount, fresh.history.length], [2, 0, 0]);
  });
});

// The caps of the limits issue: 300 singers a night, 200 songs queued, the whole night's history
// kept up to 1,000 songs. Built as plain data, every text field as long as validation lets it be
// and made of the characters that cost the most bytes in JSON among those it accepts.
const SINGERS = 300;
const QUEUED = 200;
const HISTORY = 1000;
const ORIGIN = `https://${'k'.repeat(80)}.example`; // a PUBLIC_URL of 100 characters

/** The costliest text of `length` UTF-16 units the check accepts: lone surrogates (6 bytes each as JSON), CJK (3), quotes (2), ASCII. */
function costliest(length: number, accepts: (s: string) => boolean, prefix = ''): string {
  for (const c of ['\ud800', '美', '"', 'x']) {
    const text = prefix + c.repeat(length - prefix.length);
    if (accepts(text)) return text;
  }
  throw new Error('no candidate accepted');
}

function worstCaseSession(): StoredSession {
  const name = costliest(40, (s) => nameField.safeParse(s).success);
  const title = costliest(120, (s) => RequestBody.safeParse({ title: s }).success);
  const artist = costliest(80, (s) => RequestBody.safeParse({ title: 'x', artist: s }).success);
  const link = costliest(500, (s) => RequestBody.safeParse({ title: 'x', link: s }).success, 'https://e.example/');
  const at = '2026-12-01T20:00:00.000Z';
  const singers: StoredSinger[] = Array.from({ length: SINGERS }, (_, i) => ({ id: `singer${String(i).padStart(5, '0')}`, name, keyHash: hashKey(newKey()), createdAt: at }));
  const song = (i: number): SongRequest => ({
    id: `request${String(i).padStart(5, '0')}`,
    singer: { id: singers[i % SINGERS]!.id, name },
    title,
    artist,
    link,
    createdAt: at,
    songId: 'S'.repeat(64),
    inSongbook: false,
    pinned: true,
  });
  const past = (i: number): PastRequest => ({ ...song(i), startedAt: at, endedAt: at, outcome: 'sung' });
  const undo: UndoEntry[] = Array.from({ length: 20 }, (_, i) => ({ label: `remove “${title}”`, at, by: null, action: { kind: 'cancel', request: song(i), index: i } }));
  const base = newSession({ id: 'WWWWWW', name, hostKeyHash: hashKey(newKey()), origin: ORIGIN, now: new Date(at) });
  return {
    ...base,
    singers,
    queue: Array.from({ length: QUEUED }, (_, i) => song(HISTORY + 1 + i)),
    nowSinging: { ...song(HISTORY), startedAt: at },
    history: Array.from({ length: HISTORY }, (_, i) => past(i)),
    songbook: { songs: 100_000, updatedAt: at },
    maxQueuedPerSinger: 20,
    endsAt: at,
    undo,
    version: 123_456_789,
  };
}

describe('no state frame is larger than MAX_STATE_BYTES', () => {
  it('a session filled to the caps with the costliest text validation accepts stays under the bound, over GET and SSE', async (t) => {
    const session = worstCaseSession();
    const now = Date.parse('2026-12-01T20:10:00.000Z');
    const bytes = publicStateBytes(session, ORIGIN, now);
    const frame = sseFrame('state', session.version, bytes);
    t.diagnostic(`worst-case state ${bytes.length} bytes, SSE frame ${frame.length} bytes, bound ${MAX_STATE_BYTES}`);
    assert.ok(frame.length <= MAX_STATE_BYTES, `the frame is ${frame.length} bytes, over ${MAX_STATE_BYTES}`);
    const state = JSON.parse(bytes.toString('utf8'));
    assert.deepEqual([state.queue.length, state.history.length, state.historyCount, state.singerCount], [QUEUED, RECENT_HISTORY, HISTORY, SINGERS]);

    // The same bytes through the real routes: the store holds it, GET and the first frame send it.
    const built = await buildApp(t, { config: { publicUrl: ORIGIN } });
    await built.store.put(session);
    const res = await request(built.app).get(`/api/sessions/${session.id}`).expect(200);
    assert.ok(Number(res.headers['content-length']) <= MAX_STATE_BYTES);
    assert.equal(res.body.historyCount, HISTORY);
    const { url } = await listen(t, built);
    const client = new SseClient(`${url}/api/sessions/${session.id}/events`);
    t.after(() => client.close());
    const first = (await client.next())!;
    assert.ok(Buffer.byteLength(first.data) <= MAX_STATE_BYTES);
    assert.equal(JSON.parse(first.data).history.length, RECENT_HISTORY);
  });
});
