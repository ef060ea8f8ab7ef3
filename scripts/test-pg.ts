// `npm run test:pg`: the store-facing suites again on PostgreSQL, one throw-away cluster for the run.
// The same test files as `npm test`: the store under test is chosen by TEST_DATABASE_URL.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPgCluster } from './pg-cluster.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.join(here, '..', 'test');

/** Every suite that goes through the store: the API, queue, events, songbook, nights, fuzz, and PostgreSQL's own. */
export const PG_SUITES = [
  'api', 'errors', 'names', 'sse', 'turns', 'queue', 'rotation', 'undo-hold', 'nights', 'songbook-api', 'pages', 'qr', 'health',
  'ops-admin', 'limits', 'fuzz', 'pg-store', 'pg-instances.pg', 'pg-move-store.pg', 'push-restart',
];

const cluster = await startPgCluster();
console.log(`PostgreSQL ${cluster.url} (throw-away cluster in ${cluster.dir})`);
// `name.pg` is a suite of PostgreSQL's alone (name.pg-test.js): npm test does not list it, so a
// machine without PostgreSQL says once, in pg-store.test.js, that these were not run.
// A suite's name, or a compiled file as `npm test` names it (dist/test/push.test.js).
const file = (name: string) =>
  name.endsWith('.js') ? path.resolve(name) : path.join(testDir, name.endsWith('.pg') ? `${name}-test.js` : `${name}.test.js`);
const files = (process.argv.length > 2 ? process.argv.slice(2) : PG_SUITES).map(file);
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--test', ...files], { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: cluster.url } });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await cluster.destroy();
process.exit(code);
