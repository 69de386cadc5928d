import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import type { ImagePreprocessed, ImageTransformed, StageContext } from '@imgpipe/contracts';
import type { ImgpipeError } from '@imgpipe/core';
import { DEFAULT_TRANSFORM_LIMITS, parsePresets } from '@imgpipe/imaging';
import { createLogger } from '@imgpipe/telemetry';
import { transformStage } from './transform-stage.ts';

const ctx: StageContext = {
  logger: createLogger('transform-test', 'silent'),
  attempt: 1,
  source: { topic: 'images.preprocessed', partition: 0, offset: '0', key: undefined },
  signal: new AbortController().signal,
};

/** A grey RGB PNG written here, byte by byte, so the test knows its size without a decoder. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height, 128);
  for (let y = 0; y < height; y++) rows[y * (width * 3 + 1)] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

class MemoryStore {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string; metadata: Record<string, string> }>();
  readonly original: Buffer;
  constructor(original: Buffer) {
    this.original = original;
  }
  async get() {
    return this.original;
  }
  async put(key: string, bytes: Uint8Array, contentType: string, _sha?: string, metadata: Record<string, string> = {}) {
    this.objects.set(key, { bytes: Buffer.from(bytes), contentType, metadata });
  }
}

const original = png(400, 300);
const sha256 = createHash('sha256').update(original).digest('hex');
const presets = parsePresets(
  'thumb=resize:100x100:cover/format:png;half=resize:200x/format:webp:80;big=resize:1000x1000/format:jpeg',
);

function preprocessed(fields: Partial<ImagePreprocessed> = {}): { eventType: string; value: ImagePreprocessed } {
  return {
    eventType: 'ImagePreprocessed',
    value: {
      imageId: '6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
      tenantId: 'acme',
      occurredAt: 1,
      status: 'completed',
      analyses: [],
      original: { bucket: 'b', key: 'k', sha256, size: original.length, contentType: 'image/png' },
      attributes: {},
      renditions: ['thumb', 'half', 'big'],
      ...fields,
    },
  };
}

/** The rendition cache's key, derived here from its documented parts: SHA-256 of recipe, "\n", "", "\n", "". */
function expectedKey(canonical: string): string {
  const variant = createHash('sha256').update(`${canonical}\n\n`).digest('hex');
  return `tenants/acme/renditions/${sha256.slice(0, 2)}/${sha256}/${variant}`;
}

describe('transform stage', () => {
  test('renders each requested preset, stores it under the rendition key and lists it in ImageTransformed', async () => {
    const store = new MemoryStore(original);
    const stage = transformStage({ blobs: store, presets, limits: DEFAULT_TRANSFORM_LIMITS });
    const outputs = await stage.handle(preprocessed(), ctx);
    assert.equal(outputs.length, 1);
    assert.equal(outputs[0]!.topic, 'images.transformed');
    assert.equal(outputs[0]!.key, '6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d');
    const event = outputs[0]!.value as ImageTransformed;
    assert.equal(event.status, 'completed');
    // cover fills 100x100; 200 wide keeps 4:3 (150 high); inside 1000x1000 without enlargement keeps 400x300.
    const expected = [
      { name: 'thumb', recipe: 'resize:100x100:cover/format:png', format: 'png', width: 100, height: 100 },
      { name: 'half', recipe: 'resize:200x/format:webp:80', format: 'webp', width: 200, height: 150 },
      { name: 'big', recipe: 'resize:1000x1000/format:jpeg', format: 'jpeg', width: 400, height: 300 },
    ];
    assert.deepEqual(
      event.renditions.map(({ bytes: _bytes, ...rest }) => rest),
      expected.map((item) => ({ ...item, key: expectedKey(item.recipe) })),
    );
    const magic = { png: '89504e47', webp: '52494646', jpeg: 'ffd8ff' } as const;
    for (const rendition of event.renditions) {
      const stored = store.objects.get(rendition.key);
      assert.ok(stored, rendition.key);
      assert.equal(stored.bytes.length, rendition.bytes);
      assert.ok(stored.bytes.toString('hex').startsWith(magic[rendition.format as keyof typeof magic]));
      assert.deepEqual(stored.metadata, {
        width: String(rendition.width),
        height: String(rendition.height),
        format: rendition.format,
        recipe: rendition.recipe,
      });
    }
  });

  test('an image that asked for no renditions, or whose preprocessing failed, emits nothing and stores nothing', async () => {
    const store = new MemoryStore(original);
    const stage = transformStage({ blobs: store, presets, limits: DEFAULT_TRANSFORM_LIMITS });
    assert.deepEqual(await stage.handle(preprocessed({ renditions: [] }), ctx), []);
    const failed = { status: 'failed' as const, error: { code: 'IMAGE_CORRUPT' as const, message: 'x' } };
    assert.deepEqual(await stage.handle(preprocessed(failed), ctx), []);
    assert.equal(store.objects.size, 0);
  });

  test('an unknown preset fails before anything is stored, and the failure is published for the aggregate', async () => {
    const store = new MemoryStore(original);
    const stage = transformStage({ blobs: store, presets, limits: DEFAULT_TRANSFORM_LIMITS });
    const message = preprocessed({ renditions: ['thumb', 'poster'] });
    const error = await stage.handle(message, ctx).then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught as ImgpipeError,
    );
    assert.equal(error.code, 'RENDITION_PRESET_UNKNOWN');
    assert.equal(error.retriable, false);
    assert.equal(store.objects.size, 0);
    const [failure] = await stage.onFailure!(message, error, ctx);
    const value = failure!.value as ImageTransformed;
    assert.equal(value.status, 'failed');
    assert.equal(value.error?.code, 'RENDITION_PRESET_UNKNOWN');
    assert.deepEqual(value.renditions, []);
    assert.deepEqual(await stage.onFailure!(preprocessed({ renditions: [] }), error, ctx), []);
  });

  test('an inline name=recipe entry (a batch ad-hoc recipe) renders beside the presets under its canonical key', async () => {
    const store = new MemoryStore(original);
    const stage = transformStage({ blobs: store, presets, limits: DEFAULT_TRANSFORM_LIMITS });
    const inline = 'recipe=RESIZE:80x80:Contain/grayscale/format:jpg:70';
    const outputs = await stage.handle(preprocessed({ renditions: ['half', inline, inline] }), ctx);
    const event = outputs[0]!.value as ImageTransformed;
    // contain pads to exactly the box; 200 wide keeps 4:3.
    const canonical = 'resize:80x80:contain/grayscale/format:jpeg:70';
    assert.deepEqual(
      event.renditions.map(({ bytes: _bytes, ...rest }) => rest),
      [
        { name: 'half', recipe: 'resize:200x/format:webp:80', format: 'webp', width: 200, height: 150 },
        { name: 'recipe', recipe: canonical, format: 'jpeg', width: 80, height: 80 },
      ].map((item) => ({ ...item, key: expectedKey(item.recipe) })),
    );
    assert.ok(store.objects.get(expectedKey(canonical))!.bytes.toString('hex').startsWith('ffd8ff'));
  });

  test('an inline recipe the pipeline cannot render, or a malformed one, fails with its recipe code', async () => {
    const stage = transformStage({ blobs: new MemoryStore(original), presets, limits: DEFAULT_TRANSFORM_LIMITS });
    const cases = [
      ['recipe=resize:10x10/format:auto', 'RECIPE_INVALID_ARGUMENT'],
      ['recipe=crop:faces', 'RECIPE_INVALID_ARGUMENT'],
      ['recipe=explode:3', 'RECIPE_UNKNOWN_OPERATION'],
      ['Bad Name=resize:10x10', 'RECIPE_INVALID'],
    ] as const;
    for (const [entry, code] of cases) {
      await assert.rejects(stage.handle(preprocessed({ renditions: [entry] }), ctx), { code }, entry);
    }
  });

  test('a preset over the recipe limits fails with its recipe code', async () => {
    const store = new MemoryStore(original);
    const limits = { ...DEFAULT_TRANSFORM_LIMITS, maxOutputPixels: 50 * 50 };
    const stage = transformStage({ blobs: store, presets, limits });
    await assert.rejects(stage.handle(preprocessed({ renditions: ['thumb'] }), ctx), {
      code: 'TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
    });
    assert.equal(store.objects.size, 0);
  });
});
