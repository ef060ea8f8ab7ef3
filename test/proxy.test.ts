// No client chooses its own rate-limit bucket: X-Forwarded-For is believed only from the proxies of
// the documented deployments (loopback by default; Fly's Fly-Client-IP with TRUST_PROXY=fly).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../server/config.js';
import { buildApp, type TestApp } from './support/app.js';

/** An address of this machine in a private range (a LAN, Docker's or Kubernetes' network), if it has one. */
function privateAddress(): string | undefined {
  const all = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  const v4 = all.find((a) => a.family === 'IPv4' && /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a.address));
  const v6 = all.find((a) => a.family === 'IPv6' && /^f[cd]/i.test(a.address));
  return v4?.address ?? (v6 ? `[${v6.address}]` : undefined);
}

async function listenOn(t: TestContext, built: TestApp, host: string): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = built.app.listen(0, host.replace(/^\[|\]$/g, ''), () => resolve(s));
  });
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

const create = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ name: 'Night' }) }).then(async (r) => ({
    status: r.status,
    retryAfter: r.headers.get('Retry-After'),
    code: ((await r.json()) as { error?: { code: string } }).error?.code,
  }));

describe('whose X-Forwarded-For is believed', () => {
  it('by default only loopback proxies are trusted', () => {
    assert.equal(loadConfig({}).trustProxy, 'loopback');
    assert.equal(loadConfig({}).clientIpHeader, undefined);
  });

  it('a client on a private network rotating a spoofed X-Forwarded-For stays in its own bucket', async (t) => {
    const host = privateAddress();
    if (host === undefined) return t.skip('this machine has no address in a private range to connect from');
    const built = await buildApp(t, { config: { trustProxy: loadConfig({}).trustProxy, rateLimits: { enabled: true, createPerHour: 3 } } });
    const url = await listenOn(t, built, host);
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await create(url, { 'X-Forwarded-For': `10.0.0.${i + 1}` }));
    assert.deepEqual(answers.map((a) => a.status), [201, 201, 201, 429, 429, 429]);
    assert.equal(answers[3]!.code, 'rate_limited');
    assert.ok(Number(answers[3]!.retryAfter) > 0);
  });

  it('behind a proxy on loopback, X-Forwarded-For still names the client', async (t) => {
    const built = await buildApp(t, { config: { trustProxy: loadConfig({}).trustProxy, rateLimits: { enabled: true, createPerHour: 1 } } });
    const url = await listenOn(t, built, '127.0.0.1');
    assert.equal((await create(url, { 'X-Forwarded-For': '203.0.113.1' })).status, 201);
    assert.equal((await create(url, { 'X-Forwarded-For': '203.0.113.1' })).status, 429);
    assert.equal((await create(url, { 'X-Forwarded-For': '203.0.113.2' })).status, 201);
  });

  it("TRUST_PROXY=fly counts by Fly-Client-IP, which Fly's proxy sets; X-Forwarded-For changes nothing", async (t) => {
    const fly = loadConfig({ TRUST_PROXY: 'fly' });
    assert.equal(fly.clientIpHeader, 'fly-client-ip');
    const built = await buildApp(t, { config: { trustProxy: fly.trustProxy, clientIpHeader: fly.clientIpHeader, rateLimits: { enabled: true, createPerHour: 2 } } });
    const url = await listenOn(t, built, '127.0.0.1');
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await create(url, { 'Fly-Client-IP': '203.0.113.7', 'X-Forwarded-For': `198.51.100.${i}` })).status);
    assert.deepEqual(statuses, [201, 201, 429, 429]);
    assert.equal((await create(url, { 'Fly-Client-IP': '203.0.113.8' })).status, 201, 'another client has its own bucket');
    // Not through the proxy (no Fly-Client-IP): the connection's own address, whatever X-Forwarded-For says.
    assert.equal((await create(url, { 'X-Forwarded-For': '198.51.100.50' })).status, 201);
    assert.equal((await create(url, { 'X-Forwarded-For': '198.51.100.51' })).status, 201);
    assert.equal((await create(url, { 'X-Forwarded-For': '198.51.100.52' })).status, 429);
  });
});
