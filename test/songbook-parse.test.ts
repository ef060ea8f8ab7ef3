import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSongbook, SongbookParseError, type ParsedSongbook, type SongbookErrorCode } from '../server/songbook/parse.js';

/** test/fixtures/songbooks, read from the source tree (fixtures are not compiled). */
const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/songbooks/${name}`, import.meta.url)));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const utf16le = (text: string): Buffer => Buffer.from(`\ufeff${text}`, 'utf16le');
const utf16be = (text: string): Buffer => utf16le(text).swap16();
const pairs = (book: ParsedSongbook): string[] => book.songs.map((s) => `${s.artist} | ${s.title}`);
const ID = /^[A-Za-z0-9_-]{1,64}$/;

function refusal(bytes: Uint8Array, code: SongbookErrorCode, options?: { maxSongs?: number }): SongbookParseError {
  try {
    parseSongbook(bytes, options);
  } catch (err) {
    assert.ok(err instanceof SongbookParseError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a SongbookParseError (${code})`);
}

describe('parseSongbook', () => {
  it("parseSongbook reads OpenKJ's database export: no header, quoted artist, title, disc id and path", () => {
    const book = parseSongbook(fixture('openkj.csv'));
    assert.equal(book.format, 'csv-headerless');
    assert.equal(book.encoding, 'utf-8');
    assert.deepEqual(book.songs, [
      { id: 'SC8125-05', artist: 'ABBA', title: 'Dancing Queen' },
      // OpenKJ does not escape quotes inside a quoted cell.
      { id: 'PR0001-01', artist: 'Prince', title: 'Purple Rain (12" Version)' },
      // "ZM 1234.05" is not a valid id: made into one, still recognisable.
      { id: 'ZM-1234-05', artist: 'Queen', title: 'Bohemian Rhapsody' },
      // SC8125-05 is taken by Dancing Queen, so this one gets a generated id.
      { id: book.songs[3]!.id, artist: 'Whitney Houston', title: 'I Will Always Love You' },
    ]);
    assert.notEqual(book.songs[3]!.id, 'SC8125-05');
    assert.match(book.songs[3]!.id, ID);
    // The second Bohemian Rhapsody (another disc) is a duplicate: dropped, not reported.
    assert.deepEqual(book.skipped, [{ line: 6, reason: 'no artist' }]);
    assert.equal(book.skippedCount, 1);
  });

  it('parseSongbook reads a header of Artist, Title, DiscId, Duration and path in any order and case', () => {
    const csv = 'path,DISCID,title,Artist,Duration\n' +
      '/k/a.zip,SC1-01,Dancing Queen,ABBA,231000\n' +
      '/k/b.zip,SC1-02,Africa,Toto,4:55\n' +
      '/k/c.zip,SC1-03,Hello,Adele,not known\n';
    const book = parseSongbook(utf8(csv));
    assert.equal(book.format, 'csv');
    assert.deepEqual(book.songs, [
      { id: 'SC1-01', artist: 'ABBA', title: 'Dancing Queen', duration: 231 }, // milliseconds, as OpenKJ keeps them
      { id: 'SC1-02', artist: 'Toto', title: 'Africa', duration: 295 },
      { id: 'SC1-03', artist: 'Adele', title: 'Hello' },
    ]);
  });

  it("parseSongbook reads KaraFun's semicolon export with its own header", () => {
    const book = parseSongbook(fixture('karafun.csv'));
    assert.equal(book.format, 'csv-semicolon');
    assert.equal(book.encoding, 'utf-8');
    assert.equal(book.skippedCount, 0);
    assert.deepEqual(book.songs[0], { id: '49375', artist: 'Chris Stapleton', title: 'Tennessee Whiskey', language: 'English' });
    assert.deepEqual(book.songs[2], { id: '70001', artist: 'Alejandro Sanz', title: 'Corazón; partío', language: 'Spanish' });
    assert.deepEqual(book.songs.map((s) => s.id), ['49375', '56442', '70001', '12617', '22011']);
  });

  it('parseSongbook reads an Excel semicolon CSV with a BOM, CRLF and quoted commas, quotes and line breaks', () => {
    const book = parseSongbook(fixture('excel-semicolon.csv'));
    assert.equal(book.format, 'csv-semicolon');
    assert.deepEqual(pairs(book), [
      'Earth, Wind & Fire | September',
      'Simon & Garfunkel | The Sound of Silence',
      '"Weird Al" Yankovic | White & Nerdy',
      'Queen | Bohemian Rhapsody (Live at Wembley)',
      'Rammstein | Du hast',
    ]);
    assert.deepEqual(book.songs.map((s) => s.duration), [215, 185, 170, 355, 234]);
    assert.equal(book.songs[0]!.language, 'English');
    // The all-empty ";;;;" row is not reported; the row without a title is, with its own line number.
    assert.deepEqual(book.skipped, [{ line: 8, reason: 'no title' }]);
  });

  it('parseSongbook recognises header names in other words and languages', () => {
    const german = parseSongbook(utf8('Interpret;Titel;Dauer;Sprache\nNena;99 Luftballons;3:52;Deutsch\n'));
    assert.deepEqual(german.songs, [{ id: german.songs[0]!.id, artist: 'Nena', title: '99 Luftballons', duration: 232, language: 'Deutsch' }]);
    const variants = parseSongbook(utf8('"SONG TITLE","Artist Name","Song ID","Languages"\n"Toxic","Britney Spears","BS-1","English"\n'));
    assert.deepEqual(variants.songs, [{ id: 'BS-1', artist: 'Britney Spears', title: 'Toxic', language: 'English' }]);
  });

  it('parseSongbook reads a tab-separated file with its columns in another order', () => {
    const book = parseSongbook(fixture('songs.tsv'));
    assert.equal(book.format, 'tsv');
    assert.deepEqual(pairs(book), ['Oasis | Wonderwall', 'Ritchie Valens | La Bamba', 'The Beatles | Hello, Goodbye', 'Britney Spears | Toxic']);
    assert.deepEqual(book.songs.map((s) => s.duration), [258, 124, 207, undefined]);
  });

  it('parseSongbook reads "Artist - Title" lines, with hyphen, en dash or em dash', () => {
    const book = parseSongbook(fixture('lines.txt'));
    assert.equal(book.format, 'lines');
    assert.deepEqual(pairs(book), [
      'ABBA | Dancing Queen',
      'AC/DC | Back In Black',
      'Earth, Wind & Fire | September',
      'Céline Dion | My Heart Will Go On',
      'Jay-Z | 99 Problems',
      'The Killers | Mr. Brightside - Live', // split on the first dash only
    ]);
    // "celine dion - my heart will go on" is the same song as line 5: kept once.
    assert.deepEqual(book.skipped, [{ line: 7, reason: 'not "Artist - Title"' }]);
  });

  it('parseSongbook reads a headerless two-column CSV as artist, title', () => {
    const book = parseSongbook(fixture('headerless.csv'));
    assert.equal(book.format, 'csv-headerless');
    assert.deepEqual(pairs(book), [
      'Queen | Bohemian Rhapsody',
      'Earth, Wind & Fire | September',
      "Oasis | Don't Look Back in Anger",
      'Toto | Africa',
    ]);
  });

  it('parseSongbook reads Windows-1252 when the bytes are not UTF-8', () => {
    const book = parseSongbook(fixture('windows-1252.csv'));
    assert.equal(book.encoding, 'windows-1252');
    assert.deepEqual(pairs(book), [
      'Björk | Army of Me',
      'Céline Dion | My Heart Will Go On',
      'Mötley Crüe | Dr. Feelgood',
      'Queen | Don’t Stop Me Now', // 0x92, where Windows-1252 and Latin-1 differ
      'Françoise Hardy | Tous les garçons et les filles',
    ]);
  });

  it('parseSongbook reads UTF-16 LE and BE with a BOM, and UTF-8 with or without one, alike', () => {
    const text = fixture('karafun.csv').toString('utf8').replace(/^\ufeff/, '');
    const expected = parseSongbook(fixture('karafun.csv')).songs;
    for (const [bytes, encoding] of [[utf16le(text), 'utf-16le'], [utf16be(text), 'utf-16be'], [utf8(text), 'utf-8']] as const) {
      const book = parseSongbook(bytes);
      assert.equal(book.encoding, encoding);
      assert.deepEqual(book.songs, expected);
    }
  });

  it('parseSongbook refuses binary junk as not a text file', () => {
    assert.match(refusal(fixture('junk.bin'), 'not_text').message, /^This does not look like a text file/);
    const controls = Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? 0x01 + (i % 7) : 0x41 + (i % 26))));
    refusal(controls, 'not_text');
    const workbook = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.alloc(100)]);
    assert.match(refusal(workbook, 'not_text').message, /save it as CSV/);
  });

  it('parseSongbook refuses an empty file', () => {
    for (const bytes of [new Uint8Array(0), utf8('\ufeff'), utf8('\r\n  \n\t\n')]) {
      assert.match(refusal(bytes, 'empty').message, /empty/);
    }
  });

  it('parseSongbook refuses a header without artist and title, naming the columns it found and needs', () => {
    const err = refusal(fixture('no-columns.csv'), 'missing_columns');
    for (const name of ['"Album"', '"Year"', '"Genre"', '"Rating"', 'artist', 'title']) assert.ok(err.message.includes(name), err.message);
    assert.deepEqual(err.badLines, [{ line: 1, text: 'Album,Year,Genre,Rating' }]);
    const onlyArtist = refusal(utf8('Artist;Year;Genre\nQueen;1975;Rock\n'), 'missing_columns');
    assert.match(onlyArtist.message, /but no title column/);
  });

  it('parseSongbook reports skipped rows with their line numbers, the first 50 of them, and counts them all', () => {
    const rows = ['Artist,Title'];
    for (let i = 0; i < 130; i++) rows.push(i % 2 === 0 ? `Singer ${i},` : `Singer ${i},Song ${i}`);
    rows.push('"Queen","Bohemian', 'Rhapsody"', ',Lonely title');
    const book = parseSongbook(utf8(rows.join('\r\n')));
    assert.equal(book.songs.length, 66);
    assert.equal(book.skippedCount, 66);
    assert.equal(book.skipped.length, 50);
    assert.deepEqual(book.skipped.slice(0, 3), [
      { line: 2, reason: 'no title' },
      { line: 4, reason: 'no title' },
      { line: 6, reason: 'no title' },
    ]);
    const all = parseSongbook(utf8(rows.join('\n')), {});
    assert.deepEqual(all.skipped, book.skipped, 'the same lines with LF and CRLF');
    assert.equal(book.songs.at(-1)!.title, 'Bohemian Rhapsody');
    // A record over two lines is numbered by its first line, and the rows after it keep theirs.
    const tail = parseSongbook(utf8(['Artist,Title', '"Queen","Bohemian', 'Rhapsody"', ',Lonely title', 'Nena,'].join('\r\n')));
    assert.deepEqual(tail.skipped, [{ line: 4, reason: 'no artist' }, { line: 5, reason: 'no title' }]);
  });

  it('parseSongbook skips a title over 120 or an artist over 80 characters rather than cutting it', () => {
    const csv = `Artist,Title\nA,${'t'.repeat(120)}\nB,${'t'.repeat(121)}\n${'a'.repeat(81)},Song\n`;
    const book = parseSongbook(utf8(csv));
    assert.equal(book.songs.length, 1);
    assert.deepEqual(book.skipped, [
      { line: 3, reason: 'title longer than 120 characters' },
      { line: 4, reason: 'artist longer than 80 characters' },
    ]);
  });

  it('parseSongbook trims, collapses whitespace and removes control and invisible characters', () => {
    const csv = 'Artist,Title\n"  The \u200bKillers ","Mr.\u00a0 Bright\u202eside\u0007"\n"Daft\tPunk","One More\nTime"\n';
    assert.deepEqual(pairs(parseSongbook(utf8(csv))), ['The Killers | Mr. Brightside', 'Daft Punk | One More Time']);
  });

  it('parseSongbook keeps a song once when it repeats with other case, accents or spacing', () => {
    const book = parseSongbook(utf8('Céline Dion - My Heart Will Go On\nCELINE  DION - my heart will go on\nCe\u0301line Dion - My Heart Will Go On\n'));
    assert.deepEqual(pairs(book), ['Céline Dion | My Heart Will Go On']);
    assert.equal(book.skippedCount, 0, 'duplicates are not skipped rows');
  });

  it('parseSongbook gives the same ids when the same list is uploaded again, in any order or format', () => {
    const lines = 'Queen - Bohemian Rhapsody\nToto - Africa\nABBA - Dancing Queen\n';
    const csv = 'Title;Artist\nDancing Queen;ABBA\nbohemian rhapsody;QUEEN\nAfrica;Toto\n';
    const first = parseSongbook(utf8(lines));
    const again = parseSongbook(utf8(lines));
    assert.deepEqual(again.songs, first.songs);
    const idOf = (book: ParsedSongbook, artist: string) => book.songs.find((s) => s.artist.toLowerCase() === artist)!.id;
    const other = parseSongbook(utf8(csv));
    for (const artist of ['queen', 'toto', 'abba']) assert.equal(idOf(other, artist), idOf(first, artist));
    for (const song of first.songs) assert.match(song.id, ID);
  });

  it("parseSongbook keeps the file's ids when valid and unique, and replaces the others", () => {
    const csv = 'Id,Artist,Title\n' +
      'A-1,Toto,Africa\n' +
      'A-1,ABBA,Dancing Queen\n' + // taken
      `${'x'.repeat(65)},Adele,Hello\n` + // too long
      '"ü/ß",Nena,99 Luftballons\n' + // nothing valid left
      ',Queen,Bohemian Rhapsody\n' + // none
      'B 2.1,Oasis,Wonderwall\n';
    const book = parseSongbook(utf8(csv));
    const ids = book.songs.map((s) => s.id);
    assert.equal(ids[0], 'A-1');
    assert.equal(ids[5], 'B-2-1');
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, ID);
    const derived = parseSongbook(utf8('ABBA - Dancing Queen\nQueen - Bohemian Rhapsody\n'));
    assert.equal(ids[1], derived.songs[0]!.id, 'a replaced id is the stable derived one');
    assert.equal(ids[4], derived.songs[1]!.id);
  });

  it('parseSongbook reads durations as seconds, m:ss, h:mm:ss or milliseconds, and ignores the unreadable', () => {
    const csv = 'Artist,Title,Duration\n' + ['215', '3:35', '0:03:35', '215000', '215,4', 'soon', '0', '', '4:75']
      .map((d, i) => `A${i},T${i},"${d}"`).join('\n');
    assert.deepEqual(parseSongbook(utf8(csv)).songs.map((s) => s.duration),
      [215, 215, 215, 215, 215, undefined, undefined, undefined, undefined]);
  });

  it('parseSongbook honours a "sep=;" first line and keeps line numbers', () => {
    const book = parseSongbook(utf8('sep=;\r\nArtist;Title\r\nToto;Africa\r\nNena;\r\n'));
    assert.equal(book.format, 'csv-semicolon');
    assert.deepEqual(pairs(book), ['Toto | Africa']);
    assert.deepEqual(book.skipped, [{ line: 4, reason: 'no title' }]);
  });

  it('parseSongbook reports a quote that never closes and keeps the rows before it', () => {
    const book = parseSongbook(utf8('Artist,Title\nToto,Africa\n"Queen,Bohemian Rhapsody\nABBA,Dancing Queen\n'));
    assert.deepEqual(pairs(book), ['Toto | Africa']);
    assert.equal(book.skipped[0]!.line, 3);
    assert.match(book.skipped[0]!.reason, /never closed/);
  });

  it('parseSongbook refuses a file where nothing is a song, showing the first bad lines', () => {
    const long = 'x'.repeat(300);
    const err = refusal(utf8(`just a word\nanother\n${long}\n`), 'no_songs');
    assert.match(err.message, /No songs found/);
    assert.deepEqual(err.badLines.slice(0, 2), [{ line: 1, text: 'just a word' }, { line: 2, text: 'another' }]);
    assert.ok(err.badLines[2]!.text.length <= 120);
    assert.match(refusal(utf8('Artist,Title\n'), 'no_songs').message, /header row but no songs/);
    assert.match(refusal(utf8('Artist,Title\nToto,\n,Africa\n'), 'no_songs').message, /none of the 2 rows/);
  });

  it('parseSongbook refuses more rows than maxSongs', () => {
    const csv = (n: number) => utf8(['Artist,Title', ...Array.from({ length: n }, (_, i) => `A${i},T${i}`)].join('\n'));
    assert.equal(parseSongbook(csv(10), { maxSongs: 10 }).songs.length, 10);
    assert.match(refusal(csv(11), 'too_many_songs', { maxSongs: 10 }).message, /more than 10 songs/);
    const lines = utf8(Array.from({ length: 11 }, (_, i) => `A${i} - T${i}`).join('\n'));
    refusal(lines, 'too_many_songs', { maxSongs: 10 });
  });

  it('parseSongbook reads 100,000 rows', (t) => {
    const rows = ['Artist,Title,Duration,Language'];
    for (let i = 0; i < 100_000; i++) rows.push(`"Artist ${i % 5000}","Song ${i}, part ${i % 7}",3:${String(i % 60).padStart(2, '0')},English`);
    const bytes = utf8(rows.join('\r\n'));
    const started = performance.now();
    const book = parseSongbook(bytes);
    t.diagnostic(`100,000 CSV rows in ${Math.round(performance.now() - started)} ms`);
    assert.equal(book.songs.length, 100_000);
    assert.equal(new Set(book.songs.map((s) => s.id)).size, 100_000);
  });
});
