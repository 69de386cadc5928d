import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { BlobRef } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';

export type { BlobRef };

const CONTENT_SHA256_HEADER = 'x-amz-content-sha256';

export interface BlobStoreOptions {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StoredBlob {
  bytes: Buffer;
  contentType: string;
  /** User metadata, names lowercase. */
  metadata: Record<string, string>;
  lastModified?: Date;
}

/** S3-compatible object storage behind the few operations the pipeline needs. */
export class BlobStore {
  readonly bucket: string;
  readonly #client: S3Client;

  constructor(options: BlobStoreOptions) {
    this.bucket = options.bucket;
    this.#client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      maxAttempts: 3,
    });
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isNotFound(error)) throw storageError(error, `bucket ${this.bucket}`);
      await this.#client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((createError: unknown) => {
        if (!(createError instanceof S3ServiceException && createError.name === 'BucketAlreadyOwnedByYou')) {
          throw storageError(createError, `bucket ${this.bucket}`);
        }
      });
    }
  }

  /**
   * Stores the bytes with their SHA-256 as metadata (`get` checks it); pass `sha256` when it is already known, and
   * any other user metadata (lowercase names, ASCII values) in `metadata`.
   */
  async put(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    knownSha256?: string,
    metadata: Record<string, string> = {},
  ): Promise<BlobRef> {
    const sha256 = knownSha256 ?? createHash('sha256').update(bytes).digest('hex');
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: bytes,
      ContentType: contentType,
      Metadata: { ...metadata, sha256 },
    });
    // SigV4 signs the payload's SHA-256, which the signer would compute again over the whole body: given the header,
    // it signs that instead, and the server still checks it against the bytes it receives.
    command.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers[CONTENT_SHA256_HEADER] = sha256;
        return next(args);
      },
      { step: 'build', name: 'imgpipeKnownPayloadSha256' },
    );
    try {
      await this.#client.send(command);
    } catch (error) {
      throw storageError(error, key);
    }
    return { bucket: this.bucket, key, sha256, size: bytes.byteLength, contentType };
  }

  /** Reads a blob; when the reference names a SHA-256, the bytes must match it. */
  async get(ref: Pick<BlobRef, 'bucket' | 'key'> & { sha256?: string }): Promise<Buffer> {
    let bytes: Buffer;
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      bytes = Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) {
        throw new ImgpipeError('STORAGE_OBJECT_NOT_FOUND', `s3://${ref.bucket}/${ref.key} does not exist`);
      }
      throw storageError(error, ref.key);
    }
    if (ref.sha256) {
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== ref.sha256) {
        throw new ImgpipeError(
          'IMAGE_CHECKSUM_MISMATCH',
          `s3://${ref.bucket}/${ref.key} has SHA-256 ${actual}, the event says ${ref.sha256}`,
        );
      }
    }
    return bytes;
  }

  /** A blob with its content type and user metadata, or undefined when there is none under the key. */
  async find(key: string): Promise<StoredBlob | undefined> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        bytes: Buffer.from(await response.Body!.transformToByteArray()),
        contentType: response.ContentType ?? 'application/octet-stream',
        metadata: response.Metadata ?? {},
        ...(response.LastModified ? { lastModified: response.LastModified } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storageError(error, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw storageError(error, key);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      throw storageError(error, `bucket ${this.bucket}`);
    }
  }

  close(): void {
    this.#client.destroy();
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    error instanceof NotFound ||
    (error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchBucket'))
  );
}

function storageError(error: unknown, what: string): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // 4xx other than throttling are configuration mistakes (credentials, bucket): retrying cannot help.
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return new ImgpipeError('CONFIG_INVALID', `object storage refused ${what}: ${message}`, { cause: error });
  }
  return new ImgpipeError('STORAGE_UNAVAILABLE', `object storage failed on ${what}: ${message}`, { cause: error });
}
