import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr ships CommonJS with an ES-style default export.
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = (jsQRModule as unknown as { default: Decode }).default;

/** Decode a QR PNG back to its text, as a phone camera would. */
export function decodeQr(png: Buffer): string {
  const image = PNG.sync.read(png);
  const code = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  if (!code) throw new Error('no QR code found in the image');
  return code.data;
}
