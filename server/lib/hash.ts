import crypto from 'node:crypto';

type Encoding = 'hex' | 'base64url';

/**
 * SHA-256 of text or bytes: a Buffer, or a string in the encoding given. crypto.hash (Node 20.12+)
 * is about twice as fast as createHash on short inputs (100,000 songbook ids); package.json still
 * allows 20.11, which has only createHash.
 */
export function sha256(data: string | Uint8Array): Buffer;
export function sha256(data: string | Uint8Array, encoding: Encoding): string;
export function sha256(data: string | Uint8Array, encoding?: Encoding): Buffer | string {
  if (encoding === undefined) return crypto.createHash('sha256').update(data).digest();
  return typeof crypto.hash === 'function' ? crypto.hash('sha256', data, encoding) : crypto.createHash('sha256').update(data).digest(encoding);
}
