import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Errors } from '../errors.js';
import { removeFileDurable, removeStaleTempFiles, writeFileDurable } from './durable-file.js';

/** Names the PUBLIC_URL the cached PNGs encode; a dot file, so never taken for a session's PNG. */
export const QR_URL_MARKER = '.public-url';

/** The QR PNG cache in DATA_DIR/qr-codes: rebuildable, but written durably like everything else. */
export class QrFiles {
  constructor(readonly dir: string) {}

  /** Callers pass validated session ids only, so the path cannot leave the folder. */
  pathOf(sessionId: string): string {
    return path.join(this.dir, `${sessionId}.png`);
  }

  async write(sessionId: string, png: Uint8Array): Promise<void> {
    try {
      await writeFileDurable(this.pathOf(sessionId), png);
    } catch (err) {
      // A full or read-only disk is the operator's problem to fix, not a server bug: 503, like data.json.
      throw Errors.storageUnavailable(err);
    }
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

  async prepare(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await removeStaleTempFiles(this.dir);
  }

  /**
   * The PNGs encode PUBLIC_URL when it is set. When it differs from the one they were made for
   * (a custom domain added after the first deploy), they are removed, to be rebuilt on demand with
   * the new address. Returns how many were removed.
   */
  async keepFor(publicUrl: string | undefined): Promise<number> {
    const marker = path.join(this.dir, QR_URL_MARKER);
    const wanted = publicUrl ?? '';
    // No marker: made before markers existed, without a PUBLIC_URL if there is none now.
    const madeFor = await fs.readFile(marker, 'utf8').catch(() => '');
    if (madeFor === wanted) return 0;
    const stale = await this.list();
    for (const id of stale) await this.remove(id);
    await writeFileDurable(marker, wanted);
    return stale.length;
  }
}
