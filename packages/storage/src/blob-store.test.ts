import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '@imgpipe/core';
import type { BlobStore } from './blob-store.ts';
import { blobStoreFor, storageSettings } from './storage-settings.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('BlobStore against the local S3 server', () => {
  let blobs: BlobStore;
  const prefix = `blob-store-test/${randomUUID()}`;
  const keys: string[] = [];

  before(async () => {
    blobs = blobStoreFor(loadConfig(storageSettings));
    await blobs.ensureBucket();
  });

  after(async () => {
    await Promise.all(keys.map((key) => blobs.delete(key)));
  });

  test('put signs the SHA-256 it is given instead of hashing the body again, and the server checks it', async () => {
    const bytes = new Uint8Array(randomBytes(300_000));
    const right = sha256(bytes);
    const stored = `${prefix}/right`;
    keys.push(stored);
    const ref = await blobs.put(stored, bytes, 'application/octet-stream', right);
    assert.equal(ref.sha256, right);
    assert.deepEqual(new Uint8Array(await blobs.get(ref)), bytes);

    // Had the signer hashed the body itself, a wrong hash would only reach the metadata; signed, the server refuses it.
    const refused = `${prefix}/wrong`;
    keys.push(refused);
    await assert.rejects(
      blobs.put(refused, bytes, 'application/octet-stream', sha256(new Uint8Array([1]))),
      /XAmzContentSHA256Mismatch/,
    );
    assert.equal(await blobs.find(refused), undefined, 'nothing is stored under a refused put');
  });

  test('put without a known SHA-256 computes it, records it, and get checks it', async () => {
    const bytes = new Uint8Array(randomBytes(70_000));
    const key = `${prefix}/computed`;
    keys.push(key);
    const ref = await blobs.put(key, bytes, 'image/webp');
    assert.equal(ref.sha256, sha256(bytes));
    assert.equal((await blobs.find(key))?.metadata['sha256'], sha256(bytes));
    await assert.rejects(blobs.get({ ...ref, sha256: sha256(new Uint8Array([2])) }), {
      code: 'IMAGE_CHECKSUM_MISMATCH',
    });
  });
});
