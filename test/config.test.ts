import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adminTokenProblem, ConfigError, loadConfig } from '../server/config.js';

describe('configuration', () => {
  it('has safe defaults: port 3000, ./data in development, /data in production', () => {
    const dev = loadConfig({}, '/srv/app');
    assert.equal(dev.port, 3000);
    assert.equal(dev.host, '0.0.0.0');
    assert.equal(dev.dataDir, path.resolve('/srv/app/data'));
    assert.equal(dev.publicUrl, undefined);
    assert.equal(dev.rateLimits.enabled, true);
    assert.equal(loadConfig({ NODE_ENV: 'production' }).dataDir, '/data');
    assert.ok(Object.isFrozen(dev));
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({ PORT: '8080', DATA_DIR: '/tmp/k', PUBLIC_URL: 'https://my-karaoke.fly.dev/', RATE_LIMIT: 'off', LOG_LEVEL: 'warn' });
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, '/tmp/k');
    assert.equal(c.publicUrl, 'https://my-karaoke.fly.dev');
    assert.equal(c.rateLimits.enabled, false);
    assert.equal(c.logLevel, 'warn');
  });

  it('fails with one message naming every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', PUBLIC_URL: 'ftp://x', RATE_LIMIT: 'maybe' }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /PORT/);
        assert.match(err.message, /PUBLIC_URL/);
        assert.match(err.message, /RATE_LIMIT/);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      },
    );
    assert.throws(() => loadConfig({ PUBLIC_URL: 'https://x.example/path' }), /origin/);
    assert.throws(() => loadConfig({ PUBLIC_URL: 'my-karaoke.fly.dev' }), (err: Error) => err instanceof ConfigError && /PUBLIC_URL/.test(err.message));
  });

  it('refuses an ADMIN_TOKEN without real entropy, at start and in the scripts alike', () => {
    const weak: [string, RegExp][] = [
      ['a'.repeat(32), /simple run/],
      ['abcdefghijklmnopqrstuvwxyz', /simple run/],
      ['0123456789:;<=>?@ABCDEFGHIJ', /simple run/],
      ['zyxwvutsrqponmlkjihgfedcba', /simple run/],
      ['abababababababababababab', /at least 10 distinct characters/],
      ['passwordpasswordpassword', /at least 10 distinct characters/],
      ['short', /at least 24 characters/],
    ];
    for (const [token, why] of weak) {
      assert.throws(() => loadConfig({ ADMIN_TOKEN: token }), (err: Error) => err instanceof ConfigError && /^Invalid configuration: ADMIN_TOKEN /.test(err.message) && why.test(err.message), token);
      assert.match(adminTokenProblem(token) ?? '', why, `the scripts' check agrees on ${token}`);
    }
    const strong = 'Hf3kQ9tZ2wLm8RvX5cBn7JdP';
    assert.equal(loadConfig({ ADMIN_TOKEN: strong }).adminToken, strong);
    assert.equal(adminTokenProblem(strong), undefined);
    assert.equal(adminTokenProblem('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'), undefined, 'openssl rand -hex 32');
  });
});
