export type SongbookEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export type Decoded =
  | { ok: true; text: string; encoding: SongbookEncoding }
  | { ok: false; problem: 'empty' | 'binary'; hint?: string };

// Characters that never occur in a song list typed by a person: C0 controls other than tab,
// newlines and form feed, DEL, C1 controls, and U+FFFD (what a decoder leaves for bytes it
// could not read).
const STRAY = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\ufffd]/g;
const SAMPLE_CHARS = 65_536;
// Windows-1252 bytes 0x80-0x9F (WHATWG index-windows-1252); 0x81, 0x8D, 0x8F, 0x90, 0x9D stay C1.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

/**
 * Turn uploaded bytes into text. A BOM is trusted; without one, bytes that are valid UTF-8
 * are UTF-8, and anything else is taken as Windows-1252: that is what Excel and OpenKJ
 * (`toLocal8Bit`) write on Western Windows, and every byte decodes, so a legacy file never
 * fails here. UTF-16 without a BOM is not guessed: it is rare and its NUL bytes make it
 * look like binary, which is the safer mistake.
 */
export function decodeSongbook(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  const decoded = decode(bytes);
  if (!decoded) return { ok: false, problem: 'binary', hint: binaryHint(bytes) };
  if (decoded.text.trim() === '') return { ok: false, problem: 'empty' };
  if (looksBinary(decoded.text)) return { ok: false, problem: 'binary', hint: binaryHint(bytes) };
  return { ok: true, ...decoded };
}

function decode(bytes: Uint8Array): { text: string; encoding: SongbookEncoding } | undefined {
  const [b0, b1, b2] = bytes;
  // TextDecoder drops the BOM itself (ignoreBOM defaults to false).
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) {
    // A UTF-8 BOM with a stray invalid byte is still UTF-8: the BOM says so.
    return { text: new TextDecoder('utf-8').decode(bytes), encoding: 'utf-8' };
  }
  if (b0 === 0xff && b1 === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes), encoding: 'utf-16le' };
  if (b0 === 0xfe && b1 === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes), encoding: 'utf-16be' };
  if (bytes.includes(0)) return undefined;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: decodeWindows1252(bytes), encoding: 'windows-1252' };
  }
}

// Node 20.18.3+ and 22.13+ decode 'windows-1252' as Latin-1, so 0x92 comes out as the control
// U+0092 instead of ’ (nodejs/node#56542, #60888). Map that range ourselves; once Node is fixed
// no C1 character is left and this does nothing.
function decodeWindows1252(bytes: Uint8Array): string {
  const text = new TextDecoder('windows-1252').decode(bytes);
  return text.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

function looksBinary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
  const stray = sample.match(STRAY)?.length ?? 0;
  // A stray control or two (a DOS end-of-file ^Z, a pasted tab) is normal in a text file;
  // binary data has them on every few bytes.
  return stray > 2 && stray / sample.length > 0.02;
}

function binaryHint(bytes: Uint8Array): string | undefined {
  // .xlsx and .ods are zip archives; people upload the workbook instead of a CSV export.
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return 'It looks like a spreadsheet workbook or a zip archive: open it and save it as CSV.';
  }
  return undefined;
}
