import { type ConfigEnv, type ConfigOf, loadConfig, serviceSettings } from '@imgpipe/core';
import { BlobStore } from './blob-store.ts';

const s3Settings = {
  s3Endpoint: serviceSettings.s3Endpoint,
  s3Region: serviceSettings.s3Region,
  s3Bucket: serviceSettings.s3Bucket,
  s3AccessKey: serviceSettings.s3AccessKey,
  s3SecretKey: serviceSettings.s3SecretKey,
};

/** The blob store a process's validated service configuration points at. */
export function blobStoreFor(config: ConfigOf<typeof s3Settings>): BlobStore {
  return new BlobStore({
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    bucket: config.s3Bucket,
    accessKeyId: config.s3AccessKey,
    secretAccessKey: config.s3SecretKey,
  });
}

/** The blob store the S3 settings point at; `env` defaults to the process environment (read by loadConfig). */
export function blobStoreFromEnv(env?: ConfigEnv): BlobStore {
  return blobStoreFor(loadConfig(s3Settings, env));
}
