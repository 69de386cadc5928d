import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { config } from './support.ts';

function client(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

describe('s3 (S3Proxy of the local stack, SigV4)', () => {
  test('the pipeline bucket exists and an object round-trips', async () => {
    const s3 = client(config.s3AccessKey, config.s3SecretKey);
    try {
      await s3.send(new HeadBucketCommand({ Bucket: config.s3Bucket }));
      const key = `test/stack/${randomUUID()}.bin`;
      const body = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02, 0x03]);
      await s3.send(new PutObjectCommand({ Bucket: config.s3Bucket, Key: key, Body: body, ContentType: 'image/jpeg' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: config.s3Bucket, Key: key }));
      assert.equal(got.ContentType, 'image/jpeg');
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    } finally {
      s3.destroy();
    }
  });

  test('a request signed with the wrong secret is rejected', async () => {
    const s3 = client(config.s3AccessKey, 'not-the-secret');
    try {
      await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: config.s3Bucket })), (error: unknown) => {
        assert.ok(error instanceof S3ServiceException);
        assert.equal(error.$metadata.httpStatusCode, 403);
        return true;
      });
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: config.s3Bucket, Key: 'test/forged', Body: 'x' })),
        (error: unknown) => {
          assert.ok(error instanceof S3ServiceException);
          assert.equal(error.name, 'SignatureDoesNotMatch');
          return true;
        },
      );
    } finally {
      s3.destroy();
    }
  });

  test('an unknown access key is rejected', async () => {
    const s3 = client('nobody', config.s3SecretKey);
    try {
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: config.s3Bucket, Key: 'test/forged', Body: 'x' })),
        (error: unknown) => {
          assert.ok(error instanceof S3ServiceException);
          assert.equal(error.name, 'InvalidAccessKeyId');
          return true;
        },
      );
    } finally {
      s3.destroy();
    }
  });
});
