// Where the time went in a V8 CPU profile (node --cpu-prof): self time per function and per
// package or project file, so a profile can be read without DevTools.
// Usage: node dist/scripts/bench/profile-summary.js FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package>, the project's own file, or the Node internal area. */
function owner(url: string): string {
  if (url === '') return '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  const own = /\/(server|scripts)\/(.+)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

export function summarize(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const perFunction = new Map<string, number>();
  const perOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${owner(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = where ? `${name} ${where}` : name;
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    perOwner.set(owner(callFrame.url), (perOwner.get(owner(callFrame.url)) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return [
    `total sampled: ${(total / 1000).toFixed(0)} ms`,
    '',
    'self time by package or file:',
    ...rows(perOwner),
    '',
    'self time by function:',
    ...rows(perFunction),
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || positionals.length !== 1) {
    process.stdout.write('Usage: node dist/scripts/bench/profile-summary.js FILE.cpuprofile [--top N]\n');
    process.exit(values.help ? 0 : 1);
  }
  const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
  process.stdout.write(`${summarize(profile, Number(values.top ?? 25))}\n`);
}
