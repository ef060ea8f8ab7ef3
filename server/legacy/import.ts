import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { testConfig } from '../config.js';
import { QrCodes } from '../qr.js';
import { buildServices } from '../services.js';
import { normalizeSessionId, type StoredSession } from '../model/session.js';
import { newItemId, newSessionId } from '../sessions/ids.js';
import { hostUrl, sessionLinks } from '../model/links.js';
import {
  alreadyImported,
  appendImportRecord,
  convertLegacy,
  importedLegacyIds,
  parseLegacy,
  readImportRecord,
  type ConvertedSession,
} from './convert.js';
import { DATA_FILE, openStore, readStoredData } from '../store/index.js';

export interface LegacyImportOptions {
  /** The old app folder: data.json and public/qr-codes/ inside it. */
  from: string;
  dataDir: string;
  merge: boolean;
  dryRun: boolean;
  origin?: string | undefined;
  publicUrl?: string | undefined;
  now?: () => Date;
}

export interface LegacyImportReport {
  lines: string[];
  imported: string[];
  skipped: string[];
  qrCopied: number;
  qrGenerated: number;
}

export class LegacyImportError extends Error {
  override name = 'LegacyImportError';
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DEFAULT_ORIGIN = 'http://localhost:3000';

function originOf(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

async function readLegacy(from: string) {
  const file = path.join(from, 'data.json');
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new LegacyImportError(err.code === 'ENOENT' ? `There is no data.json in ${from}.` : `Cannot read ${file}: ${err.message}`);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LegacyImportError(`${file} is not valid JSON (${(err as Error).message}).`);
  }
  try {
    return { file, legacy: parseLegacy(raw, file) };
  } catch (err) {
    throw new LegacyImportError((err as Error).message);
  }
}

/** Legacy PNGs by session code; file names of the old app may be lower case. */
async function legacyPngs(from: string): Promise<Map<string, string>> {
  const dir = path.join(from, 'public', 'qr-codes');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const byId = new Map<string, string>();
  for (const name of names) {
    const id = name.toLowerCase().endsWith('.png') ? normalizeSessionId(name.slice(0, -4)) : undefined;
    if (id) byId.set(id, path.join(dir, name));
  }
  return byId;
}

/** Sessions already in DATA_DIR (with any journal replayed), read without taking the lock or writing anything (dry run). */
async function peekExisting(dataDir: string): Promise<StoredSession[]> {
  try {
    return Object.values((await readStoredData(dataDir)).sessions);
  } catch (err) {
    throw new LegacyImportError(`${(err as Error).message} Nothing was imported.`);
  }
}

function describe(c: ConvertedSession): string {
  const s = c.session;
  const parts = [`${s.queue.length} queued`, `${s.history.length} in history`, `${s.singers.length} singers`];
  if (s.nowSinging) parts.splice(1, 0, '1 singing');
  if (c.skippedSongs > 0) parts.push(`${c.skippedSongs} songs without a title left out`);
  return parts.join(', ');
}

/**
 * Copy a legacy app's sessions and QR PNGs into DATA_DIR once. Refuses a DATA_DIR that already
 * has sessions unless merging; never changes an existing session or overwrites an existing file.
 */
export async function importLegacy(options: LegacyImportOptions): Promise<LegacyImportReport> {
  const now = (options.now ?? (() => new Date()))();
  const { file, legacy } = await readLegacy(options.from);
  const pngs = await legacyPngs(options.from);
  const prefix = options.dryRun ? 'would ' : '';
  const lines = [`read ${legacy.sessions.length} session(s) from ${file} and ${pngs.size} QR file(s) from ${path.join(options.from, 'public', 'qr-codes')}`];
  let origin = originOf(options.origin) ?? originOf(legacy.baseUrl) ?? originOf(options.publicUrl);
  if (!origin) {
    origin = DEFAULT_ORIGIN;
    lines.push(`no --origin, baseUrl or PUBLIC_URL: links use ${DEFAULT_ORIGIN} unless the server runs with PUBLIC_URL set`);
  }

  const opened = options.dryRun ? null : await openStore({ dataDir: options.dataDir });
  try {
    const store = opened?.store;
    const existing = store ? [...store.sessions()] : await peekExisting(options.dataDir);
    if (existing.length > 0 && !options.merge) {
      throw new LegacyImportError(
        `${options.dataDir} already has ${existing.length} session(s). Run with --merge to add the legacy sessions beside them ` +
          '(existing sessions are never changed). Nothing was imported.',
      );
    }
    const record = await readImportRecord(options.dataDir).catch((err: Error) => {
      throw new LegacyImportError(err.message);
    });
    const before = importedLegacyIds(record);
    const skipped: string[] = [];
    const fresh = legacy.sessions.filter((l) => {
      const id = before.get(l.id) ?? existing.find((e) => alreadyImported(e, l))?.id;
      if (id !== undefined) {
        skipped.push(id);
        lines.push(`${id}: already imported from legacy code ${JSON.stringify(l.id)}, left as it is`);
      }
      return id === undefined;
    });
    const { converted, data } = convertLegacy(
      { ...legacy, sessions: fresh },
      {
        now,
        origin,
        takenIds: new Set(existing.map((e) => e.id)),
        newSessionId,
        newItemId,
      },
    );

    // The plan: what happens to each session and its QR code. A dry run prints it; a real run applies it.
    const qr = new QrCodes(options.dataDir, options.publicUrl);
    const plan: { session: StoredSession; png: Buffer | null; generate: boolean; lines: string[] }[] = [];
    for (const c of converted) {
      const s = data.sessions[c.session.id]!;
      const was = c.idChanged ? ` (legacy code ${JSON.stringify(c.legacyId)} was ${normalizeSessionId(c.legacyId) ? 'taken' : 'not a valid code'})` : '';
      const step = { session: s, png: null as Buffer | null, generate: false, lines: [`${s.id} "${s.name}"${was}: ${prefix}import ${describe(c)}`] };
      const source = c.idChanged ? undefined : pngs.get(s.id);
      const png = source ? await fs.readFile(source).catch(() => undefined) : undefined;
      if (await qr.exists(s.id)) {
        step.lines.push(`  kept the QR file already in ${qr.dir}`);
      } else if (png && png.subarray(0, 8).equals(PNG_SIGNATURE)) {
        step.png = png;
        step.lines.push(`  ${prefix}copy QR code ${path.basename(source!)}: printed copies keep working`);
      } else {
        step.generate = true;
        step.lines.push(
          `  ${prefix}write a new QR code for ${sessionLinks(s, options.publicUrl).joinUrl}` +
            (c.idChanged ? '; printed codes of the old one no longer work' : source ? ` (${path.basename(source)} is not a PNG)` : ''),
        );
      }
      if (c.newHostKey) step.lines.push(`  the legacy host key is too weak to keep; new host link: ${hostUrl(s, options.publicUrl, c.newHostKey)}`);
      plan.push(step);
    }

    if (store) {
      if (existing.length > 0 && plan.length > 0) {
        const backup = await store.backup('pre-legacy-import', { at: now });
        lines.push(`kept the current data as backups/${backup!.name}`);
      }
      const { changes } = buildServices({
        config: testConfig({ dataDir: options.dataDir, publicUrl: options.publicUrl }),
        store,
        log: pino({ level: 'silent' }),
        now: () => now,
      });
      // One group commit for all of them; resolves once data.json holds every session.
      await Promise.all(plan.map((step) => changes.commit(step.session)));
      if (plan.length > 0) {
        await appendImportRecord(options.dataDir, {
          at: now.toISOString(),
          from: file,
          sessions: Object.fromEntries(converted.map((c) => [c.legacyId, c.session.id])),
        });
      }
      await qr.prepare();
      for (const step of plan) {
        if (step.png) await qr.writePng(step.session.id, step.png);
        else if (step.generate) await qr.write(step.session);
      }
    }
    for (const step of plan) lines.push(...step.lines);
    const qrCopied = plan.filter((p) => p.png).length;
    const qrGenerated = plan.filter((p) => p.generate).length;
    const imported = converted.map((c) => c.session.id);
    lines.push(
      options.dryRun
        ? `dry run: nothing written; would import ${imported.length} session(s) into ${options.dataDir}`
        : `imported ${imported.length} session(s) into ${path.join(options.dataDir, DATA_FILE)} (${skipped.length} already there); ` +
            `${qrCopied} QR file(s) copied, ${qrGenerated} written new`,
    );
    return { lines, imported, skipped, qrCopied, qrGenerated };
  } finally {
    await opened?.store.close();
  }
}
