// A push service of the test's own on 127.0.0.1 (the pattern of web-push's test/testSendNotification.js):
// HTTPS with a certificate the test makes, recording what it receives; and a browser's side of a
// subscription (a P-256 key pair and an auth secret) to check the VAPID token and decrypt the payload.
import { execFile } from 'node:child_process';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  at: number;
}

export interface PushService {
  /** https://localhost:<port>: the certificate names localhost, push.invalid and 127.0.0.1. */
  origin: string;
  port: number;
  /** The PEM file to give the server as NODE_EXTRA_CA_CERTS. */
  certFile: string;
  cert: Buffer;
  received: Received[];
  /** Resolves once `count` pushes have arrived at paths starting with `prefix`. */
  waitFor(prefix: string, count: number, timeoutMs?: number): Promise<Received[]>;
}

const run = promisify(execFile);

/** A self-signed certificate for localhost, made by the openssl CLI into `dir`. */
export async function makeCertificate(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'push-cert.pem');
  const keyFile = path.join(dir, 'push-key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,DNS:push.invalid,IP:127.0.0.1',
  ]);
  return { certFile, keyFile };
}

/**
 * What a path answers: `/ok/…` 201; `/gone/…` 410; `/hang/…` never; `/flaky/…` 503 the first
 * time, then 201.
 */
export async function startPushService(t: TestContext, dir: string): Promise<PushService> {
  const { certFile, keyFile } = await makeCertificate(dir);
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const flakySeen = new Set<string>();
  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      received.push({ path: url, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      for (const w of waiters) w();
      if (url.startsWith('/hang/')) return;
      if (url.startsWith('/gone/')) return void res.writeHead(410).end('push subscription has unsubscribed or expired');
      if (url.startsWith('/flaky/') && !flakySeen.has(url)) {
        flakySeen.add(url);
        return void res.writeHead(503).end();
      }
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  const waitFor = (prefix: string, count: number, timeoutMs = 10_000) =>
    new Promise<Received[]>((resolve, reject) => {
      const check = () => {
        const got = received.filter((r) => r.path.startsWith(prefix));
        if (got.length < count) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(got);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${count} push(es) to ${prefix} did not arrive in ${timeoutMs} ms; got ${received.filter((r) => r.path.startsWith(prefix)).length}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { origin: `https://localhost:${port}`, port, certFile, cert, received, waitFor };
}

/** A browser's side of a subscription: what PushSubscription.toJSON() gives, and the private half. */
export interface BrowserSubscription {
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  auth: Buffer;
}

export function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } },
    ecdh,
    auth,
  };
}

/** Decrypt an aes128gcm body (RFC 8291, RFC 8188) with the subscription's private key and auth secret. */
export function decryptPayload(body: Buffer, sub: BrowserSubscription): string {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const serverPublic = body.subarray(21, 21 + idLength);
  const cipherText = body.subarray(21 + idLength);
  const shared = sub.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(cipherText.subarray(-16));
  const padded = Buffer.concat([decipher.update(cipherText.subarray(0, -16)), decipher.final()]);
  // One record: the content, a 0x02 delimiter, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('no last-record delimiter in the decrypted payload');
  return padded.subarray(0, end).toString('utf8');
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/** Check `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292): an ES256 token signed by `k`; returns its claims and key. */
export function verifyVapid(header: string | string[] | undefined): { claims: VapidClaims; key: string } {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(String(header));
  if (!match) throw new Error(`not a VAPID Authorization header: ${String(header)}`);
  const [, token, key] = match as unknown as [string, string, string];
  const [head, payload, signature] = token.split('.') as [string, string, string];
  const raw = Buffer.from(key, 'base64url');
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  const signed = verify('sha256', Buffer.from(`${head}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!signed) throw new Error('the VAPID token is not signed by the key it names');
  const header0 = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
  if (header0.alg !== 'ES256') throw new Error(`VAPID token alg ${header0.alg}`);
  return { claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as VapidClaims, key };
}
