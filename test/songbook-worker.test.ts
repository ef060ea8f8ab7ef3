import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSongbook, songbookCsv } from '../scripts/bench/songbook-data.js';
import { SongbookParseError } from '../server/songbook/parse.js';
import { SongbookWorker } from '../server/songbook/worker-client.js';
import { bearer, buildApp, createSession, listen, type TestApp } from './support/app.js';

const BIG = songbookCsv(generateSongbook(100_000));

function upload(url: string, id: string, key: string, body: string) {
  return fetch(`${url}/api/sessions/${id}/songbook`, { method: 'PUT', headers: { ...bearer(key), 'Content-Type': 'text/csv' }, body });
}

/** Runs `during` as soon as the worker is given a job of that kind; resolves the order things finished in. */
function whileWorking(app: TestApp, kind: 'parse' | 'index', during: () => Promise<void>): Promise<string[]> {
  const worker = app.songbookWorker;
  const original = worker[kind].bind(worker) as (...args: never[]) => Promise<unknown>;
  const order: string[] = [];
  return new Promise((resolve) => {
    (worker as unknown as Record<string, unknown>)[kind] = (...args: never[]) => {
      (worker as unknown as Record<string, unknown>)[kind] = original;
      const job = original(...args).finally(() => order.push(kind));
      const probe = during().then(() => order.push('probe'));
      void Promise.allSettled([job, probe]).then(() => resolve(order));
      return job;
    };
  });
}

describe('the songbook worker', () => {
  it('the server keeps answering while a 100,000-song songbook is uploaded and first searched', async (t) => {
    const app = await buildApp(t);
    const { url } = await listen(t, app);
    const s = await createSession(app.app);
    const probe = async () => {
      const res = await fetch(`${url}/api/sessions/${s.id}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    };

    const parsing = whileWorking(app, 'parse', probe);
    const put = await upload(url, s.id, s.hostKey, BIG);
    assert.equal(put.status, 200);
    assert.ok(((await put.json()) as { songs: number }).songs > 90_000); // the generator repeats a few songs
    assert.deepEqual(await parsing, ['probe', 'parse'], 'a GET sent as the parse began answered before it ended');

    const indexing = whileWorking(app, 'index', probe);
    const found = (await (await fetch(`${url}/api/sessions/${s.id}/songs?q=hey%20jude`)).json()) as { results: { title: string }[] };
    assert.equal(found.results[0]?.title, 'Hey Jude');
    assert.deepEqual(await indexing, ['probe', 'index'], 'a GET sent as the index build began answered before it ended');
  });

  it('a songbook worker that dies mid-upload fails that upload, and the next one starts a new worker', async (t) => {
    const app = await buildApp(t);
    const { url } = await listen(t, app);
    const s = await createSession(app.app);
    const killed = whileWorking(app, 'parse', () => app.songbookWorker.terminate());
    const failed = await upload(url, s.id, s.hostKey, BIG);
    assert.equal(failed.status, 500);
    assert.equal(((await failed.json()) as { error: { code: string } }).error.code, 'internal_error');
    await killed;
    assert.equal(app.songbookWorker.started, 1);

    const ok = await upload(url, s.id, s.hostKey, 'Artist,Title\nThe Beatles,Hey Jude\nQueen,Bohemian Rhapsody\n');
    assert.equal(ok.status, 200);
    assert.equal(app.songbookWorker.started, 2);
    await app.songbookWorker.terminate(); // idle this time: the search's index build starts a third
    const found = (await (await fetch(`${url}/api/sessions/${s.id}/songs?q=queen`)).json()) as { results: { title: string }[] };
    assert.equal(found.results[0]?.title, 'Bohemian Rhapsody');
    assert.equal(app.songbookWorker.started, 3);
  });

  it('a file the worker cannot read comes back as a SongbookParseError with its code and lines', async (t) => {
    const worker = new SongbookWorker();
    t.after(() => worker.close());
    const err = await worker.parse(new TextEncoder().encode('Artist,Duration\nQueen,3:00\n'), new Date().toISOString()).catch((e: unknown) => e);
    assert.ok(err instanceof SongbookParseError);
    assert.equal(err.code, 'missing_columns');
    assert.deepEqual(err.badLines, [{ line: 1, text: 'Artist,Duration' }]);
    await worker.close();
    await assert.rejects(worker.parse(new Uint8Array([65]), ''), /closed/);
  });
});
