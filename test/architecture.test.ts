import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../server/', import.meta.url));

/** The floors of docs/architecture.md, top first: a module may import only from floors below its own. */
const FLOORS: readonly string[][] = [
  ['main.ts', 'legacy'],
  ['app.ts', 'services.ts'],
  ['http'],
  ['ops'],
  ['sessions/changes.ts'],
  ['sessions', 'songbook', 'push', 'events.ts', 'qr.ts'],
  ['errors.ts', 'config.ts'],
  ['store'],
  ['model', 'lib'],
];

function unitOf(file: string): string {
  const rel = path.relative(SERVER, file).split(path.sep).join('/');
  if (rel === 'sessions/changes.ts') return rel;
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel;
}

const floorOf = (unit: string): number => FLOORS.findIndex((units) => units.includes(unit));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('the server layout', () => {
  it('the server reads top to bottom: no import runs back up a floor, and only store/index.ts opens the store', () => {
    const problems: string[] = [];
    for (const file of sources(SERVER)) {
      const unit = unitOf(file);
      const floor = floorOf(unit);
      if (floor === -1) problems.push(`${unit} is on no floor of docs/architecture.md`);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
        const target = path.resolve(path.dirname(file), spec!.replace(/\.js$/, '.ts'));
        const targetUnit = unitOf(target);
        if (targetUnit === unit) continue;
        const rel = path.relative(SERVER, file);
        if (floorOf(targetUnit) <= floor) problems.push(`${rel} imports ${path.relative(SERVER, target)}, which is not below it`);
        if (targetUnit === 'store' && !target.endsWith(`${path.sep}store${path.sep}index.ts`)) {
          problems.push(`${rel} imports ${path.relative(SERVER, target)} instead of store/index.ts`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
