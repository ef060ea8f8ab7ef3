#!/usr/bin/env node
// Build before `npm start` (and the operator scripts) only when the compiled output is missing
// or older than its sources. Plain JavaScript, so it runs before anything is compiled. In the
// production image there are no sources (only dist/), and then it does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['server', 'scripts'];
const target = path.join(root, 'dist', 'server', 'main.js');
const buildInfo = path.join(root, 'dist', '.tsbuildinfo');

function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

if (!existsSync(path.join(root, 'server'))) process.exit(0);

const sources = Math.max(...SOURCE_DIRS.map((d) => newestSource(path.join(root, d))), mtime(path.join(root, 'tsconfig.json')));
// tsc rewrites only the outputs that changed, so the build info file dates the last build.
const built = existsSync(target) ? Math.max(mtime(target), mtime(buildInfo)) : 0;
if (built >= sources) process.exit(0);

let tsc;
try {
  tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('ensure-build: dist/ is missing or older than the sources, and TypeScript is not installed; run `npm install` (with dev dependencies) first.');
  process.exit(1);
}
console.error(existsSync(target) ? 'ensure-build: sources changed since the last build; compiling...' : 'ensure-build: no build yet; compiling...');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('ensure-build: the TypeScript build failed (see above).');
  process.exit(result.status ?? 1);
}
// An up-to-date build may rewrite nothing; mark it so the next start does not compile again.
// Sources dated in the future (a skewed clock, an archive) would otherwise rebuild on every start.
if (existsSync(buildInfo)) {
  // Dates hold whole milliseconds, file times nanoseconds: round up so the stamp is never older.
  const stamp = new Date(Math.max(Date.now(), Math.ceil(sources) + 1));
  utimesSync(buildInfo, stamp, stamp);
}
