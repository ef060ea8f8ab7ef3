// What the machine itself did during a measurement: CPU time the hypervisor gave to others (steal),
// from /proc/stat. A round whose client was sent late while steal rose
// was stalled by the host, not by the server.
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  /** Milliseconds summed over all CPUs since boot. */
  stealMs: number;
  totalMs: number;
}

/**
 * Above this share of stolen CPU time a measurement says more about the host than about the
 * server: here, songbook rounds of 0.3-1.3 % steal gave search p99s of 3-4.5 ms and rounds of
 * 9-12 % gave 17-26 ms, with the search client itself sent up to 26 ms late and the plain GETs'
 * p99 rising alike.
 */
export const STEAL_LIMIT = 0.03;

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Undefined where there is no /proc/stat (not Linux). */
export function cpuTimes(): CpuTimes | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { stealMs: (fields[7] ?? 0) * TICK_MS, totalMs: total * TICK_MS };
}

/** Share of all CPU time between two readings that was stolen, 0-1. */
export function stealShare(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after || after.totalMs <= before.totalMs) return undefined;
  return (after.stealMs - before.stealMs) / (after.totalMs - before.totalMs);
}
