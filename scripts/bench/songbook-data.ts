// A deterministic songbook shaped like a licensed host library: a few artists with hundreds of
// songs and a long tail with one or two, common title words ("Love", "Night", "Heart") repeated
// thousands of times, the same song in several catalogues, some accents, Cyrillic, Greek and
// Japanese, "The …" bands and punctuated names (AC/DC, Guns N' Roses, P!nk).
import type { Song } from '../../server/model/song.js';
import { rng } from './seed.js';

const FAMOUS: [artist: string, titles: string[]][] = [
  ['The Beatles', ['Hey Jude', 'Hello, Goodbye', 'Let It Be', 'Yesterday', 'Come Together', 'Help!', 'Something']],
  ['The Rolling Stones', ['Paint It Black', 'Angie', "(I Can't Get No) Satisfaction", 'Wild Horses']],
  ['Queen', ['Bohemian Rhapsody', "Don't Stop Me Now", 'Somebody to Love', 'We Are the Champions']],
  ['AC/DC', ['Highway to Hell', 'Back in Black', 'Thunderstruck', 'You Shook Me All Night Long']],
  ["Guns N' Roses", ["Sweet Child O' Mine", 'November Rain', 'Paradise City']],
  ['Björk', ['Army of Me', 'Hyperballad', "It's Oh So Quiet"]],
  ['Céline Dion', ['My Heart Will Go On', 'All by Myself', "It's All Coming Back to Me Now"]],
  ['Adele', ['Hello', 'Someone Like You', 'Rolling in the Deep', 'Skyfall']],
  ['Lionel Richie', ['Hello', 'All Night Long (All Night)', 'Easy']],
  ['КИНО', ['ГРУППА КРОВИ', 'ЗВЕЗДА ПО ИМЕНИ СОЛНЦЕ', 'ПЕРЕМЕН']],
  ['Алла Пугачёва', ['Миллион алых роз', 'Айсберг']],
  ['ΣΑΚΗΣ ΡΟΥΒΑΣ', ['ΣΕ ΘΕΛΩ ΣΑΝ ΤΡΕΛΟΣ', 'ΣΗΚΩΣΟΥ']],
  ['Άννα Βίσση', ['Δώδεκα', 'Ψυχεδέλεια']],
  ['美空ひばり', ['川の流れのように', '愛燦燦']],
  ['P!nk', ['So What', 'Just Give Me a Reason', 'Try']],
  ['Beyoncé', ['Halo', 'Crazy in Love', 'Single Ladies (Put a Ring on It)']],
  ['Mötley Crüe', ['Kickstart My Heart', 'Home Sweet Home']],
  ['Sinéad O’Connor', ['Nothing Compares 2 U']],
  ['Édith Piaf', ['La Vie en rose', 'Non, je ne regrette rien']],
  ['Simon & Garfunkel', ['The Sound of Silence', 'Mrs. Robinson', 'Bridge over Troubled Water']],
  ['Earth, Wind & Fire', ['September', "Let's Groove"]],
  ['a-ha', ['Take On Me']],
  ['R.E.M.', ['Losing My Religion', "It's the End of the World as We Know It (And I Feel Fine)"]],
  ['Journey', ["Don't Stop Believin'"]],
  ['ABBA', ['Dancing Queen', 'Mamma Mia', 'Waterloo']],
];

const FIRST = ['John', 'Mary', 'David', 'Sarah', 'Michael', 'Anna', 'Chris', 'Laura', 'James', 'Emma', 'Carlos', 'Lucía', 'José', 'François', 'Zoë', 'Sören', 'Jürgen', 'Ingrid', 'Dmitri', 'Nikos', 'Hiro', 'Aisha', 'Kelly', 'Billy', 'Bobby', 'Tina', 'Frankie', 'Dolly', 'Marvin', 'Aretha'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'García', 'Rodríguez', 'Martínez', 'Müller', 'Schäfer', 'Dubois', 'Lefèvre', 'Nowak', 'Kowalski', 'Rossi', 'Bianchi', 'Jackson', 'White', 'Harris', 'Martin', 'Thompson', 'Moore', 'Taylor', 'Clarke', 'Lewis', 'Walker', 'Young', 'King'];
const INITIAL = [...'ABCDEFGHJKLMNPRSTW'];
const ADJ = ['Black', 'Blue', 'Electric', 'Crazy', 'Silver', 'Velvet', 'Midnight', 'Golden', 'Wild', 'Broken', 'Lonely', 'Young', 'Little', 'Red', 'Cosmic', 'Rolling', 'Screaming', 'Happy', 'Northern', 'Neon'];
const NOUN = ['Keys', 'Stones', 'Wolves', 'Hearts', 'Kings', 'Monkeys', 'Killers', 'Strokes', 'Doors', 'Angels', 'Lions', 'Birds', 'Brothers', 'Sisters', 'Ghosts', 'Tigers', 'Rebels', 'Lovers', 'Saints', 'Dreamers'];
const WORDS = ['Love', 'Baby', 'Heart', 'Night', 'Tonight', 'Girl', 'Boy', 'Dance', 'Time', 'Forever', 'Dream', 'Fire', 'Rain', 'Summer', 'Home', 'Life', 'World', 'Light', 'Sweet', 'Crazy', 'Blue', 'Little', 'Good', 'Wild', 'Lonely', 'Heaven', 'Money', 'Angel', 'Wonderful', 'Yesterday', 'Tomorrow', 'Together', 'Alone', 'Forget', 'Remember', 'Believe', 'Running', 'Falling', 'Dancing', 'Midnight', 'River', 'Road', 'Highway', 'Paradise', 'Stars', 'Moon', 'Sun', 'Memories', 'Shadow', 'Thunder', 'Whisper', 'Broken', 'Golden', 'Kiss', 'Tears', 'Eyes', 'Hands', 'Soul', 'Rock', 'Roll', 'Street', 'City', 'Train', 'Ocean', 'Mountain', 'Window', 'Letter', 'Telephone', 'Hold', 'Touch', 'Stay', 'Go', 'Come', 'Back', 'Down', 'Up', 'Everybody', 'Nobody', 'Somebody', 'Goodbye', 'Hello', 'Sorry', 'Please', 'Stop', 'Wait'];
const GLUE = ['the', 'my', 'your', 'me', 'you', 'in', 'on', 'of', 'to', 'a', 'and', 'for', 'with', 'all', 'no', 'is', "don't", "can't", "I'm", "it's"];
const FOREIGN = ['Corazón', 'Canción', 'Mañana', 'Amor', 'Noche', 'Été', 'Cœur', 'Chérie', 'Liebe', 'Träume', 'Schön', 'Große', 'Ça', 'Déjà', 'Niña', 'Café', 'Señorita', 'Última', 'Adiós', 'Jamás'];
const CYRILLIC = ['Любовь', 'Ночь', 'Звезда', 'Город', 'Весна', 'Ветер', 'Море', 'Солнце', 'Дорога', 'Сердце'];
const GREEK = ['Αγάπη', 'Καρδιά', 'Νύχτα', 'Θάλασσα', 'Όνειρο', 'Ήλιος', 'Φως', 'Ψυχή'];
const JAPANESE = ['桜', '夢', '愛', '君', '花火', 'さくら', 'ありがとう', '東京'];
const SUFFIX = [' (Karaoke Version)', ' - Live', ' (Radio Edit)', ' (Remastered)', ' [In the Style of]', ' (Duet)'];
const LANGUAGES = ['en', 'en', 'en', 'en', 'es', 'fr', 'de', 'it'];

/** Made-up but pronounceable words ("Velaro", "Kintessa"): real catalogues hold tens of thousands of distinct words, mostly names. */
function lexicon(size: number, random: () => number): string[] {
  const onsets = ['', 'b', 'br', 'c', 'ch', 'd', 'f', 'g', 'gr', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 'sh', 'st', 't', 'tr', 'v', 'w', 'z'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ay', 'ee', 'ou', 'é', 'ö', 'ü', 'í'];
  const codas = ['', '', '', 'n', 'r', 's', 'l', 'm', 'x', 'nd', 'st', 'tt'];
  const out = new Set<string>();
  while (out.size < size) {
    let w = '';
    for (let i = 0, n = 2 + Math.floor(random() * 2.2); i < n; i++) {
      w += onsets[Math.floor(random() * onsets.length)]! + vowels[Math.floor(random() * vowels.length)]!;
    }
    w += codas[Math.floor(random() * codas.length)]!;
    if (w.length >= 3) out.add(w[0]!.toUpperCase() + w.slice(1));
  }
  return [...out];
}

export function generateSongbook(count: number, seed = 1): Song[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rare = lexicon(Math.max(200, Math.round(count * 0.4)), random);
  // Zipf-like over the lexicon, weight about 1/(k + 300): a long tail of words seen once or twice.
  const pickRare = () => rare[Math.floor(300 * Math.pow((rare.length + 300) / 300, random())) - 300] ?? rare[0]!;
  const artists = buildArtists(Math.max(50, Math.round(count / 12)), random, pick, pickRare);
  const songs: Song[] = [];
  const push = (artist: string, title: string, language?: string) => {
    const song: Song = { id: `s${songs.length + 1}`, artist, title, duration: 150 + Math.floor(random() * 240) };
    if (language) song.language = language;
    songs.push(song);
  };
  // The famous ones first, then again from other catalogues (KaraFun, Sunfly...) as duplicates.
  for (let copy = 0; copy < 1 + Math.floor(count / 20_000) && songs.length < count; copy++) {
    for (const [artist, titles] of FAMOUS) for (const t of titles) if (songs.length < count) push(artist, copy === 0 ? t : t + pick(SUFFIX));
  }
  while (songs.length < count) {
    // Zipf-like, weight about 1/(k + 30): the head has a few hundred songs each (Elvis-sized), the tail one or two.
    const k = Math.floor(30 * Math.pow((artists.length + 30) / 30, random())) - 30;
    const artist = artists[Math.min(k, artists.length - 1)]!;
    const title = makeTitle(random, pick, pickRare, artist.script);
    push(artist.name, random() < 0.08 ? title + pick(SUFFIX) : title, artist.script === 'latin' ? pick(LANGUAGES) : undefined);
  }
  return songs;
}

type Script = 'latin' | 'cyrillic' | 'greek' | 'japanese';

function buildArtists(n: number, random: () => number, pick: <T>(xs: readonly T[]) => T, pickRare: () => string): { name: string; script: Script }[] {
  const out: { name: string; script: Script }[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const r = random();
    let name: string;
    let script: Script = 'latin';
    if (r < 0.35) name = random() < 0.3 ? `${pick(FIRST)} ${pick(LAST)}` : random() < 0.5 ? `${pick(FIRST)} ${pickRare()}` : `${pickRare()} ${pick(INITIAL)}. ${pickRare()}`;
    else if (r < 0.55) name = `The ${pick(ADJ)} ${pick(NOUN)}`;
    else if (r < 0.65) name = random() < 0.5 ? `${pick(ADJ)} ${pick(ADJ)} ${pick(NOUN)}` : pickRare();
    else if (r < 0.72) name = `${pick(FIRST)} ${pick(LAST)} & The ${pick(NOUN)}`;
    else if (r < 0.77) name = `${pick(ADJ).toUpperCase()}/${pick(NOUN).toUpperCase()}`;
    else if (r < 0.8) name = `${pick(NOUN)} N' ${pick(NOUN)}`;
    else if (r < 0.86) name = `${pick(FIRST)} ${pick(LAST)} feat. ${pick(FIRST)} ${pick(LAST)}`;
    else if (r < 0.91) (name = `${pick(CYRILLIC)} ${pick(CYRILLIC)}`), (script = 'cyrillic');
    else if (r < 0.94) (name = `${pick(GREEK)} ${pick(GREEK)}`.toUpperCase()), (script = 'greek');
    else if (r < 0.96) (name = pick(JAPANESE) + pick(JAPANESE)), (script = 'japanese');
    else name = `${pick(FIRST)} ${pick(LAST)} ${pick(['Band', 'Trio', 'Orchestra', 'Project', 'Collective'])}`;
    if (seen.has(name)) continue; // real catalogues have few exact namesakes
    seen.add(name);
    out.push({ name, script });
  }
  return out;
}

function makeTitle(random: () => number, pick: <T>(xs: readonly T[]) => T, pickRare: () => string, script: Script): string {
  if (script === 'cyrillic') return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(CYRILLIC)).join(' ');
  if (script === 'greek') return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(GREEK)).join(' ');
  if (script === 'japanese') return Array.from({ length: 1 + Math.floor(random() * 2) }, () => pick(JAPANESE)).join('');
  const length = 1 + Math.floor(random() * random() * 6); // mostly short titles, a few long ones
  const parts: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = random();
    parts.push(r < 0.4 ? pick(WORDS) : r < 0.6 && i > 0 ? pick(GLUE) : r < 0.65 ? pick(FOREIGN) : r < 0.7 ? `${pick(WORDS)}${pick(['in', 'er', 'y', 's'])}` : pickRare());
  }
  if (random() < 0.05) parts.push(String(1960 + Math.floor(random() * 65)));
  const title = parts.join(' ');
  return random() < 0.06 ? `${title}!` : random() < 0.04 ? `${title}, ${pick(WORDS)}` : title;
}

/** A cell as RFC 4180 writes it: quoted, inner quotes doubled, when it holds a delimiter, quote, line end or edge space. */
function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The songbook as a KaraFun-style CSV export with a header row, durations as m:ss. */
export function songbookCsv(songs: readonly Song[]): string {
  const lines = ['Artist,Title,ID,Duration,Language'];
  for (const s of songs) {
    const duration = s.duration === undefined ? '' : `${Math.floor(s.duration / 60)}:${String(s.duration % 60).padStart(2, '0')}`;
    lines.push([s.artist, s.title, s.id, duration, s.language ?? ''].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
