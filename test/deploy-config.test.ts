// The deployment files are configuration that no unit test exercises and that only fails in
// production: a renamed mount, a machine that auto-stops, a shell-form CMD that swallows SIGTERM.
// These tests read fly.toml, Dockerfile and .dockerignore as files and check the facts that keep
// the data safe (see the operations issue).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';

// Compiled to dist/test/, so the repository root is two levels up.
const root = new URL('../../', import.meta.url);
const readRootFile = (name: string): string => readFileSync(new URL(name, root), 'utf8');

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function table(value: unknown, what: string): Table {
  assert.ok(isTable(value), `${what} must be a table`);
  return value;
}

/** [[x]] and [x] both parse; Fly accepts either for mounts, so treat a single table as a list of one. */
function tables(value: unknown, what: string): Table[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((item, i) => table(item, `${what}[${i}]`));
}

/**
 * Seconds in a Go-style duration ("30s", "1m30s", "500ms"). Bare numbers are rejected: in checks
 * Fly reads them as milliseconds, so `timeout = 5` would mean 5 ms.
 */
function durationSeconds(value: unknown, what: string): number {
  assert.equal(typeof value, 'string', `${what} must be a string with units, got ${JSON.stringify(value)}`);
  const text = value as string;
  assert.match(text, /^(\d+(\.\d+)?(h|m|s|ms))+$/, `${what} must carry units like "10s", got "${text}"`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let seconds = 0;
  for (const [, amount, , suffix] of text.matchAll(/(\d+(\.\d+)?)(ms|h|m|s)/g)) {
    seconds += Number(amount) * (unit[suffix as string] ?? Number.NaN);
  }
  return seconds;
}

const fly = parse(readRootFile('fly.toml')) as Table;
const httpService = table(fly.http_service, '[http_service]');
const env = table(fly.env, '[env]');

describe('fly.toml', () => {
  it('mounts exactly one volume, named karaoke_data, at /data', () => {
    const mounts = tables(fly.mounts, '[[mounts]]');
    assert.equal(mounts.length, 1, 'one Machine, one volume');
    assert.equal(mounts[0]?.destination, '/data');
    // Renaming the source silently points the app at a new, empty volume.
    assert.equal(mounts[0]?.source, 'karaoke_data');
  });

  it('keeps the Machine running: auto_stop_machines is the string "off" and min_machines_running >= 1', () => {
    // The string form; the boolean false is older syntax and reads as the opposite intent to a schema.
    assert.equal(httpService.auto_stop_machines, 'off');
    assert.equal(typeof httpService.min_machines_running, 'number');
    assert.ok((httpService.min_machines_running as number) >= 1, 'min_machines_running must be at least 1');
  });

  it('has no max_machines_running anywhere (Fly has no such key; one Machine comes from the volume)', () => {
    const sections: Table[] = [fly, httpService, ...tables(fly.services, '[[services]]')];
    for (const section of sections) {
      assert.equal('max_machines_running' in section, false, 'max_machines_running is not a fly.toml key');
    }
  });

  it('stops with SIGTERM and allows at least 10 s to flush', () => {
    assert.equal(fly.kill_signal, 'SIGTERM');
    // kill_timeout alone is documented in whole seconds when it has no units.
    const seconds =
      typeof fly.kill_timeout === 'number' ? fly.kill_timeout : durationSeconds(fly.kill_timeout, 'kill_timeout');
    assert.ok(seconds >= 10, `kill_timeout is ${seconds}s, needs >= 10s`);
    assert.ok(seconds <= 300, `kill_timeout is ${seconds}s, Fly's maximum is 300s`);
  });

  it('health-checks GET /healthz with units on every duration', () => {
    const checks = tables(httpService.checks, '[[http_service.checks]]');
    assert.ok(checks.length >= 1, 'at least one [[http_service.checks]]');
    const health = checks.find((check) => check.path === '/healthz');
    assert.ok(health, 'a check on /healthz');
    assert.equal(String(health.method ?? 'GET').toUpperCase(), 'GET');
    for (const key of ['grace_period', 'interval', 'timeout']) {
      assert.ok(durationSeconds(health[key], `checks.${key}`) > 0, `checks.${key} must be positive`);
    }
    assert.ok(
      durationSeconds(health.timeout, 'timeout') < durationSeconds(health.interval, 'interval'),
      'a check must time out before the next one starts',
    );
  });

  it('sets NODE_ENV=production, DATA_DIR=/data and a PORT equal to internal_port', () => {
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.DATA_DIR, '/data');
    assert.equal(typeof httpService.internal_port, 'number');
    // [env] values are strings; internal_port is a number.
    assert.equal(env.PORT, String(httpService.internal_port));
  });

  it('DATA_DIR is the mount destination', () => {
    const destinations = tables(fly.mounts, '[[mounts]]').map((mount) => mount.destination);
    assert.ok(destinations.includes(env.DATA_DIR), `DATA_DIR ${String(env.DATA_DIR)} is not a mounted volume`);
  });

  it('limits concurrency by connections, high enough for a room of SSE clients', () => {
    const concurrency = table(httpService.concurrency, '[http_service.concurrency]');
    assert.equal(concurrency.type, 'connections');
    assert.equal(typeof concurrency.hard_limit, 'number');
    assert.equal(typeof concurrency.soft_limit, 'number');
    assert.ok((concurrency.hard_limit as number) >= 500, 'hard_limit must be >= 500');
    assert.ok((concurrency.soft_limit as number) <= (concurrency.hard_limit as number), 'soft_limit <= hard_limit');
  });

  it('deploys with the rolling strategy (canary and bluegreen cannot use a volume)', () => {
    assert.equal(table(fly.deploy, '[deploy]').strategy, 'rolling');
  });

  it('forces HTTPS, since keys travel in fragments and headers', () => {
    assert.equal(httpService.force_https, true);
  });

  it('builds from the project Dockerfile', () => {
    assert.equal(table(fly.build, '[build]').dockerfile, 'Dockerfile');
  });
});

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions grouped by stage, with comments dropped and continuations joined. */
function dockerStages(text: string): Instruction[][] {
  const logical: string[] = [];
  let pending = '';
  for (const rawLine of text.split(/\r?\n/)) {
    if (/^\s*#/.test(rawLine)) continue; // comment lines may sit inside a continued instruction
    const line = rawLine.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full) logical.push(full);
  }
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    const current = stages.at(-1);
    assert.ok(current, `${instruction.keyword} before the first FROM`);
    current.push(instruction);
  }
  return stages;
}

/** ENV KEY=value KEY2="value" ... and the legacy ENV KEY value form. */
function envOf(stage: Instruction[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const { keyword, args } of stage) {
    if (keyword !== 'ENV') continue;
    if (!/^[\w.-]+=/.test(args)) {
      const [key, ...rest] = args.split(/\s+/);
      if (key) result.set(key, rest.join(' '));
      continue;
    }
    for (const [, key, quoted, bare] of args.matchAll(/([\w.-]+)=(?:"([^"]*)"|(\S*))/g)) {
      result.set(key as string, quoted ?? bare ?? '');
    }
  }
  return result;
}

const stages = dockerStages(readRootFile('Dockerfile'));
const finalStage = stages.at(-1) ?? [];
const finalOf = (keyword: string) => finalStage.filter((instruction) => instruction.keyword === keyword);

describe('Dockerfile', () => {
  it('has at least two stages, each FROM node:24', () => {
    assert.ok(stages.length >= 2, `multi-stage build expected, found ${stages.length} FROM`);
    for (const stage of stages) {
      assert.match(stage[0]?.args ?? '', /^(--platform=\S+\s+)?(docker\.io\/library\/)?node:24[\w.-]*(\s|$)/i);
    }
  });

  it('runs as the node user in the final stage', () => {
    const users = finalOf('USER');
    assert.ok(users.length > 0, 'the final stage needs a USER');
    assert.match(users.at(-1)?.args ?? '', /^node(:node)?$/);
  });

  it('starts node directly with an exec-form CMD, so SIGTERM reaches the server', () => {
    const cmd = finalOf('CMD').at(-1);
    assert.ok(cmd, 'the final stage needs a CMD');
    const argv: unknown = JSON.parse(cmd.args); // shell form is not JSON and fails here
    assert.ok(Array.isArray(argv), 'CMD must be a JSON array');
    assert.equal(argv[0], 'node');
    assert.equal(argv[1], 'dist/server/main.js');
    assert.equal(finalOf('ENTRYPOINT').length, 0, 'no ENTRYPOINT wrapping node in a shell');
  });

  it('has a HEALTHCHECK on /healthz in the final stage', () => {
    const healthcheck = finalOf('HEALTHCHECK').at(-1);
    assert.ok(healthcheck, 'HEALTHCHECK missing');
    assert.doesNotMatch(healthcheck.args, /^NONE$/i);
    assert.match(healthcheck.args, /\/healthz/);
  });

  it('drops dev dependencies before they reach the runtime image', () => {
    const runs = stages.flat().filter((instruction) => instruction.keyword === 'RUN');
    assert.ok(
      runs.some(({ args }) => /npm prune\b[^&;]*--omit[= ]dev|npm ci\b[^&;]*--omit[= ]dev/.test(args)),
      'expected `npm prune --omit=dev` (or npm ci --omit=dev)',
    );
  });

  it('sets DATA_DIR=/data and NODE_ENV=production in the final stage, with PORT equal to fly internal_port', () => {
    const vars = envOf(finalStage);
    assert.equal(vars.get('DATA_DIR'), '/data');
    assert.equal(vars.get('NODE_ENV'), 'production');
    assert.equal(vars.get('PORT'), String(httpService.internal_port));
    assert.ok(
      finalOf('EXPOSE').some(({ args }) => args.split(/\s+/).includes(String(httpService.internal_port))),
      'EXPOSE the internal port',
    );
  });

  it('ships package.json, node_modules, public/ and the server output, but not the compiled tests', () => {
    const copies = finalOf('COPY').map(({ args }) => args);
    assert.ok(copies.some((args) => /\bdist\/server\b/.test(args)), 'COPY dist/server');
    // package.json carries "type": "module"; without it node reads dist/**/*.js as CommonJS.
    for (const needed of ['package.json', 'node_modules', 'public']) {
      assert.ok(copies.some((args) => new RegExp(`(^|[\\s/])${needed}(\\s|/|$)`).test(args)), `COPY ${needed}`);
    }
    for (const args of copies) {
      assert.doesNotMatch(args, /\/dist\/?\s|\bdist\/test\b/, `copies more than the server output: COPY ${args}`);
    }
  });

  it('declares no VOLUME, so a run without -v is refused rather than given a throwaway volume', () => {
    assert.equal(finalOf('VOLUME').length, 0);
  });
});

/** .dockerignore semantics, simplified: root-relative globs, `*` within a segment, `**` across, last match wins. */
function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    const regex = new RegExp(
      `^${pattern
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*')}(/.*)?$`,
    );
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

describe('.dockerignore', () => {
  const patterns = readRootFile('.dockerignore')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps data, .git, tests, node_modules and secrets out of the build context', () => {
    for (const path of ['data', 'data/data.json', '.git', 'test', 'test/support/app.ts', 'node_modules', '.env', '.env.production']) {
      assert.ok(dockerIgnored(patterns, path), `${path} must be ignored`);
    }
  });

  it('keeps what the build needs', () => {
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'server/main.ts', 'scripts', 'public/index.html', 'Dockerfile']) {
      assert.equal(dockerIgnored(patterns, path), false, `${path} is needed by the build`);
    }
  });
});
