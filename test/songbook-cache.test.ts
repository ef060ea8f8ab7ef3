import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SongbookCache } from '../server/songbook/cache.js';
import { SongIndex } from '../server/songbook/search.js';
import type { Song } from '../server/model/song.js';

const songbook = (name: string, count = 50): Song[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${name}${i}`, artist: `${name} Band`, title: `Song number ${i}` }));
const indexOf = (name: string) => SongIndex.build(songbook(name));
const bytesOf = (songs: Song[]) => SongIndex.build(songs).bytes;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SongbookCache', () => {
  it('concurrent gets for one session share a single load and the same index', async () => {
    let calls = 0;
    const cache = new SongbookCache({ budgetBytes: 10_000_000, load: async (id) => (calls++, indexOf(id)) });
    const [a, b] = await Promise.all([cache.get('S1'), cache.get('S1')]);
    const c = await cache.get('S1');
    assert.equal(calls, 1);
    assert.ok(a instanceof SongIndex);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.equal(a.search('number 7', 5).results[0]?.id, 'S17');
    assert.deepEqual(cache.stats, { loaded: 1, bytes: a.bytes, loads: 1, evictions: 0 });
  });

  it('a session without a songbook gives undefined and is asked again next time', async () => {
    let calls = 0;
    const cache = new SongbookCache({ budgetBytes: 10_000_000, load: async () => (calls++, undefined) });
    assert.equal(await cache.get('S1'), undefined);
    assert.equal(await cache.get('S1'), undefined);
    assert.equal(calls, 2);
    assert.equal(cache.stats.loaded, 0);
  });

  it('a failed load rejects its callers and is not cached', async () => {
    let fail = true;
    const cache = new SongbookCache({ budgetBytes: 10_000_000, load: async (id) => { if (fail) throw new Error('disk'); return indexOf(id); } });
    await assert.rejects(cache.get('S1'), /disk/);
    fail = false;
    assert.ok(await cache.get('S1'));
    assert.equal(cache.stats.loads, 2);
  });

  it('the least recently used index is evicted when the budget is passed', async () => {
    const one = bytesOf(songbook('A'));
    const cache = new SongbookCache({ budgetBytes: Math.floor(one * 2.5), load: async (id) => indexOf(id) });
    await cache.get('A');
    await cache.get('B');
    await cache.get('A'); // A is now more recent than B
    await cache.get('C'); // three do not fit: B goes
    assert.deepEqual(cache.stats, { loaded: 2, bytes: 2 * one, loads: 3, evictions: 1 });
    await cache.get('A');
    assert.equal(cache.stats.loads, 3, 'A stayed');
    await cache.get('B');
    assert.equal(cache.stats.loads, 4, 'B had to be loaded again');
    assert.equal(cache.stats.evictions, 2); // and pushed out C, the least recent then
  });

  it('an index bigger than the whole budget is still kept, alone', async () => {
    const cache = new SongbookCache({ budgetBytes: 1, load: async (id) => indexOf(id) });
    const a = await cache.get('A');
    assert.equal(await cache.get('A'), a);
    await cache.get('B');
    assert.equal(cache.stats.loaded, 1);
    assert.equal(cache.stats.evictions, 1);
  });

  it('invalidate during a load keeps the stale result out of the cache', async () => {
    const loads: { id: string; gate: ReturnType<typeof deferred<SongIndex>> }[] = [];
    const cache = new SongbookCache({
      budgetBytes: 10_000_000,
      load: (id) => {
        const gate = deferred<SongIndex>();
        loads.push({ id, gate });
        return gate.promise;
      },
    });
    const stale = cache.get('S1');
    await Promise.resolve();
    cache.invalidate('S1'); // a new upload lands while the old list is still being read
    const fresh = cache.get('S1');
    await Promise.resolve();
    assert.equal(loads.length, 2, 'the get after invalidate starts its own load');
    loads[1]!.gate.resolve(indexOf('New'));
    loads[0]!.gate.resolve(indexOf('Old'));
    const [oldIndex, newIndex] = await Promise.all([stale, fresh]);
    assert.equal(oldIndex?.search('old', 1).total, 50);
    assert.equal(newIndex?.search('new', 1).total, 50);
    const cached = await cache.get('S1');
    assert.equal(cached, newIndex);
    assert.equal(cache.stats.loaded, 1);
    assert.equal(cache.stats.bytes, newIndex!.bytes);
  });

  it('invalidate drops a cached index and the next get loads again', async () => {
    let calls = 0;
    const cache = new SongbookCache({ budgetBytes: 10_000_000, load: async (id) => (calls++, indexOf(id)) });
    await cache.get('S1');
    cache.invalidate('S1');
    assert.deepEqual(cache.stats, { loaded: 0, bytes: 0, loads: 1, evictions: 0 });
    await cache.get('S1');
    assert.equal(calls, 2);
  });
});
