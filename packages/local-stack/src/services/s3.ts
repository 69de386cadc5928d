import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureS3Proxy } from '../artifacts.ts';
import { spawnDaemon } from '../processes.ts';
import { ensureBucket, type S3Access, s3Signed } from '../probes.ts';
import type { ServiceFactory } from '../service.ts';
import { assertPortFree } from './port-guard.ts';

/** S3Proxy over the local filesystem: real SigV4 checking, objects as files under the stack folder. */
export const s3Service: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, 's3');
  const propertiesFile = join(home, 's3proxy.conf');
  const logFile = join(layout.logsDir, 's3.log');
  const { config } = layout;
  const access: S3Access = {
    url: layout.s3.url,
    region: config.s3Region,
    accessKey: config.s3AccessKey,
    secretKey: config.s3SecretKey,
  };
  let jar: string | undefined;

  return {
    name: 's3',
    endpoint: layout.s3.url,
    port: layout.s3.port,
    logFile,
    startTimeoutMs: 90_000,
    ready: () => s3Signed(access),
    async prepare(report) {
      jar = await ensureS3Proxy(layout.cacheDir, report);
    },
    async start(report) {
      await assertPortFree('s3', layout.s3, 'IMGPIPE_S3_ENDPOINT');
      jar ??= await ensureS3Proxy(layout.cacheDir, report);
      const dataDir = join(home, 'data');
      await mkdir(dataDir, { recursive: true });
      const properties = [
        `s3proxy.endpoint=http://${layout.s3.host}:${layout.s3.port}`,
        's3proxy.authorization=aws-v2-or-v4',
        `s3proxy.identity=${config.s3AccessKey}`,
        `s3proxy.credential=${config.s3SecretKey}`,
        // Browsers upload with presigned URLs from another origin in development.
        's3proxy.cors-allow-all=true',
        'jclouds.provider=filesystem-nio2',
        `jclouds.filesystem.basedir=${dataDir}`,
      ];
      await writeFile(propertiesFile, `${properties.join('\n')}\n`, { mode: 0o600 });
      const pid = await spawnDaemon({
        command: 'java',
        args: ['-Xms64m', '-Xmx256m', '-XX:TieredStopAtLevel=1', '-jar', jar, '--properties', propertiesFile],
        cwd: home,
        logFile,
      });
      return { pid, marker: propertiesFile, startedAt: new Date().toISOString(), logFile };
    },
    async provision() {
      const created = await ensureBucket(access, config.s3Bucket);
      return created ? [`bucket ${config.s3Bucket} created`] : [];
    },
  };
};
