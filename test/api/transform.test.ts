/**
 * POST /v1/transform against the real API and stack: the output judged by independent expectations (sizes of every
 * fit mode computed here from the photo's own size, formats by their magic bytes and decoded size, format:auto by
 * Accept), the three request forms (raw body, multipart, JSON with a URL behind the SSRF guard), and every limit
 * and malformed recipe or image answered with its code. Nothing is stored for any of it: no S3 object, no row, no
 * event on images.uploaded.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { SsrfGuard } from '@imgpipe/egress';
import sharp from 'sharp';
import { NOTHING, tenantLeftovers, UploadedTopicWatch } from './leftovers.ts';
import { bearer, DOG_JPEG, problemOf, startTestApi, type TestApi, testTenant, tokenFor } from './support.ts';

const MAX_INPUT_BYTES = 2_000_000;

/** The expected output size of resize WxH with a fit on a w x h image, without enlargement (docs/transform.md). */
function fitted(w: number, h: number, W: number, H: number, fit: string): [number, number] {
  const sx = W / w;
  const sy = H / h;
  const byWidth = (): [number, number] => [W, Math.max(1, Math.round((h * W) / w))];
  const byHeight = (): [number, number] => [Math.max(1, Math.round((w * H) / h)), H];
  switch (fit) {
    case 'inside':
      return Math.min(sx, sy) >= 1 ? [w, h] : sx <= sy ? byWidth() : byHeight();
    case 'outside':
      return Math.max(sx, sy) >= 1 ? [w, h] : sx >= sy ? byWidth() : byHeight();
    case 'cover':
    case 'fill':
      return [Math.min(W, w), Math.min(H, h)];
    case 'contain':
      return [W, H];
    default:
      throw new Error(fit);
  }
}

const MAGIC: Record<string, (bytes: Buffer) => boolean> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  webp: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
  avif: (b) => b.toString('latin1', 4, 8) === 'ftyp' && b.toString('latin1', 8, 12) === 'avif',
  tiff: (b) => ['II*\0', 'MM\0*'].includes(b.toString('latin1', 0, 4)),
  gif: (b) => b.toString('latin1', 0, 6) === 'GIF89a' || b.toString('latin1', 0, 6) === 'GIF87a',
  bmp: (b) => b.toString('latin1', 0, 2) === 'BM',
};

/** The decoded size: sharp for what libvips reads, the BMP header (BITMAPINFOHEADER) read here for BMP. */
async function decodedSize(bytes: Buffer, format: string): Promise<[number, number]> {
  if (format === 'bmp') return [bytes.readInt32LE(18), Math.abs(bytes.readInt32LE(22))];
  const meta = await sharp(bytes).metadata();
  return [meta.width, meta.pageHeight ?? meta.height];
}

/** A real PNG whose header declares width x height (the pixels are a 1x1 image's: it is never decoded). */
function pngDeclaring(onePixelPng: Buffer, width: number, height: number): Buffer {
  const png = Buffer.from(onePixelPng);
  // IHDR data starts at 16: width, height (big-endian); its CRC covers the type and data (bytes 12-28).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const BOUNDARY = 'imgpipe-transform-boundary';
function multipart(parts: { name: string; filename?: string; body: Buffer | string }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n\r\n`),
      Buffer.from(part.body),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

describe('POST /v1/transform', () => {
  let api: TestApi;
  let origin: Server;
  let originUrl: string;
  let watch: UploadedTopicWatch;
  const tenant = testTenant('transform');
  const token = tokenFor(tenant, 'uploader');

  const raw = (ops: string | undefined, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/v1/transform${ops === undefined ? '' : `?ops=${encodeURIComponent(ops)}`}`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/octet-stream', ...headers },
      body,
    });

  async function expectProblem(response: Response, status: number, code: string) {
    const problem = await problemOf(response);
    assert.equal(response.status, status, JSON.stringify(problem));
    assert.equal(problem['code'], code, JSON.stringify(problem));
  }

  before(async () => {
    watch = await UploadedTopicWatch.start();
    // The origin a JSON `url` names: loopback, which this API's SSRF guard is told to allow (and nothing else).
    origin = createServer((request, response) => {
      if (request.url === '/dog.jpg') response.writeHead(200, { 'content-type': 'image/jpeg' }).end(DOG_JPEG);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    api = await startTestApi({
      guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }),
      transformLimits: {
        maxInputBytes: MAX_INPUT_BYTES,
        maxInputPixels: 100_000_000,
        maxOutputPixels: 100_000_000,
        maxOperations: 25,
        maxBlurSigma: 50,
        maxKernelSize: 15,
        maxFrames: 200,
      },
    });
  });
  after(async () => {
    await api?.close();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  test('every fit mode gives the size computed from the photo (768x576) and the box', async () => {
    const source = await sharp(DOG_JPEG).metadata();
    for (const [W, H] of [
      [300, 300],
      [400, 200],
      [1000, 100],
    ] as const) {
      for (const fit of ['inside', 'outside', 'cover', 'contain', 'fill']) {
        const response = await raw(`resize:${W}x${H}:${fit}/format:png`, DOG_JPEG);
        assert.equal(response.status, 200, `${fit} ${W}x${H}: ${response.status}`);
        const bytes = Buffer.from(await response.arrayBuffer());
        const expected = fitted(source.width, source.height, W, H, fit);
        assert.deepEqual(await decodedSize(bytes, 'png'), expected, `${fit} ${W}x${H}`);
        assert.deepEqual(
          [Number(response.headers.get('image-width')), Number(response.headers.get('image-height'))],
          expected,
          `${fit} ${W}x${H} headers`,
        );
      }
    }
    // One side only: the other follows the aspect ratio.
    const response = await raw('resize:384x/format:png', DOG_JPEG);
    assert.deepEqual(await decodedSize(Buffer.from(await response.arrayBuffer()), 'png'), [384, 288]);
  });

  test('each output format by its magic bytes, Content-Type and decoded size', async () => {
    const types: Record<string, string> = {
      jpeg: 'image/jpeg',
      png: 'image/png',
      webp: 'image/webp',
      avif: 'image/avif',
      tiff: 'image/tiff',
      gif: 'image/gif',
      bmp: 'image/bmp',
    };
    for (const [format, type] of Object.entries(types)) {
      const response = await raw(`resize:120x90:fill/format:${format}`, DOG_JPEG);
      assert.equal(response.status, 200, format);
      assert.equal(response.headers.get('content-type'), type);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(Number(response.headers.get('content-length')), bytes.byteLength);
      assert.ok(MAGIC[format]!(bytes), `${format} magic bytes: ${bytes.subarray(0, 12).toString('hex')}`);
      assert.deepEqual(await decodedSize(bytes, format), [120, 90], format);
    }
  });

  test('format:auto answers AVIF, WebP or JPEG by Accept, and says Vary: Accept', async () => {
    const cases: [string | undefined, string][] = [
      ['image/avif,image/webp,*/*', 'avif'],
      ['image/webp,image/*;q=0.8', 'webp'],
      ['image/avif;q=0,image/webp', 'webp'],
      ['image/*,*/*;q=0.8', 'jpeg'],
      [undefined, 'jpeg'],
    ];
    for (const [accept, format] of cases) {
      const response = await raw('resize:200x/format:auto', DOG_JPEG, accept ? { accept } : {});
      assert.equal(response.status, 200);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.ok(MAGIC[format]!(bytes), `Accept ${accept} -> ${format}`);
      assert.equal(response.headers.get('content-type'), `image/${format}`);
      assert.match(response.headers.get('vary') ?? '', /accept/i);
    }
    const fixed = await raw('resize:200x/format:png', DOG_JPEG, { accept: 'image/avif' });
    assert.doesNotMatch(fixed.headers.get('vary') ?? '', /accept/i);
  });

  test('multipart with ops or a JSON recipe, and JSON with a URL fetched behind the SSRF guard', async () => {
    const multi = (parts: Parameters<typeof multipart>[0]) =>
      fetch(`${api.url}/v1/transform`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart(parts),
      });
    let response = await multi([
      { name: 'ops', body: 'crop:0:0:100:50/format:webp' },
      { name: 'file', filename: 'dog.jpg', body: DOG_JPEG },
    ]);
    assert.equal(response.status, 200);
    let bytes = Buffer.from(await response.arrayBuffer());
    assert.ok(MAGIC['webp']!(bytes));
    assert.deepEqual(await decodedSize(bytes, 'webp'), [100, 50]);

    response = await multi([
      { name: 'file', filename: 'dog.jpg', body: DOG_JPEG },
      {
        name: 'recipe',
        body: JSON.stringify({
          ops: [
            { op: 'rotate', angle: 90 },
            { op: 'format', format: 'png' },
          ],
        }),
      },
    ]);
    assert.equal(response.status, 200);
    assert.deepEqual(await decodedSize(Buffer.from(await response.arrayBuffer()), 'png'), [576, 768]);

    response = await fetch(`${api.url}/v1/transform`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${originUrl}/dog.jpg`,
        recipe: {
          ops: [
            { op: 'resize', width: 96 },
            { op: 'format', format: 'jpeg' },
          ],
        },
      }),
    });
    assert.equal(response.status, 200);
    bytes = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(await decodedSize(bytes, 'jpeg'), [96, 72]);

    response = await fetch(`${api.url}/v1/transform?ops=flip`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/' }),
    });
    await expectProblem(response, 422, 'URL_FORBIDDEN');
  });

  test('every malformed recipe and every limit answers its code; the API keeps serving', async () => {
    const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const cases: [string, string | undefined, Buffer, number, string][] = [
      ['unknown operation', 'resize:100x/sparkle', DOG_JPEG, 400, 'RECIPE_UNKNOWN_OPERATION'],
      ['bad argument', 'resize:100x:sideways', DOG_JPEG, 400, 'RECIPE_INVALID_ARGUMENT'],
      ['argument out of range', 'gamma:9', DOG_JPEG, 400, 'RECIPE_INVALID_ARGUMENT'],
      ['not well formed', 'flip//flop', DOG_JPEG, 400, 'RECIPE_INVALID'],
      ['setting twice', 'format:png/format:jpeg', DOG_JPEG, 400, 'RECIPE_INVALID'],
      ['too many operations', Array(26).fill('flip').join('/'), DOG_JPEG, 400, 'RECIPE_TOO_MANY_OPERATIONS'],
      ['kernel too large', 'median:17', DOG_JPEG, 400, 'RECIPE_KERNEL_TOO_LARGE'],
      ['blur too large', 'gaussian-blur:51', DOG_JPEG, 400, 'RECIPE_KERNEL_TOO_LARGE'],
      ['no recipe', undefined, DOG_JPEG, 400, 'REQUEST_INVALID'],
      ['zero bytes', 'flip', Buffer.alloc(0), 422, 'IMAGE_EMPTY'],
      ['truncated', 'flip', DOG_JPEG.subarray(0, DOG_JPEG.length / 2), 422, 'IMAGE_TRUNCATED'],
      ['not an image', 'flip', Buffer.from('GIF? no, plain text '.repeat(20)), 415, 'IMAGE_UNSUPPORTED_FORMAT'],
      ['pixel bomb', 'flip', pngDeclaring(onePixel, 20_000, 20_000), 422, 'IMAGE_TOO_MANY_PIXELS'],
      ['output too large', 'resize:20000x20000:fill:1', DOG_JPEG, 422, 'TRANSFORM_OUTPUT_TOO_MANY_PIXELS'],
      ['crop outside', 'crop:5000:5000:10:10', DOG_JPEG, 422, 'TRANSFORM_CROP_OUTSIDE_IMAGE'],
      ['faces without stored results', 'crop:faces', DOG_JPEG, 422, 'TRANSFORM_DETECTIONS_UNAVAILABLE'],
      ['too many bytes', 'flip', Buffer.concat([DOG_JPEG, Buffer.alloc(MAX_INPUT_BYTES)]), 413, 'IMAGE_TOO_LARGE'],
    ];
    for (const [what, ops, body, status, code] of cases) {
      const response = await raw(ops, body);
      const problem = await problemOf(response);
      assert.equal(response.status, status, `${what}: ${JSON.stringify(problem)}`);
      assert.equal(problem['code'], code, `${what}: ${JSON.stringify(problem)}`);
    }
    // The JSON form: an unknown operation is the parser's code; a shape the schema refuses is RECIPE_INVALID.
    const json = (recipe: unknown) =>
      fetch(`${api.url}/v1/transform`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${originUrl}/dog.jpg`, recipe }),
      });
    await expectProblem(await json({ ops: [{ op: 'sparkle' }] }), 400, 'RECIPE_UNKNOWN_OPERATION');
    await expectProblem(await json({ ops: [{ op: 'resize', width: 'wide' }] }), 400, 'RECIPE_INVALID_ARGUMENT');
    await expectProblem(await json({ steps: [] }), 400, 'RECIPE_INVALID');
    // A viewer may not transform (uploader role).
    const viewer = await fetch(`${api.url}/v1/transform?ops=flip`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(tenant, 'viewer')), 'content-type': 'image/jpeg' },
      body: DOG_JPEG,
    });
    await expectProblem(viewer, 403, 'AUTH_FORBIDDEN');
    // Still serving.
    const after = await raw('resize:10x/format:png', DOG_JPEG);
    assert.equal(after.status, 200);
  });

  test('nothing was stored for any of it: no S3 object, no row, no event', async () => {
    assert.deepEqual(await tenantLeftovers(api.api, watch, tenant), NOTHING);
  });
});
