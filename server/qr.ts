import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Router, type NextFunction, type Response } from 'express';
import QRCode from 'qrcode';
import { Errors } from './errors.js';
import { removeFileDurable, removeStaleTempFiles, writeFileDurable } from './lib/durable-file.js';
import { sessionLinks } from './model/links.js';
import { normalizeSessionId, type StoredSession } from './model/session.js';

/** PNG of a URL, sized for a TV across a room; deterministic, so a rebuilt file is byte-identical. */
export function renderQrPng(url: string): Promise<Buffer> {
  return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 480 });
}

/** Names the PUBLIC_URL the cached PNGs encode; a dot file, so never taken for a session's PNG. */
export const QR_URL_MARKER = '.public-url';
export const QR_DIR = 'qr-codes';
const QR_HEADERS = { 'Cache-Control': 'public, max-age=3600', 'Content-Type': 'image/png' };

/**
 * The one owner of the QR PNGs in DATA_DIR/qr-codes: a cache of each session's join URL, written
 * durably at creation and rebuilt whenever missing. Nothing else touches the folder.
 */
export class QrCodes {
  private readonly inFlight = new Map<string, Promise<void>>();
  readonly dir: string;

  constructor(
    dataDir: string,
    protected readonly publicUrl: string | undefined,
  ) {
    this.dir = path.join(dataDir, QR_DIR);
  }

  /** Callers pass validated session ids only, so the path cannot leave the folder. */
  private pathOf(sessionId: string): string {
    return path.join(this.dir, `${sessionId}.png`);
  }

  /** Create the folder and clear temp files an interrupted write left. */
  async prepare(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await removeStaleTempFiles(this.dir);
  }

  async write(session: Pick<StoredSession, 'id' | 'origin'>): Promise<void> {
    await this.writePng(session.id, await renderQrPng(sessionLinks(session, this.publicUrl).joinUrl));
  }

  /** A PNG made elsewhere (an imported one, whose printed copies must keep working). */
  async writePng(sessionId: string, png: Uint8Array): Promise<void> {
    try {
      await writeFileDurable(this.pathOf(sessionId), png);
    } catch (err) {
      // A full or read-only disk is the operator's problem to fix, not a server bug: 503, like data.json.
      throw Errors.storageUnavailable(err);
    }
  }

  /** The PNG to send for a session; the JSON store's cache sends the file itself. */
  protected async send(session: StoredSession, res: Response, next: NextFunction): Promise<void> {
    await this.ensure(session);
    res.sendFile(
      this.pathOf(session.id),
      { headers: QR_HEADERS },
      (err?: Error & { code?: string }) => {
        // Deleted between the check and the read: the session is gone too.
        // ECONNABORTED: the client went away mid-download; nothing to answer or log.
        if (!err || err.code === 'ECONNABORTED') return;
        if (!res.headersSent) next(err.code === 'ENOENT' ? Errors.sessionNotFound() : err);
      },
    );
  }

  /** Rebuild a missing PNG once, however many requests ask for it at the same moment. */
  async ensure(session: StoredSession): Promise<void> {
    if (await this.exists(session.id)) return;
    let pending = this.inFlight.get(session.id);
    if (!pending) {
      pending = this.write(session).finally(() => this.inFlight.delete(session.id));
      this.inFlight.set(session.id, pending);
    }
    await pending;
  }

  remove(sessionId: string): Promise<void> {
    return removeFileDurable(this.pathOf(sessionId));
  }

  async exists(sessionId: string): Promise<boolean> {
    return fs.stat(this.pathOf(sessionId)).then((s) => s.isFile(), () => false);
  }

  /** Session ids that have a PNG in the folder. */
  async list(): Promise<string[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.png') && !n.startsWith('.')).map((n) => n.slice(0, -4));
  }

  /** PNGs of sessions that do not exist, written before `before` (younger ones may belong to a session being created). */
  async orphans(isLive: (id: string) => boolean, before: number): Promise<string[]> {
    const found: string[] = [];
    for (const id of await this.list()) {
      if (isLive(id)) continue;
      const stat = await fs.stat(this.pathOf(id)).catch(() => undefined);
      if (stat && stat.mtimeMs < before) found.push(id);
    }
    return found;
  }

  /**
   * The PNGs encode PUBLIC_URL when it is set. When it differs from the one they were made for
   * (a custom domain added after the first deploy), they are removed, to be rebuilt on demand with
   * the new address. Returns how many were removed.
   */
  async keepFor(): Promise<number> {
    const marker = path.join(this.dir, QR_URL_MARKER);
    const wanted = this.publicUrl ?? '';
    // No marker: made before markers existed, without a PUBLIC_URL if there is none now.
    const madeFor = await fs.readFile(marker, 'utf8').catch(() => '');
    if (madeFor === wanted) return 0;
    const stale = await this.list();
    for (const id of stale) await this.remove(id);
    await writeFileDurable(marker, wanted);
    return stale.length;
  }

  /** GET /qr-codes/<code>.png for a durable session, rebuilt first if it is missing. */
  router(find: (id: string) => StoredSession | undefined): Router {
    const router = Router();
    router.get('/qr-codes/:file', async (req, res, next) => {
      const match = /^(.+)\.png$/i.exec(req.params.file);
      const id = match ? normalizeSessionId(match[1]!) : undefined;
      const session = id ? find(id) : undefined;
      if (!session) throw Errors.sessionNotFound();
      await this.send(session, res, next);
    });
    return router;
  }
}

/**
 * The QR PNGs of a service on a shared database, which has no DATA_DIR: rendered from the join URL
 * on first use and kept in memory (the newest `max`). They are deterministic, so every instance
 * renders the same bytes the JSON store keeps on disk.
 */
export class MemoryQrCodes extends QrCodes {
  private readonly pngs = new Map<string, Buffer>();
  private readonly rendering = new Map<string, Promise<Buffer>>();

  constructor(
    publicUrl: string | undefined,
    private readonly max = 2000,
  ) {
    super('', publicUrl);
  }

  override async prepare(): Promise<void> {}

  override async write(session: Pick<StoredSession, 'id' | 'origin'>): Promise<void> {
    this.keep(session.id, await renderQrPng(sessionLinks(session, this.publicUrl).joinUrl));
  }

  override async writePng(sessionId: string, png: Uint8Array): Promise<void> {
    this.keep(sessionId, Buffer.from(png));
  }

  override async ensure(session: StoredSession): Promise<void> {
    await this.png(session);
  }

  /** The PNG, rendered once however many requests ask for it at the same moment. */
  async png(session: StoredSession): Promise<Buffer> {
    const kept = this.pngs.get(session.id);
    if (kept) return kept;
    let pending = this.rendering.get(session.id);
    if (!pending) {
      pending = renderQrPng(sessionLinks(session, this.publicUrl).joinUrl)
        .then((png) => this.keep(session.id, png))
        .finally(() => this.rendering.delete(session.id));
      this.rendering.set(session.id, pending);
    }
    return pending;
  }

  private keep(sessionId: string, png: Buffer): Buffer {
    this.pngs.delete(sessionId);
    this.pngs.set(sessionId, png);
    // Map order is insertion order: the first entry is the oldest.
    for (const id of this.pngs.keys()) {
      if (this.pngs.size <= this.max) break;
      this.pngs.delete(id);
    }
    return png;
  }

  override async remove(sessionId: string): Promise<void> {
    this.pngs.delete(sessionId);
  }

  override async exists(sessionId: string): Promise<boolean> {
    return this.pngs.has(sessionId);
  }

  override async list(): Promise<string[]> {
    return [...this.pngs.keys()];
  }

  /** Nothing outlives its session here: a restart empties the cache. */
  override async orphans(): Promise<string[]> {
    return [];
  }

  override async keepFor(): Promise<number> {
    return 0;
  }

  protected override async send(session: StoredSession, res: Response): Promise<void> {
    const png = await this.png(session);
    res.set(QR_HEADERS).end(png);
  }
}
