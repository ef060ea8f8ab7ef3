// Slow clients against the real server process: connections are bounded (MAX_CONNECTIONS), and a
// client that trickles its headers is cut off at the headers timeout, freeing its place.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { loadConfig } from '../server/config.js';
import { tempDataDir } from './support/app.js';
import { launchServer } from './support/processes.js';

interface Slow {
  socket: net.Socket;
  /** What the server sent before it closed the connection. */
  closed: Promise<string>;
}

/** A slowloris client: a request line, then one header byte every 200 ms, never the blank line. */
function slowClient(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('error', () => {});
    socket.once('connect', () => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      const drip = setInterval(() => (socket.writable ? socket.write('a') : clearInterval(drip)), 200);
      socket.once('close', () => clearInterval(drip));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** One plain request on a fresh connection: its status, or the network error that ended it. */
function probe(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, headers: { Connection: 'close' } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

describe('slow clients', () => {
  it('past MAX_CONNECTIONS new connections are refused, and a client trickling headers is cut off at the headers timeout', async (t) => {
    const dataDir = await tempDataDir(t);
    // Launched, not started: the start-up check's keep-alive connection would hold one of the four places.
    const port = await launchServer(t, dataDir, { RATE_LIMIT: '1', MAX_CONNECTIONS: '4', HEADERS_TIMEOUT_SECONDS: '2', REQUEST_TIMEOUT_SECONDS: '3' }).listening;
    assert.equal(await probe(port), 200, 'served while below the bound');

    const started = performance.now();
    const slow = await Promise.all(Array.from({ length: 4 }, () => slowClient(port)));
    t.after(() => slow.forEach((s) => s.socket.destroy()));
    const refused = await probe(port);
    assert.notEqual(refused, 200, 'a fifth connection is refused while four are open');

    const answers = await Promise.all(slow.map((s) => s.closed));
    const cutOffAfter = performance.now() - started;
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408/, 'the slow client got 408 Request Timeout');
    assert.ok(cutOffAfter >= 1900 && cutOffAfter < 8000, `cut off after ${Math.round(cutOffAfter)} ms`);
    assert.equal(await probe(port), 200, 'their places are free again');
  });
});

describe('the bounds beside Fly', () => {
  it("fly.toml's deployment refuses connections and streams itself before Fly's hard_limit does", () => {
    const fly = parse(readFileSync(new URL('../../fly.toml', import.meta.url), 'utf8')) as {
      env: Record<string, string>;
      http_service: { concurrency: { hard_limit: number } };
    };
    const config = loadConfig(fly.env);
    const hardLimit = fly.http_service.concurrency.hard_limit;
    assert.equal(config.clientIpHeader, 'fly-client-ip', 'TRUST_PROXY=fly: the client is who Fly-Client-IP names');
    assert.ok(config.rateLimits.enabled);
    assert.ok(config.maxConnections > 0 && config.maxConnections < hardLimit, `MAX_CONNECTIONS ${config.maxConnections} < hard_limit ${hardLimit}`);
    assert.ok(config.streams.total < config.maxConnections, 'room for page loads and API calls beside the streams');
    assert.ok(config.streams.perAddress < config.streams.total && config.streams.perSession < config.streams.total);
  });
});
