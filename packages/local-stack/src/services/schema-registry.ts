import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureApicurio, ensureRegistryJava } from '../artifacts.ts';
import { spawnDaemon } from '../processes.ts';
import { httpOk } from '../probes.ts';
import type { ServiceFactory } from '../service.ts';
import { assertPortFree } from './port-guard.ts';

/**
 * Apicurio Registry 3 serving the Confluent-compatible API. Storage is an H2 file under the stack folder, so
 * schema ids survive a restart: messages already in Kafka keep decoding.
 */
export const schemaRegistryService: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, 'schema-registry');
  const database = join(home, 'data', 'registry');
  const logFile = join(layout.logsDir, 'schema-registry.log');
  const managementPort = layout.registry.port + 1;
  let app: string | undefined;
  let java: string | undefined;

  return {
    name: 'schema-registry',
    endpoint: layout.registry.url,
    port: layout.registry.port,
    logFile,
    startTimeoutMs: 180_000,
    ready: () => httpOk(`${layout.registry.url}/subjects`),
    async prepare(report) {
      app = await ensureApicurio(layout.cacheDir, report);
      java = await ensureRegistryJava(layout.cacheDir, layout.config.registryJava, report);
    },
    async start(report) {
      await assertPortFree('schema-registry', layout.registry, 'IMGPIPE_SCHEMA_REGISTRY_URL');
      await assertPortFree(
        'schema-registry management',
        { host: layout.registry.host, port: managementPort },
        'IMGPIPE_SCHEMA_REGISTRY_URL (management uses its port + 1)',
      );
      app ??= await ensureApicurio(layout.cacheDir, report);
      java ??= await ensureRegistryJava(layout.cacheDir, layout.config.registryJava, report);
      await mkdir(join(home, 'data'), { recursive: true });
      const datasource = `jdbc:h2:file:${database}`;
      const pid = await spawnDaemon({
        command: java,
        args: [
          '-Xms64m',
          '-Xmx384m',
          '-XX:TieredStopAtLevel=1',
          `-Dquarkus.http.host=${layout.registry.host}`,
          `-Dquarkus.http.port=${layout.registry.port}`,
          // Quarkus fixes at build time that the management interface exists; its default port 9000 is S3's.
          `-Dquarkus.management.host=${layout.registry.host}`,
          `-Dquarkus.management.port=${managementPort}`,
          '-Dapicurio.rules.global.compatibility=BACKWARD',
          `-Dapicurio.datasource.url=${datasource}`,
          '-jar',
          join(app, 'quarkus-run.jar'),
        ],
        cwd: home,
        logFile,
      });
      return { pid, marker: datasource, startedAt: new Date().toISOString(), logFile };
    },
  };
};
