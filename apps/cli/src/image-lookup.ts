import { parseArgs } from 'node:util';
import { createDatabase, createRedis, getImage, type ImageView, ResultsCache } from '@imgpipe/results';
import { EXIT } from './command.ts';
import { loadCliConfig } from './config.ts';

/** Exit code of `status` and `results` when the tenant has no such image. */
export const EXIT_NOT_FOUND = 4;

/** An image's latest view: Redis first (kept current by the results service), then PostgreSQL, the source of truth. */
export async function lookUpImage(
  tenantId: string,
  imageId: string,
): Promise<{ view?: ImageView; from?: 'redis' | 'postgres' }> {
  const config = loadCliConfig(['databaseUrl', 'redisUrl']);
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

/**
 * The shared shape of `imgpipe status` and `imgpipe results`: `<imageId> [--tenant T] [--json]`, the image looked
 * up, a not-found answer (exit 4); `render` prints the view and returns the exit code.
 */
export async function runImageCommand(
  command: string,
  argv: string[],
  help: string,
  render: (view: ImageView, options: { json: boolean; from: 'redis' | 'postgres' }) => number,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string', default: 'default' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [imageId] = positionals;
  if (values.help || !imageId) {
    console.log(help);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const { view, from } = await lookUpImage(values.tenant, imageId);
  if (!view || !from) {
    if (values.json) console.log(JSON.stringify({ imageId, error: { code: 'RESOURCE_NOT_FOUND' } }));
    else console.error(`imgpipe ${command}: no image ${imageId} for tenant ${values.tenant}`);
    return EXIT_NOT_FOUND;
  }
  return render(view, { json: values.json, from });
}
