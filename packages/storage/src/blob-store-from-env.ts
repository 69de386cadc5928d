import { loadConfig, serviceSettings } from '@imgpipe/core';
import { BlobStore } from './blob-store.ts';

export function blobStoreFromEnv(env: NodeJS.ProcessEnv = process.env): BlobStore {
  const config = loadConfig(
    {
      endpoint: serviceSettings.s3Endpoint,
      region: serviceSettings.s3Region,
      bucket: serviceSettings.s3Bucket,
      accessKeyId: serviceSettings.s3AccessKey,
      secretAccessKey: serviceSettings.s3SecretKey,
    },
    env,
  );
  return new BlobStore(config);
}
