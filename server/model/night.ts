import { z } from 'zod';
import { PastRequestSchema, SingerRefSchema, SongRequestSchema, type DeepReadonly } from './session.js';

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

/** A night that is over, as the archive keeps it: never part of tonight's state. */
export const ArchivedNightSchema = z.object({
  night: z.number().int().positive(),
  startedAt: iso,
  endedAt: iso,
  /** Every song that went on stage, in order, with its outcome. */
  songs: z.array(PastRequestSchema),
  /** Requests still queued when the night ended. */
  unsung: z.array(SongRequestSchema),
  singers: z.array(SingerRefSchema),
});
export type ArchivedNight = DeepReadonly<z.infer<typeof ArchivedNightSchema>>;

/** One line of the archive's list (GET /api/sessions/:id/nights). */
export interface NightSummary {
  night: number;
  startedAt: string;
  endedAt: string;
  /** Songs sung (skipped ones are not counted). */
  songs: number;
  singers: number;
}

export const summarizeNight = (n: ArchivedNight): NightSummary => ({
  night: n.night,
  startedAt: n.startedAt,
  endedAt: n.endedAt,
  songs: n.songs.filter((s) => s.outcome === 'sung').length,
  singers: n.singers.length,
});
