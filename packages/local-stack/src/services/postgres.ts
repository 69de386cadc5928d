import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import type { PidRecord } from '../processes.ts';
import { pgQuery, tcpOpen } from '../probes.ts';
import { commandExists, runCommand } from '../run-command.ts';
import type { ServiceFactory } from '../service.ts';
import { waitFor } from '../wait.ts';

interface Cluster {
  readonly version: string;
  readonly name: string;
  readonly port: number;
  readonly running: boolean;
  readonly dataDir: string;
  readonly logFile: string;
}

/** Debian's clusters (`pg_lsclusters`): PostgreSQL refuses to run as root, so we drive the packaged cluster. */
/** The Debian PostgreSQL clusters on this machine (`pg_lsclusters`); empty without postgresql-common. */
export async function listClusters(): Promise<Cluster[]> {
  if (!(await commandExists('pg_lsclusters'))) return [];
  const result = await runCommand('pg_lsclusters', ['--no-header']);
  if (result.code !== 0) return [];
  return result.output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 6)
    .map(([version, name, port, status, , dataDir, logFile]) => ({
      version: version!,
      name: name!,
      port: Number(port),
      running: status!.startsWith('online'),
      dataDir: dataDir!,
      logFile: logFile ?? '',
    }));
}

/**
 * Creates the role (or resets its password to the URL's) and the database, as the `postgres` superuser over the
 * local socket. psql's :'var' interpolation quotes the values; \gexec runs the statements built by format().
 */
const PROVISION_SQL = `
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec
`;

export const postgresService: ServiceFactory = (layout) => {
  const pg = layout.postgres;
  const fallbackLog = join(layout.logsDir, 'postgres.log');
  let logFile = fallbackLog;

  async function superuserPsql(): Promise<void> {
    const psqlArgs = [
      'psql',
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-p',
      String(pg.port),
      '-d',
      'postgres',
      '-v',
      `role=${pg.user}`,
      '-v',
      `password=${pg.password}`,
      '-v',
      `database=${pg.database}`,
    ];
    const asPostgres =
      process.getuid?.() === 0
        ? ['runuser', '-u', 'postgres', '--', ...psqlArgs]
        : ['sudo', '-n', '-u', 'postgres', ...psqlArgs];
    const result = await runCommand(asPostgres[0]!, asPostgres.slice(1), { input: PROVISION_SQL });
    if (result.code !== 0) {
      throw new ImgpipeError(
        'STACK_SERVICE_FAILED',
        `postgres: could not create role ${pg.user} and database ${pg.database} as the postgres user ` +
          `(${asPostgres.slice(0, 4).join(' ')} ...):\n${result.output.trim()}`,
      );
    }
  }

  return {
    name: 'postgres',
    endpoint: pg.url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1@'),
    port: pg.port,
    get logFile() {
      return logFile;
    },
    startTimeoutMs: 60_000,
    ready: () => pgQuery(pg.url),
    async start() {
      let record: PidRecord | undefined;
      const clusters = await listClusters();
      const cluster = clusters.find((candidate) => candidate.port === pg.port);
      if (cluster) logFile = cluster.logFile;
      if (!(await tcpOpen(pg))) {
        if (!cluster) {
          const known = clusters.map((c) => `${c.version}/${c.name} on ${c.port}`).join(', ') || 'none';
          throw new ImgpipeError(
            'STACK_SERVICE_FAILED',
            `postgres: no PostgreSQL cluster is set to listen on port ${pg.port} (clusters: ${known}); ` +
              'install one with apt-get install postgresql, or point IMGPIPE_DATABASE_URL at its port',
          );
        }
        const started = await runCommand('pg_ctlcluster', [cluster.version, cluster.name, 'start']);
        if (started.code !== 0) {
          throw new ImgpipeError(
            'STACK_SERVICE_FAILED',
            `postgres: pg_ctlcluster ${cluster.version} ${cluster.name} start failed:\n${started.output.trim()}`,
          );
        }
        await waitFor(() => tcpOpen(pg), { timeoutMs: 30_000, what: `postgres port ${pg.port}` });
        const pid = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        record = {
          pid,
          marker: 'postgres',
          startedAt: new Date().toISOString(),
          stopCommand: ['pg_ctlcluster', cluster.version, cluster.name, 'stop', '-m', 'fast'],
          logFile,
        };
      }
      // Running, but our role or database may be missing.
      const usable = await pgQuery(pg.url).catch(() => false);
      if (!usable) await superuserPsql();
      return record;
    },
  };
};
