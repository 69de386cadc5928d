import { createApi, jwtOptionsFrom } from '@imgpipe/http-api';
import { createLogger, startTracing } from '@imgpipe/telemetry';
import { loadApiConfig } from './config.ts';

/** The HTTP API: configuration, tracing and logging, then listen on IMGPIPE_API_PORT until SIGTERM. */
export async function runIngestApi(): Promise<number> {
  const config = loadApiConfig();
  const tracing = await startTracing({ serviceName: 'imgpipe-ingest-api', config: config.telemetry });
  const logger = createLogger('imgpipe-ingest-api', config.telemetry.logLevel);
  if (jwtOptionsFrom(config.api).usingDevSecret) {
    logger.warn(
      'IMGPIPE_JWT_SECRET and IMGPIPE_JWKS_URL are unset: accepting HS256 tokens signed with the development secret',
    );
  }
  const api = await createApi(config.api, logger);
  const address = await api.app.listen({ port: config.api.port, host: config.api.host });
  logger.info({ address, docs: `${address}/docs`, openapi: `${address}/openapi.json` }, 'ingest API listening');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('stopping: finishing in-flight requests');
  await api.close();
  await tracing.shutdown();
  logger.info('stopped');
  return 0;
}
