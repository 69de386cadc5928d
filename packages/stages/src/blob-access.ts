import { createHash } from 'node:crypto';
import type { BlobRef } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';

export type { BlobRef };

/** The object storage the stages need: the S3 BlobStore in workers, memory in the in-process runner. */
export interface BlobAccess {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<BlobRef>;
  get(ref: Pick<BlobRef, 'bucket' | 'key'> & { sha256?: string }): Promise<Buffer>;
}

export class MemoryBlobs implements BlobAccess {
  readonly #objects = new Map<string, Buffer>();
  readonly bucket = 'memory';

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<BlobRef> {
    // A Buffer is kept as given, not copied: the vision engine recognises the very Buffer preprocess made.
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
    this.#objects.set(key, buffer);
    const sha256 = createHash('sha256').update(buffer).digest('hex');
    return { bucket: this.bucket, key, sha256, size: buffer.byteLength, contentType };
  }

  async get(ref: Pick<BlobRef, 'bucket' | 'key'>): Promise<Buffer> {
    const bytes = this.#objects.get(ref.key);
    if (!bytes) throw new ImgpipeError('STORAGE_OBJECT_NOT_FOUND', `memory://${ref.key} does not exist`);
    return bytes;
  }

  delete(key: string): void {
    this.#objects.delete(key);
  }
}
