import { type ConfigOf, serviceSettings } from '@imgpipe/core';
import { BlobStore } from './blob-store.ts';

/** Where blobs live: the S3 endpoint, region, bucket and credentials. */
export const storageSettings = {
  s3Endpoint: serviceSettings.s3Endpoint,
  s3Region: serviceSettings.s3Region,
  s3Bucket: serviceSettings.s3Bucket,
  s3AccessKey: serviceSettings.s3AccessKey,
  s3SecretKey: serviceSettings.s3SecretKey,
};

export type StorageConfig = ConfigOf<typeof storageSettings>;

/** The blob store a process's validated configuration points at. */
export function blobStoreFor(config: StorageConfig): BlobStore {
  return new BlobStore({
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    bucket: config.s3Bucket,
    accessKeyId: config.s3AccessKey,
    secretAccessKey: config.s3SecretKey,
  });
}
