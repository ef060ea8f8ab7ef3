// The yardstick the benchmarks compare against: Express 5 + helmet answering one tiny JSON route.
// It runs on the same Node, on the same machine, in the same run as the project's server, so a
// ratio to it cancels out most of what the machine and the runtime contribute.
// Usage: PORT=8081 node dist/scripts/bench/baseline-server.js
import express from 'express';
import helmet from 'helmet';

const port = Number(process.env.PORT ?? 0);
const app = express();
app.set('x-powered-by', false);
app.use(helmet());
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});

const server = app.listen(port, '127.0.0.1');
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
