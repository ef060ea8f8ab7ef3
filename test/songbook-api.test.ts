import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, reopen, type TestApp } from './support/app.js';
import { fixturePath } from './support/ops.js';

const LIST = [
  'Artist,Title,Disc ID',
  'The Rolling Stones,Paint It Black,RS-01',
  'Queen,Bohemian Rhapsody,QN-01',
  'Björk,Army of Me,BJ-01',
  'Céline Dion,My Heart Will Go On,CD-01',
  "Guns N' Roses,Sweet Child O' Mine,GR-01",
  'The Beatles,Hey Jude,BT-01',
  'Queen,Bohemian Rhapsody,QN-02',
  ',No Artist Here,XX-01',
].join('\r\n');

function upload(app: TestApp['app'], id: string, key: string, body: string | Buffer, type = 'text/csv') {
  return request(app).put(`/api/sessions/${id}/songbook`).set(bearer(key)).set('Content-Type', type).send(body);
}

const search = async (app: TestApp['app'], id: string, q: string) =>
  (await request(app).get(`/api/sessions/${id}/songs`).query({ q }).expect(200)).body as { results: { id: string; artist: string; title: string }[]; total: number };

describe('the songbook API', () => {
  it('PUT /api/sessions/:id/songbook reads the list, keeps duplicates once and reports skipped rows by line', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    const res = await upload(app, s.id, s.hostKey, LIST).expect(200);
    assert.equal(res.body.songs, 6);
    assert.equal(res.body.format, 'csv');
    assert.equal(res.body.skippedCount, 1);
    assert.equal(res.body.skipped[0].line, 9);

    const state = (await request(app).get(`/api/sessions/${s.id}`).expect(200)).body;
    assert.equal(state.songbook.songs, 6);
    const book = (await request(app).get(`/api/sessions/${s.id}/songbook`).expect(200)).body;
    assert.equal(book.songs.length, 6);
    assert.equal(book.updatedAt, state.songbook.updatedAt);
  });

  it('GET /api/sessions/:id/songs finds words in any order, without accents, with a typo, as a prefix', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    await upload(app, s.id, s.hostKey, LIST).expect(200);
    assert.equal((await search(app, s.id, 'stones paint')).results[0]?.title, 'Paint It Black');
    assert.equal((await search(app, s.id, 'bjork')).results[0]?.artist, 'Björk');
    assert.equal((await search(app, s.id, 'celine')).results[0]?.artist, 'Céline Dion');
    assert.equal((await search(app, s.id, 'bohemain')).results[0]?.title, 'Bohemian Rhapsody');
    assert.equal((await search(app, s.id, 'guns n roses')).results[0]?.artist, "Guns N' Roses");
    assert.equal((await search(app, s.id, 'hey ju')).results[0]?.title, 'Hey Jude');
    const none = await search(app, s.id, 'zzzz qqqq');
    assert.deepEqual(none, { results: [], total: 0 });
    await request(app).get(`/api/sessions/${s.id}/songs`).query({ q: 'a', limit: 51 }).expect(400);
  });

  it('POST /api/sessions/:id/requests takes a songId, and flags free text the songbook does not hold', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    await upload(app, s.id, s.hostKey, LIST).expect(200);
    const guest = await joinAs(app, s.id, 'Ann');
    const song = (await search(app, s.id, 'hey jude')).results[0]!;
    const picked = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ songId: song.id }).expect(201);
    assert.equal(picked.body.request.title, 'Hey Jude');
    assert.equal(picked.body.request.artist, 'The Beatles');
    assert.equal(picked.body.request.songId, song.id);
    // The duplicate guard treats a songbook pick like any other request.
    const again = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ title: 'hey  jude', artist: 'the beatles' });
    assert.equal(again.body.error.code, 'duplicate_request');

    const typed = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ title: 'My Own Song' }).expect(201);
    assert.equal(typed.body.request.inSongbook, false);
    const unknown = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ songId: 'nope' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'song_not_found');
    const both = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ songId: song.id, title: 'x' });
    assert.equal(both.body.error.code, 'invalid_input');
    assert.equal(both.body.error.field, 'title');

    await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ requests: 'songbook' }).expect(200);
    const refused = await request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(guest.key)).send({ title: 'Another Own Song' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'not_in_songbook');
  });

  it('the songbook formats of the common host programs load as they come', async () => {
    // KaraFun's semicolon export with its own header; OpenKJ's; a spreadsheet's; Windows-1252; UTF-16.
    const cases: [string, string, string][] = [
      ['karafun.csv', 'text/csv', 'csv-semicolon'],
      ['openkj.csv', 'text/csv', 'csv-headerless'],
      ['excel-semicolon.csv', 'text/csv', 'csv-semicolon'],
      ['windows-1252.csv', 'text/csv', 'csv'],
      ['songs.tsv', 'text/tab-separated-values', 'tsv'],
      ['lines.txt', 'text/plain', 'lines'],
    ];
    for (const [file, type, format] of cases) {
      await it(file, async (t) => {
        const { app } = await buildApp(t);
        const s = await createSession(app);
        const res = await upload(app, s.id, s.hostKey, await readFile(fixturePath(`songbooks/${file}`)), type).expect(200);
        assert.equal(res.body.format, format, file);
        assert.ok(res.body.songs > 0, file);
      });
    }
  });

  it('a songbook upload that cannot be used answers clearly and leaves the previous songbook as it was', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    await upload(app, s.id, s.hostKey, LIST).expect(200);
    const before = (await request(app).get(`/api/sessions/${s.id}/songbook`).expect(200)).body;

    const empty = await upload(app, s.id, s.hostKey, '');
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'invalid_songbook');
    const junk = await upload(app, s.id, s.hostKey, await readFile(fixturePath('songbooks/junk.bin')));
    assert.equal(junk.body.error.code, 'invalid_songbook');
    assert.match(junk.body.error.message, /text file/);
    const noColumns = await upload(app, s.id, s.hostKey, await readFile(fixturePath('songbooks/no-columns.csv')));
    assert.equal(noColumns.body.error.code, 'invalid_songbook');
    assert.match(noColumns.body.error.message, /title/i);
    const huge = await upload(app, s.id, s.hostKey, Buffer.alloc(25 * 1024 * 1024, 'a,b\n'));
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    const json = await upload(app, s.id, s.hostKey, '{"songs":[]}', 'application/json');
    assert.equal(json.status, 415);
    const guest = await joinAs(app, s.id, 'Ann');
    assert.equal((await upload(app, s.id, guest.key, LIST)).status, 403);
    assert.equal((await request(app).put(`/api/sessions/${s.id}/songbook`).set('Content-Type', 'text/csv').send(LIST)).status, 401);

    assert.deepEqual((await request(app).get(`/api/sessions/${s.id}/songbook`).expect(200)).body, before);
  });

  it('DELETE /api/sessions/:id/songbook removes it; search then answers songbook_not_found', async (t) => {
    const { app } = await buildApp(t);
    const s = await createSession(app);
    await upload(app, s.id, s.hostKey, LIST).expect(200);
    await request(app).delete(`/api/sessions/${s.id}/songbook`).set(bearer(s.hostKey)).expect(204);
    const res = await request(app).get(`/api/sessions/${s.id}/songs`).query({ q: 'queen' });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'songbook_not_found');
    assert.equal((await request(app).get(`/api/sessions/${s.id}`).expect(200)).body.songbook, null);
  });

  it('a songbook survives a restart, and is removed with its session', async (t) => {
    const first = await buildApp(t);
    const s = await createSession(first.app);
    await upload(first.app, s.id, s.hostKey, LIST).expect(200);
    await first.close();
    const second = await reopen(t, first);
    assert.equal((await search(second.app, s.id, 'paint black')).results[0]?.title, 'Paint It Black');
    await request(second.app).delete(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).expect(204);
    assert.equal(await second.store.songbooks.get(s.id), undefined);
  });
});
