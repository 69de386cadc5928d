import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import { spawnDaemon } from '../processes.ts';
import { pgQuery } from '../probes.ts';
import { commandExists } from '../run-command.ts';
import type { ServiceFactory } from '../service.ts';
import type { StackLayout } from '../settings.ts';
import { assertPortFree } from './port-guard.ts';

/** Pool sizes of the local PgBouncer; docs/scaling.md (PostgreSQL) explains how to size them in production. */
export const PGBOUNCER_POOL = { defaultPoolSize: 20, reservePoolSize: 5, maxClientConn: 500 } as const;

/** A string PgBouncer's ini and auth-file syntax reads back as itself (values in double quotes, "" for "). */
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

/**
 * The configuration: one database, the primary's, in transaction pooling. Clients authenticate with SCRAM against the
 * auth file, and PgBouncer logs in to PostgreSQL with the same password (SCRAM too). The role may read SHOW STATS and
 * SHOW POOLS on the `pgbouncer` console database (stats_users), nothing more.
 */
export function pgbouncerIni(layout: StackLayout, authFile: string): string {
  const pg = layout.postgres;
  return [
    '; written by imgpipe stack up (packages/local-stack/src/services/pgbouncer.ts); rewritten on every start',
    '[databases]',
    `${pg.database} = host=${pg.host} port=${pg.port} dbname=${pg.database}`,
    '',
    '[pgbouncer]',
    `listen_addr = ${layout.pgbouncer.host}`,
    `listen_port = ${layout.pgbouncer.port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${authFile}`,
    'pool_mode = transaction',
    `max_client_conn = ${PGBOUNCER_POOL.maxClientConn}`,
    `default_pool_size = ${PGBOUNCER_POOL.defaultPoolSize}`,
    `reserve_pool_size = ${PGBOUNCER_POOL.reservePoolSize}`,
    'reserve_pool_timeout = 3',
    'server_idle_timeout = 60',
    // After a failed connection to the primary PgBouncer waits server_login_retry (15 s by default) before the next
    // attempt: a primary that `stack up` brings back after a restart is reached within a second instead.
    'server_login_retry = 1',
    // A client that leaves a transaction open holds a server connection from everyone else.
    'idle_transaction_timeout = 60',
    `stats_users = ${pg.user}`,
    'stats_period = 10',
    'log_stats = 0',
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n');
}

/** The pgbouncer binary: on PATH, or where Debian's package puts it (/usr/sbin, often not on a user's PATH). */
async function pgbouncerBinary(): Promise<string | undefined> {
  if (await commandExists('pgbouncer')) return 'pgbouncer';
  return existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : undefined;
}

/**
 * PgBouncer from Debian's `pgbouncer` package, in front of the primary: the connection pooler production runs
 * (docker-compose and k8s do too). It refuses to run as root, so as root it switches to the `postgres` user (-u).
 */
export const pgbouncerService: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, 'pgbouncer');
  const logFile = join(layout.logsDir, 'pgbouncer.log');
  const { user, password } = layout.postgres;

  return {
    name: 'pgbouncer',
    endpoint: layout.pgbouncer.url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1@'),
    port: layout.pgbouncer.port,
    logFile,
    // Answers once the primary does, which may be starting alongside.
    startTimeoutMs: 60_000,
    // A real query through PgBouncer to the primary, as the application's role.
    ready: () => pgQuery(layout.pgbouncer.url),
    async start() {
      await assertPortFree('pgbouncer', layout.pgbouncer, 'IMGPIPE_PGBOUNCER_PORT');
      const binary = await pgbouncerBinary();
      if (!binary) {
        throw new ImgpipeError(
          'STACK_SERVICE_FAILED',
          'pgbouncer: pgbouncer is not installed (apt-get install pgbouncer, or bash infra/bin/ensure-system-packages.sh)',
        );
      }
      await mkdir(home, { recursive: true });
      const authFile = join(home, 'userlist.txt');
      const iniFile = join(home, 'pgbouncer.ini');
      await writeFile(authFile, `${quoted(user)} ${quoted(password)}\n`);
      await writeFile(iniFile, pgbouncerIni(layout, authFile));
      const asRoot = process.getuid?.() === 0;
      // The postgres user reads both files after the switch (SIGHUP reloads them): development credentials only.
      if (asRoot) await Promise.all([chmod(home, 0o755), chmod(authFile, 0o644), chmod(iniFile, 0o644)]);
      const pid = await spawnDaemon({
        command: binary,
        args: [...(asRoot ? ['-u', 'postgres'] : []), iniFile],
        cwd: home,
        logFile,
      });
      return { pid, marker: 'pgbouncer', startedAt: new Date().toISOString(), logFile };
    },
  };
};
