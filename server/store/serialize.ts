import type { StoredSession } from '../model/session.js';
import type { DbData } from './data-file.js';

const serializedCache = new WeakMap<StoredSession, Buffer>();
const COMMA = Buffer.from(',');

/**
 * A session as its `"id":{...}` member of data.json's `sessions`, as UTF-8. Sessions are immutable,
 * so an unchanged one is the same object as last time and its bytes come from the cache: a
 * checkpoint and a journal record serialise only the sessions that changed.
 */
export function memberBytes(id: string, session: StoredSession | undefined): Buffer {
  if (session === undefined) return Buffer.from(`${JSON.stringify(id)}:null`);
  let bytes = serializedCache.get(session);
  if (bytes === undefined || session.id !== id) {
    const json = `${JSON.stringify(id)}:${JSON.stringify(session)}`;
    // Not from Buffer's shared 8 KB pool: a cached session would keep its neighbours' old bytes alive.
    bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
    bytes.write(json);
    // Keyed by the session alone, so only cache it under its own id.
    if (session.id === id) serializedCache.set(session, bytes);
  }
  return bytes;
}

/**
 * Compact JSON of the whole store in pieces. Joined as bytes: building and encoding one big string
 * per write cost more than the disk write itself.
 */
function serializeParts(data: DbData): Buffer[] {
  const parts: Buffer[] = [Buffer.from(`{"version":${data.version},"sessions":{`)];
  for (const id in data.sessions) {
    if (parts.length > 1) parts.push(COMMA);
    parts.push(memberBytes(id, data.sessions[id]));
  }
  parts.push(Buffer.from('}}'));
  return parts;
}

/** data.json's format, which is also the export format. */
export function serializeData(data: DbData): Buffer {
  return Buffer.concat(serializeParts(data));
}

/**
 * serializeData into one buffer kept between calls. Only for a writer that writes one snapshot at
 * a time: a fresh multi-megabyte buffer per checkpoint kept the garbage collector busy.
 */
export function reusingSerializer(): (data: DbData) => Buffer {
  let buffer = Buffer.alloc(0);
  return (data) => {
    const parts = serializeParts(data);
    const size = parts.reduce((n, p) => n + p.length, 0);
    if (buffer.length < size) buffer = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
    let offset = 0;
    for (const p of parts) {
      buffer.set(p, offset);
      offset += p.length;
    }
    return buffer.subarray(0, size);
  };
}
