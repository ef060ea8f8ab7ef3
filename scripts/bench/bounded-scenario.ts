// Bounded state: what a big night (300 singers, 300 songs sung) costs next to a fresh one, measured
// in the same server and alternating rounds, so the ratio says what the size of a session costs.
import { SESSION_ID_ALPHABET } from '../../server/model/session.js';
import type { LoadJob, LoadResult } from './load.js';
import type { ServerProcess } from './processes.js';
import { alternate, fanoutScenario, type BenchContext, type FanoutScenario, type HttpScenario } from './scenarios.js';
import { api, builtSession, rng, type BuiltSession, type SessionProfile } from './seed.js';

/** The night of the targets: 300 singers, 300 songs sung, one on stage, 30 waiting. */
export const BIG_PROFILE: SessionProfile = { singers: 300, queued: 30, sung: 300 };
/** The same change on a night just begun: the same queue over three singers, nothing sung yet. */
export const FRESH_PROFILE: SessionProfile = { singers: 3, queued: 30, sung: 0 };
export const JOIN_BIG_PROFILE: SessionProfile = { singers: 290, queued: 0, sung: 0 };
export const JOIN_FRESH_PROFILE: SessionProfile = { singers: 0, queued: 0, sung: 0 };
/** Sessions the joins are spread over: enough that each big one stays near 290 singers during the run. */
export const JOIN_SESSIONS = 200;

export interface BoundedSessions {
  /** One per connection of the host scenario; the first is also read and watched. */
  big: BuiltSession[];
  fresh: BuiltSession[];
  joinBig: BuiltSession[];
  joinFresh: BuiltSession[];
}

/** Session codes that padStore's random ones cannot take: every one starts with "ZZ". */
function code(n: number): string {
  let rest = '';
  for (let i = 0; i < 4; i += 1, n = Math.floor(n / SESSION_ID_ALPHABET.length)) rest = SESSION_ID_ALPHABET[n % SESSION_ID_ALPHABET.length] + rest;
  return `ZZ${rest}`;
}

export function boundedSessions(hosts: number, joinSessions = JOIN_SESSIONS): BoundedSessions {
  const random = rng(12);
  let n = 0;
  const make = (profile: SessionProfile) => builtSession(code((n += 1)), profile, random);
  return {
    big: Array.from({ length: hosts }, () => make(BIG_PROFILE)),
    fresh: Array.from({ length: hosts }, () => make(FRESH_PROFILE)),
    joinBig: Array.from({ length: joinSessions }, () => make(JOIN_BIG_PROFILE)),
    joinFresh: Array.from({ length: joinSessions }, () => make(JOIN_FRESH_PROFILE)),
  };
}

export interface VersusScenario {
  name: string;
  bigRps: number;
  freshRps: number;
  ratio: number;
  bigP99: number;
  freshP99: number;
  non2xx: number;
  rounds: { fresh: LoadResult; big: LoadResult }[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function run(ctx: BenchContext, job: LoadJob): Promise<LoadResult> {
  const reply = await ctx.load.ask(job);
  if (!reply.result) throw new Error(`load generator failed: ${reply.error}`);
  return reply.result;
}

/** Warm both up, then fresh, big, fresh, big…: the same alternation as against the baseline. */
async function versus(ctx: BenchContext, name: string, fresh: (d: number, round: number) => LoadJob, big: (d: number, round: number) => LoadJob): Promise<VersusScenario> {
  if (ctx.warmup > 0) {
    await run(ctx, fresh(ctx.warmup, 0));
    await run(ctx, big(ctx.warmup, 0));
  }
  const rounds: VersusScenario['rounds'] = [];
  for (let round = 1; round <= ctx.rounds; round += 1) {
    const f = await run(ctx, fresh(ctx.duration, round));
    const b = await run(ctx, big(ctx.duration, round));
    ctx.log(`  ${name} round ${round}: fresh ${f.rps.toFixed(0)} req/s (p99 ${f.p99} ms), big ${b.rps.toFixed(0)} req/s (p99 ${b.p99} ms)`);
    rounds.push({ fresh: f, big: b });
  }
  const bigRps = mean(rounds.map((r) => r.big.rps));
  const freshRps = mean(rounds.map((r) => r.fresh.rps));
  return {
    name,
    bigRps,
    freshRps,
    ratio: bigRps / freshRps,
    bigP99: Math.max(...rounds.map((r) => r.big.p99)),
    freshP99: Math.max(...rounds.map((r) => r.fresh.p99)),
    non2xx: rounds.reduce((n, r) => n + r.big.non2xx + r.fresh.non2xx, 0),
    rounds,
  };
}

export interface BoundedScenario {
  stateBytes: { big: number; fresh: number };
  host: VersusScenario;
  join: VersusScenario;
  /** Singers in the big join sessions after the run: the joins make them grow from 290. */
  joinSingersAfter: { min: number; max: number };
  read: HttpScenario;
  fanout: FanoutScenario;
}

export async function boundedScenario(ctx: BenchContext, server: ServerProcess, sessions: BoundedSessions, fanoutClients: number, fanoutRounds: number): Promise<BoundedScenario> {
  const client = api(server.url);
  const size = async (id: string) => Buffer.byteLength(JSON.stringify(await client.call('GET', `/api/sessions/${id}`)));
  const [big, fresh] = [sessions.big[0]!, sessions.fresh[0]!];
  const stateBytes = { big: await size(big.id), fresh: await size(fresh.id) };
  ctx.log(`  bounded: state of the big night ${stateBytes.big} bytes, of the fresh one ${stateBytes.fresh}`);
  const hostJob = (list: BuiltSession[]) => (duration: number): LoadJob => ({
    kind: 'host',
    url: server.url,
    sessions: list.map(({ id, hostKey }) => ({ id, hostKey })),
    connections: ctx.connections,
    duration,
  });
  const host = await versus(ctx, 'host change (rename, move, next, undo): 300 singers and 300 sung vs fresh', hostJob(sessions.fresh), hostJob(sessions.big));
  const joinJob = (list: BuiltSession[], kind: string) => (duration: number, round: number): LoadJob => ({
    kind: 'joins',
    url: server.url,
    sessionIds: list.map((s) => s.id),
    connections: ctx.connections,
    duration,
    tag: `${kind}${round}-${Date.now().toString(36)}`,
  });
  const join = await versus(ctx, `join: ${sessions.joinBig.length} nights of 290 singers vs ${sessions.joinFresh.length} fresh`, joinJob(sessions.joinFresh, 'f'), joinJob(sessions.joinBig, 'b'));
  const counts = await Promise.all(sessions.joinBig.slice(0, 20).map(async (s) => (await client.call<{ singerCount: number }>('GET', `/api/sessions/${s.id}`)).singerCount));
  const read = await alternate(ctx, 'GET session (300 singers, 300 sung, 30 queued)', (duration) => ({ kind: 'get', url: server.url, path: `/api/sessions/${big.id}`, connections: ctx.connections, duration }));
  const fanout = await fanoutScenario(ctx, server, big, fanoutClients, fanoutRounds);
  return { stateBytes, host, join, joinSingersAfter: { min: Math.min(...counts), max: Math.max(...counts) }, read, fanout };
}
