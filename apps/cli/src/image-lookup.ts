import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createDatabase, createRedis, getImage, type ImageView, ResultsCache } from '@imgpipe/db';

/** An image's latest view: Redis first (kept current by the results service), then PostgreSQL, the source of truth. */
export async function lookUpImage(
  tenantId: string,
  imageId: string,
): Promise<{ view?: ImageView; from?: 'redis' | 'postgres' }> {
  const config = loadConfig({ databaseUrl: serviceSettings.databaseUrl, redisUrl: serviceSettings.redisUrl });
  const redis = createRedis(config.redisUrl);
  try {
    const cached = await new ResultsCache(redis).getLatest(tenantId, imageId).catch(() => undefined);
    if (cached) return { view: cached, from: 'redis' };
  } finally {
    redis.disconnect();
  }
  const db = createDatabase({ url: config.databaseUrl, poolSize: 1 });
  try {
    const view = await getImage(db, tenantId, imageId);
    return view ? { view, from: 'postgres' } : {};
  } finally {
    await db.destroy();
  }
}
