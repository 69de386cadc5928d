/** Test support (not exported). */
import assert from 'node:assert/strict';
import type { RawImage } from '../raw-image.ts';

/**
 * A BMP reader written from the format description (not from the writer): BITMAPFILEHEADER, BITMAPINFOHEADER,
 * 24-bit BI_RGB rows bottom-up when the height is positive, BGR order, rows padded to 4 bytes.
 */
export function decodeBmp(bytes: Uint8Array): RawImage & { header: Record<string, number> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(String.fromCharCode(bytes[0]!, bytes[1]!), 'BM', 'signature');
  const header = {
    fileSize: view.getUint32(2, true),
    dataOffset: view.getUint32(10, true),
    infoSize: view.getUint32(14, true),
    width: view.getInt32(18, true),
    height: view.getInt32(22, true),
    planes: view.getUint16(26, true),
    bitCount: view.getUint16(28, true),
    compression: view.getUint32(30, true),
    imageSize: view.getUint32(34, true),
  };
  assert.equal(header.fileSize, bytes.length, 'file size field');
  assert.equal(header.infoSize, 40, 'BITMAPINFOHEADER');
  assert.equal(header.planes, 1);
  assert.equal(header.bitCount, 24);
  assert.equal(header.compression, 0, 'BI_RGB');
  const width = header.width;
  const height = Math.abs(header.height);
  const stride = Math.floor((24 * width + 31) / 32) * 4;
  assert.equal(header.dataOffset + stride * height, bytes.length, 'pixel array size');
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const y = header.height > 0 ? height - 1 - row : row;
    const start = header.dataOffset + row * stride;
    for (let x = 0; x < width; x++) {
      data[(y * width + x) * 3] = bytes[start + x * 3 + 2]!;
      data[(y * width + x) * 3 + 1] = bytes[start + x * 3 + 1]!;
      data[(y * width + x) * 3 + 2] = bytes[start + x * 3]!;
    }
    for (let pad = width * 3; pad < stride; pad++) assert.equal(bytes[start + pad], 0, 'padding bytes are zero');
  }
  return { data, width, height, channels: 3, header };
}
