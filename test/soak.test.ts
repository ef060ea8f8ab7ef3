// The soak in its CI length: 15 seconds of a busy night against the real server process
// (scripts/soak.ts checks errors, memory, stream counts and data.json; see docs/benchmarks.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SOAK = fileURLToPath(new URL('../scripts/soak.js', import.meta.url));

describe('soak', () => {
  it('a 15-second night with 500 event streams ends with no errors, flat memory, no streams left and a valid data.json', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [SOAK, '--seconds', '15', '--clients', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);
    assert.match(output, /^PASS$/m);
    assert.match(output, /streams opened/);
  });
});
