import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import { spawnDaemon } from '../processes.ts';
import { redisPing } from '../probes.ts';
import { commandExists } from '../run-command.ts';
import type { ServiceFactory } from '../service.ts';
import { assertPortFree } from './port-guard.ts';

/** Uses a Redis that already answers on the configured port; otherwise runs our own with data under the stack. */
export const redisService: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, 'redis');
  const logFile = join(layout.logsDir, 'redis.log');
  const { host, port, password } = layout.redis;

  return {
    name: 'redis',
    endpoint: layout.redis.url.replace(/\/\/[^@/]*@/, '//'),
    port,
    logFile,
    startTimeoutMs: 30_000,
    ready: () => redisPing(layout.redis.url),
    async start() {
      await assertPortFree('redis', layout.redis, 'IMGPIPE_REDIS_URL');
      if (!(await commandExists('redis-server'))) {
        throw new ImgpipeError(
          'STACK_SERVICE_FAILED',
          'redis: redis-server is not installed (apt-get install redis-server)',
        );
      }
      await mkdir(home, { recursive: true });
      const args = [
        '--bind',
        host,
        '--port',
        String(port),
        '--dir',
        home,
        '--daemonize',
        'no',
        '--appendonly',
        'yes',
        '--logfile',
        '',
      ];
      if (password !== undefined) args.push('--requirepass', password);
      const pid = await spawnDaemon({ command: 'redis-server', args, cwd: home, logFile });
      return { pid, marker: 'redis-server', startedAt: new Date().toISOString(), logFile };
    },
  };
};
