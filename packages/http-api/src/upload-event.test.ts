import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { EventCodec, type ImageUploaded } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { uploadEventBytes } from './upload-event.ts';

const { schemaRegistryUrl } = loadConfig({ schemaRegistryUrl: serviceSettings.schemaRegistryUrl });

/** The size the publisher's own encoding (EventCodec against the registry) gives the same upload. */
test('uploadEventBytes is exactly the size of the ImageUploaded the codec encodes', async () => {
  const codec = new EventCodec({ registryUrl: schemaRegistryUrl });
  const sha256 = 'ab'.repeat(32);
  const cases = [
    {},
    { sourceName: 'dog.jpg' },
    { sourceName: 'Ünïcode 名前.jpg', callbackUrl: 'https://hooks.example.com/imgpipe?x=1' },
    { attributes: { camera: 'front', note: 'é'.repeat(500) } },
    {
      attributes: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key${i}`, 'v'.repeat(2048)])),
      sourceName: 'x'.repeat(2048),
    },
  ];
  for (const extra of cases) {
    const fields = {
      tenantId: 'acme-photos',
      sha256,
      size: 123_456,
      contentType: 'image/jpeg',
      bucket: 'imgpipe',
      key: `tenants/acme-photos/originals/ab/${sha256}`,
      analyses: ['detect' as const, 'ocr' as const],
      ...extra,
    };
    const event: ImageUploaded = {
      imageId: randomUUID(),
      tenantId: fields.tenantId,
      occurredAt: Date.now(),
      sha256,
      size: fields.size,
      contentType: fields.contentType,
      analyses: fields.analyses,
      attributes: fields.attributes ?? {},
      renditions: [],
      ...(fields.sourceName ? { source: fields.sourceName } : {}),
      ...(fields.callbackUrl ? { callbackUrl: fields.callbackUrl } : {}),
      blob: { bucket: fields.bucket, key: fields.key, sha256, size: fields.size, contentType: fields.contentType },
    };
    const encoded = await codec.encode('ImageUploaded', event);
    assert.equal(uploadEventBytes(fields), encoded.byteLength, JSON.stringify(Object.keys(extra)));
  }
});
