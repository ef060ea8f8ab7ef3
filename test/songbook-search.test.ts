import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSongbook } from '../scripts/bench/songbook-data.js';
import { fold, MAX_QUERY_WORDS, SongIndex, words } from '../server/songbook/search.js';
import type { Song } from '../server/model/song.js';

const list: Song[] = [
  ['The Rolling Stones', 'Paint It Black'],
  ['The Beatles', 'Hello, Goodbye'],
  ['The Beatles', 'Hey Jude'],
  ['Adele', 'Hello'],
  ['Queen', 'Bohemian Rhapsody'],
  ['Björk', 'Army of Me'],
  ['Céline Dion', 'My Heart Will Go On'],
  ['КИНО', 'ГРУППА КРОВИ'],
  ['ΣΑΚΗΣ ΡΟΥΒΑΣ', 'ΣΗΚΩΣΟΥ'],
  ['Άννα Βίσση', 'Δώδεκα'],
  ["Guns N' Roses", "Sweet Child O' Mine"],
  ['AC/DC', 'Highway to Hell'],
  ['Journey', "Don't Stop Believin'"],
  ['Simon & Garfunkel', 'The Sound of Silence'],
  ['Black Sabbath', 'Paranoid'],
  ['Painters', 'Blackbird'],
].map(([artist, title], i) => ({ id: `s${i}`, artist: artist!, title: title! }));
const index = SongIndex.build(list);

const found = (q: string, limit = 20) => index.search(q, limit).results.map((s) => `${s.artist} - ${s.title}`);
const finds = (q: string, expected: string) => assert.ok(found(q).includes(expected), `"${q}" should find ${expected}, got ${JSON.stringify(found(q))}`);

describe('SongIndex search', () => {
  it('every word must match artist or title, in any order', () => {
    finds('stones paint', 'The Rolling Stones - Paint It Black');
    finds('paint stones', 'The Rolling Stones - Paint It Black');
    assert.deepEqual(found('stones jude'), []);
    assert.equal(index.search('beatles', 20).total, 2);
  });

  it('case and accents do not matter in Latin, Cyrillic and Greek', () => {
    finds('bjork', 'Björk - Army of Me');
    finds('BJÖRK', 'Björk - Army of Me');
    finds('celine', 'Céline Dion - My Heart Will Go On');
    finds('кино', 'КИНО - ГРУППА КРОВИ');
    finds('группа крови', 'КИНО - ГРУППА КРОВИ');
    finds('σακη', 'ΣΑΚΗΣ ΡΟΥΒΑΣ - ΣΗΚΩΣΟΥ');
    finds('σακης', 'ΣΑΚΗΣ ΡΟΥΒΑΣ - ΣΗΚΩΣΟΥ'); // final sigma typed as ς
    finds('αννα δωδεκα', 'Άννα Βίσση - Δώδεκα'); // tonos
    assert.equal(fold('ΣΑΚΗΣ'), 'σακησ');
  });

  it('the last word, and any other word, matches as a prefix', () => {
    finds('bohemian rhap', 'Queen - Bohemian Rhapsody');
    finds('bohe rhapsody', 'Queen - Bohemian Rhapsody');
    finds('qu', 'Queen - Bohemian Rhapsody');
    assert.deepEqual(found('aranoid'), [], 'inside a word is not a prefix, not even with a typo');
  });

  it('a word of four or more letters may carry one typo of any kind', () => {
    finds('beatels', 'The Beatles - Hey Jude'); // transposition
    finds('bohemain', 'Queen - Bohemian Rhapsody'); // transposition
    finds('beatlez', 'The Beatles - Hey Jude'); // substitution
    finds('beatls', 'The Beatles - Hey Jude'); // deletion
    finds('beattles', 'The Beatles - Hey Jude'); // insertion
    finds('bohemain rhapsdy', 'Queen - Bohemian Rhapsody'); // one typo in each word
  });

  it('words under four letters and words with two typos must be typed right', () => {
    finds('qeen', 'Queen - Bohemian Rhapsody'); // four letters: one typo allowed...
    assert.deepEqual(found('qen'), []); // ...three letters: none
    assert.deepEqual(found('hye'), []);
    assert.deepEqual(found('beetels'), []); // two errors
  });

  it('punctuation and "the" do not get in the way', () => {
    finds('guns n roses', "Guns N' Roses - Sweet Child O' Mine");
    finds("guns n' roses", "Guns N' Roses - Sweet Child O' Mine");
    finds('the beatles', 'The Beatles - Hey Jude');
    finds('beatles', 'The Beatles - Hey Jude');
    finds('acdc', 'AC/DC - Highway to Hell');
    finds('ac dc', 'AC/DC - Highway to Hell');
    finds('dont stop', "Journey - Don't Stop Believin'");
    finds('simon and garfunkel', 'Simon & Garfunkel - The Sound of Silence');
    finds('sound silence', 'Simon & Garfunkel - The Sound of Silence');
  });

  it('whole words rank before prefixes and prefixes before typos', () => {
    // "black" is a whole word in Paint It Black and Black Sabbath, a prefix of Blackbird.
    const black = found('black');
    assert.deepEqual(black.slice(-1), ['Painters - Blackbird']);
    assert.equal(black.length, 3);
    // "paint" is whole in Paint It Black, a prefix of Painters; "paimt" is a typo of both.
    assert.deepEqual(found('paint'), ['The Rolling Stones - Paint It Black', 'Painters - Blackbird']);
    const prefixVsTypo = SongIndex.build([
      { id: 'typo', artist: 'Hallo', title: 'Welt' },
      { id: 'prefix', artist: 'Hellomania', title: 'Welt' },
    ]);
    assert.deepEqual(prefixVsTypo.search('hello', 5).results.map((s) => s.id), ['prefix', 'typo']);
  });

  it('shorter, closer titles rank first', () => {
    assert.deepEqual(found('hello').slice(0, 2), ['Adele - Hello', 'The Beatles - Hello, Goodbye']);
  });

  it('an empty, blank or one-letter query finds nothing', () => {
    assert.deepEqual(index.search('', 20), { results: [], total: 0 });
    assert.deepEqual(index.search('   \t ', 20), { results: [], total: 0 });
    assert.deepEqual(index.search('!?/', 20), { results: [], total: 0 });
    assert.deepEqual(index.search('b', 20), { results: [], total: 0 });
    assert.deepEqual(index.search('b q', 20), { results: [], total: 0 });
    assert.ok(index.search('be', 20).total > 0);
  });

  it('long queries are capped in characters and words', () => {
    assert.deepEqual(found(`queen ${'x'.repeat(200)}`), []); // the long word still has to match
    assert.deepEqual(found(`bohemian${' '.repeat(100)}zzz`), ['Queen - Bohemian Rhapsody']); // past 100 chars
    const many = Array.from({ length: MAX_QUERY_WORDS }, () => 'queen').map((w, i) => w + 'x'.repeat(i)).join(' ');
    assert.doesNotThrow(() => index.search(`${many} more words beyond the cap`, 20));
  });

  it('limit bounds the results but total counts every match', () => {
    const r = index.search('the', 1);
    assert.equal(r.results.length, 1);
    assert.ok(r.total >= 4);
    assert.deepEqual(index.search('beatles', 0), { results: [], total: 2 });
  });

  it('a 100,000-song generated songbook answers the same matches as a plain scan', () => {
    const songs = generateSongbook(100_000);
    const big = SongIndex.build(songs);
    assert.equal(big.size, 100_000);
    assert.ok(big.bytes > 1_000_000);
    const wordsOf = songs.map((s) => [...words(s.artist, true).base, ...words(s.title, true).base, ...words(s.artist, true).compounds, ...words(s.title, true).compounds]);
    // Words under four letters get no typo allowance, so a scan for "every word is a prefix" is exact.
    for (const q of ['lov', 'bab nig', 'the bea', 'лю', 'αγ', 'ac dc', 'sun moo go']) {
      const terms = words(q, false).base.filter((w) => w !== 'the');
      const expected = songs.filter((_, i) => terms.every((t) => wordsOf[i]!.some((w) => w.startsWith(t)))).map((s) => s.id);
      const got = big.search(q, songs.length);
      assert.equal(got.total, expected.length, q);
      assert.deepEqual(new Set(got.results.map((s) => s.id)), new Set(expected), q);
    }
    // Any song is found by a word of its artist and a word of its title, one of them misspelt.
    for (let i = 0; i < songs.length; i += 997) {
      const song = songs[i]!;
      const artist = words(song.artist, false).base.filter((w) => w !== 'the').sort((a, b) => b.length - a.length)[0];
      const title = words(song.title, false).base.sort((a, b) => b.length - a.length)[0];
      if (!artist || !title) continue;
      const typo = title.length >= 5 ? title.slice(0, 1) + title.slice(2, 3) + title.slice(1, 2) + title.slice(3) : title;
      const got = big.search(`${typo} ${artist}`, songs.length).results;
      assert.ok(got.some((s) => s.id === song.id), `"${typo} ${artist}" should find ${song.artist} - ${song.title}`);
    }
  });

  it('SongIndex.fromParts adopts a structured clone of toParts and answers like the original', () => {
    const songs = generateSongbook(2_000);
    const built = SongIndex.build(songs);
    const adopted = SongIndex.fromParts(structuredClone(built.toParts()));
    assert.equal(adopted.size, built.size);
    assert.equal(adopted.bytes, built.bytes);
    for (const q of ['hello', 'beatles jude', 'bohemain', 'лю', 'ac dc']) assert.deepEqual(adopted.search(q, 20), built.search(q, 20), q);
    for (const song of [songs[0]!, songs[777]!, songs[1_999]!]) assert.deepEqual(adopted.find(song.id), song);
    assert.equal(adopted.find('no-such-id'), undefined);
  });
});
