import { Router } from 'express';
import QRCode from 'qrcode';
import { Errors } from './errors.js';
import type { StoredSession } from './sessions/model.js';
import { normalizeSessionId } from './sessions/model.js';
import { sessionLinks } from './sessions/view.js';
import type { SessionStore } from './store/store.js';

/** PNG of a URL, sized for a TV across a room; deterministic, so a rebuilt file is byte-identical. */
export function renderQrPng(url: string): Promise<Buffer> {
  return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 480 });
}

/** The QR PNGs are a cache of each session's join URL: written at creation, rebuilt whenever missing. */
export class QrCodes {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: SessionStore,
    private readonly publicUrl: string | undefined,
  ) {}

  async write(session: StoredSession): Promise<void> {
    const png = await renderQrPng(sessionLinks(session, this.publicUrl).joinUrl);
    await this.store.qr.write(session.id, png);
  }

  /** Rebuild a missing PNG once, however many requests ask for it at the same moment. */
  async ensure(session: StoredSession): Promise<void> {
    if (await this.store.qr.exists(session.id)) return;
    let pending = this.inFlight.get(session.id);
    if (!pending) {
      pending = this.write(session).finally(() => this.inFlight.delete(session.id));
      this.inFlight.set(session.id, pending);
    }
    await pending;
  }

  router(): Router {
    const router = Router();
    router.get('/qr-codes/:file', async (req, res, next) => {
      const match = /^(.+)\.png$/i.exec(req.params.file);
      const id = match ? normalizeSessionId(match[1]!) : undefined;
      const session = id ? this.store.get(id) : undefined;
      if (!session) throw Errors.sessionNotFound();
      await this.ensure(session);
      res.sendFile(
        this.store.qr.pathOf(session.id),
        { headers: { 'Cache-Control': 'public, max-age=3600', 'Content-Type': 'image/png' } },
        (err?: Error & { code?: string }) => {
          // Deleted between the check and the read: the session is gone too.
          // ECONNABORTED: the client went away mid-download; nothing to answer or log.
          if (!err || err.code === 'ECONNABORTED') return;
          if (!res.headersSent) next(err.code === 'ENOENT' ? Errors.sessionNotFound() : err);
        },
      );
    });
    return router;
  }
}
