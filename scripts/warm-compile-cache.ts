// Loads every module a server start loads, and nothing more. Run with NODE_COMPILE_CACHE set (Node
// 22 and later; the image's build does, as the user that runs the server), Node keeps V8's compiled
// code for each of them as it exits, and every later start reads it instead of compiling: about a
// fifth of a cold start (docs/benchmarks.md). The modules have no side effects at import;
// server/main.ts, which has, is the one file left out.
// Run: NODE_COMPILE_CACHE=<dir> node dist/scripts/warm-compile-cache.js
const modules = [
  '../server/app.js',
  '../server/config.js',
  '../server/lib/startup-error.js',
  '../server/ops/disk.js',
  '../server/ops/maintenance.js',
  '../server/push/keys.js',
  '../server/services.js',
  '../server/store/index.js',
  // Loaded only with DATABASE_URL set (store/index.ts, openPgStore): a start on PostgreSQL needs it too.
  '../server/store/pg-store.js',
  'pino',
  // Loaded with the first notification (push/sender.ts), not at start.
  'web-push',
];

if (!process.env.NODE_COMPILE_CACHE) {
  process.stderr.write('warm-compile-cache: set NODE_COMPILE_CACHE to the folder the cache goes to\n');
  process.exit(1);
}
for (const name of modules) await import(name);
process.stdout.write(`warm-compile-cache: the modules of a start, from ${modules.length} entry points, compiled into ${process.env.NODE_COMPILE_CACHE}\n`);
