// Random HTTP requests for the fuzzer, and the two ways they are sent: through Node's client with a
// deadline, and as raw bytes on a socket. Real ids and keys only exist once a run has made its
// session, so requests are generated with placeholders ({S} session, {s} its lower case, {H} host
// key, {G}/{G2} guest keys, {R} a queued song, {N} the song being sung) and filled in per run.
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';

/** A request not answered within this long was left hanging. */
export const TIMEOUT_MS = 4_000;

export interface Fill {
  S: string;
  s: string;
  H: string;
  G: string;
  G2: string;
  R: string;
  N: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

const fill = (text: string, f: Fill) =>
  text.replace(/\{(S|s|H|G2|G|R|N)\}/g, (_, name: keyof Fill) => f[name]);

const ascii = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max });

/** Path segments that are not ids: odd encodings, traversal, prototype names, the wrong length. */
const junk = fc.oneof(
  ascii(12).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 8 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '%2e%2e', '%2F', 'A'.repeat(300), '%00', '__proto__', 'constructor', 'toString', '%20{S}', '{S}.png', '{S}%20', '22222222', '{s}x'),
);
const sessionRef = fc.oneof(fc.constant('{S}'), fc.constant('{s}'), junk);
const requestRef = fc.oneof(fc.constant('{R}'), fc.constant('{N}'), junk);

const pathArb = fc
  .oneof(
    fc.constant('/api/sessions'),
    sessionRef.map((s) => `/api/sessions/${s}`),
    sessionRef.map((s) => `/api/sessions/${s}/singers`),
    sessionRef.map((s) => `/api/sessions/${s}/requests`),
    fc.tuple(sessionRef, requestRef).map(([s, r]) => `/api/sessions/${s}/requests/${r}`),
    sessionRef.map((s) => `/api/sessions/${s}/next`),
    sessionRef.map((s) => `/api/sessions/${s}/events`),
    sessionRef.map((s) => `/qr-codes/${s}.png`),
    fc.tuple(fc.constantFrom('s', 'host', 'display'), sessionRef).map(([p, s]) => `/${p}/${s}`),
    fc.constantFrom('/healthz', '/', '/index.html', '/api', '/api/', '/api/nothing', '/api/admin/export', '/api/admin/import', '/qr-codes/', '//api/sessions', '/..%2f..%2fetc/passwd', '/css/', '/js/%zz'),
    junk.map((j) => `/${j}`),
  )
  .chain((p) => fc.constantFrom('', '', '?x=1', '?__proto__[a]=1', '?a=%zz', `?${'q'.repeat(200)}`).map((q) => p + q));

const headersArb = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=nope',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/merge-patch+json',
      '*/*',
    ),
    authorization: fc.oneof(
      fc.constantFrom('Bearer {H}', 'Bearer {G}', 'Bearer {G2}', 'bearer {H}', 'Bearer  {G} ', 'Basic abc', 'Bearer ', `Bearer ${'A'.repeat(200)}`),
      ascii(40),
    ),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-nope', 'gzip, gzip'),
    accept: fc.constantFrom('text/event-stream', 'application/json', '*/*', 'image/png', ''),
    'x-forwarded-for': fc.oneof(fc.ipV4(), ascii(20)),
    range: fc.constantFrom('bytes=0-10', 'bytes=5-', 'bytes=junk', 'bytes=0-0,1-1,2-2'),
    'if-none-match': fc.constantFrom('*', 'W/"x"', '"abc"'),
    'if-modified-since': fc.constantFrom('Thu, 01 Jan 2099 00:00:00 GMT', 'garbage'),
    origin: ascii(30),
    'last-event-id': fc.oneof(fc.nat().map(String), ascii(10)),
  },
  { requiredKeys: [] },
);

const value = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('open', 'paused', 'closed', 'fair', 'fifo', 'sung', 'skipped', '{R}', '{N}', 'Ann', ''),
  fc.constantFrom('2099-01-01T00:00:00Z', '2000-01-01T00:00:00Z', 'not a date', 'https://example.com/x', 'javascript:alert(1)', 'x'.repeat(600)),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Bodies that look almost right: the API's own field names with random values. */
const plausible = fc
  .dictionary(
    fc.constantFrom('name', 'title', 'artist', 'link', 'singerName', 'status', 'rotation', 'maxQueuedPerSinger', 'endsAt', 'position', 'outcome', 'expectedCurrentId', '__proto__', 'constructor', 'extra'),
    value,
    { maxKeys: 5 },
  )
  .map((o) => JSON.stringify(o));

const bodyArb = fc.option(
  fc.oneof(
    plausible,
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 100 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.constantFrom('{', '}', 'null', '[]', '"x"', '1e999', '{"name":"a","name":"b"}', 'x'.repeat(20_000), '\ufeff{"name":"BOM"}', '{"__proto__":{"polluted":true}}'),
  ),
  { nil: undefined },
);

const methodArb = fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS');

export type RequestTemplate = FuzzRequest;

/** Plain data (so a failing case prints readably); `instantiate` fills in a run's ids and keys. */
export const requestArb: fc.Arbitrary<RequestTemplate> = fc.record({ method: methodArb, path: pathArb, headers: headersArb, body: bodyArb });

export function instantiate(r: RequestTemplate, f: Fill): FuzzRequest {
  return {
    method: r.method,
    path: fill(r.path, f),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, fill(v, f)])),
    body: typeof r.body === 'string' ? fill(r.body, f) : r.body,
  };
}

// Header names and values with anything but CR and LF: a line break would end the head early
// and leave a half request that the server rightly waits for.
const noBreaks = (s: string) => s.replace(/[\r\n]/g, '');

/** Complete but malformed requests written straight to the socket. */
export const rawArb = fc
  .record({
    method: fc.oneof(
      { arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'TRACE', 'CONNECT', 'PROPFIND'), weight: 5 },
      { arbitrary: ascii(8), weight: 1 },
    ),
    target: fc.oneof(
      { arbitrary: pathArb.map((p) => fill(p, { S: 'ABCDEF', s: 'abcdef', H: 'x', G: 'x', G2: 'x', R: 'abcdefabcdef', N: 'abcdefabcdef' })), weight: 4 },
      { arbitrary: ascii(30), weight: 1 },
      { arbitrary: fc.constantFrom('*', 'http://evil.example/api/sessions', '/ü', '/a b', '/\u0000'), weight: 1 },
    ),
    // Mostly well-formed framing, so most requests reach the application and not only Node's parser.
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'FOO'),
    headers: fc.array(
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.constantFrom('Content-Type', 'Authorization', 'Accept', 'X-Forwarded-For', 'Content-Encoding', 'Range', 'Cookie', 'Origin', 'If-None-Match', 'Last-Event-ID'), weight: 4 },
          { arbitrary: fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,15}$/), weight: 2 },
          { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 15 }), weight: 1 },
        ),
        fc.oneof({ arbitrary: ascii(30), weight: 4 }, { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 1 }),
      ),
      { maxLength: 5 },
    ),
    body: fc.string({ unit: 'binary', maxLength: 100 }),
    chunked: fc.boolean(),
  })
  .map(({ method, target, version, headers, body, chunked }) => {
    const bodyBytes = Buffer.from(body);
    const lines = [`${noBreaks(method)} ${noBreaks(target)} ${version}`, 'Host: 127.0.0.1', 'Connection: close'];
    for (const [name, value] of headers) lines.push(`${noBreaks(name)}: ${noBreaks(value)}`);
    lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${bodyBytes.length}`);
    const lastChunk = Buffer.from('0\r\n\r\n');
    const framed = !chunked ? bodyBytes : bodyBytes.length === 0 ? lastChunk : Buffer.concat([Buffer.from(`${bodyBytes.length.toString(16)}\r\n`), bodyBytes, Buffer.from('\r\n'), lastChunk]);
    return { method, bytes: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed]) };
  });

export interface Reply {
  status: number;
  body: string;
}

/** One request on its own connection; an event stream counts as answered once its headers arrive. */
export function send(port: number, r: FuzzRequest): Promise<Reply | 'unsendable'> {
  return new Promise((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      // An explicit length: Node's client sends a GET body unframed, which the server rightly
      // reads as a second, broken request.
      const length = r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) };
      req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: { ...r.headers, ...length }, agent: false });
    } catch {
      return resolve('unsendable'); // Node's client refuses it before it reaches the server
    }
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`left hanging: ${r.method} ${r.path}`));
    }, TIMEOUT_MS);
    req.on('response', (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream') && r.method !== 'HEAD') {
        clearTimeout(timer);
        req.destroy();
        return resolve({ status: res.statusCode ?? 0, body: '' });
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${r.method} ${r.path}: ${err.message}`));
    });
    req.end(r.body);
  });
}

/** Raw bytes on a socket (the request is always complete); resolves with the status line's code, or null if closed silently. */
export function sendRaw(port: number, bytes: Buffer): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`left hanging: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`));
    }, TIMEOUT_MS);
    socket.on('data', (d) => (head += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve(match ? Number(match[1]) : null);
    });
    // Not end(): a client that half-closes gets its pending responses aborted by Node itself.
    // Every request says Connection: close, so the server closes once it has answered.
    socket.write(bytes);
  });
}
