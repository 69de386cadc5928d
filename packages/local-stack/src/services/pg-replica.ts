import { readFileSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import type { PidRecord } from '../processes.ts';
import { pgQuery } from '../probes.ts';
import { runCommand } from '../run-command.ts';
import type { ServiceFactory } from '../service.ts';
import { waitFor } from '../wait.ts';
import { assertPortFree } from './port-guard.ts';

/** Settings a hot standby must not set below the primary's, or it refuses to start. */
const MATCHED_SETTINGS = [
  'max_connections',
  'max_worker_processes',
  'max_wal_senders',
  'max_prepared_transactions',
  'max_locks_per_transaction',
] as const;

/** Runs a command as the `postgres` OS user (PostgreSQL refuses root): runuser as root, else sudo -n. */
function asPostgres(command: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : ['sudo', ['-n', '-u', 'postgres', command, ...args]];
}

async function postgresRun(command: string, args: readonly string[], input?: string) {
  const [program, programArgs] = asPostgres(command, args);
  return runCommand(program, programArgs, input === undefined ? {} : { input });
}

/** The primary's values of the settings a standby must match, and where its binaries live. */
async function primaryFacts(port: number): Promise<{ bin: string; settings: Map<string, string> }> {
  const query = `select name, setting from pg_settings where name in (${MATCHED_SETTINGS.map((n) => `'${n}'`).join(', ')})
    union all select 'server_version_num', current_setting('server_version_num')`;
  const result = await postgresRun('psql', [
    '-X',
    '-A',
    '-t',
    '-F',
    '=',
    '-p',
    String(port),
    '-d',
    'postgres',
    '-c',
    query,
  ]);
  if (result.code !== 0) {
    throw new ImgpipeError(
      'STACK_SERVICE_FAILED',
      `pg-replica: could not read the primary's settings:\n${result.output}`,
    );
  }
  const settings = new Map(
    result.output
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  const major = Math.floor(Number(settings.get('server_version_num')) / 10_000);
  settings.delete('server_version_num');
  return { bin: `/usr/lib/postgresql/${major}/bin`, settings };
}

/**
 * A streaming replica (hot standby) of the primary for the reads IMGPIPE_DATABASE_READ_URL sends it: a fresh
 * pg_basebackup of the primary on every start (its WAL since the last run may be gone, and the database is small),
 * then `postgres` on its own port, streaming from the primary over the local socket as the postgres superuser (peer
 * authentication, allowed by Debian's pg_hba.conf). Clients log in with the application role and password, which are
 * in the replicated catalog. Only started when asked: IMGPIPE_STACK_REPLICA=true or `imgpipe stack up --replica`.
 */
export const pgReplicaService: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, 'pg-replica');
  const dataDir = join(home, 'data');
  const logFile = join(layout.logsDir, 'pg-replica.log');
  const { replica, postgres } = layout;

  return {
    name: 'pg-replica',
    endpoint: replica.url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1@'),
    port: replica.port,
    logFile,
    startTimeoutMs: 60_000,
    // Answers as the application's role, and is really a standby.
    async ready() {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: replica.url, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        const result = await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
        return result.rows[0]?.standby === true;
      } finally {
        await client.end().catch(() => {});
      }
    },
    async start(report) {
      await assertPortFree('pg-replica', replica, 'IMGPIPE_PG_REPLICA_PORT');
      if (process.getuid?.() !== 0) {
        // Its data folder must belong to the postgres user, under the stack folder: that takes root.
        throw new ImgpipeError('STACK_SERVICE_FAILED', 'pg-replica: the local replica is started as root only');
      }
      // Started alongside the primary: wait for it.
      await waitFor(() => pgQuery(postgres.url).catch(() => false), {
        timeoutMs: 60_000,
        intervalMs: 300,
        what: 'the primary answering',
      });
      const { bin, settings } = await primaryFacts(postgres.port);
      report('pg-replica: pg_basebackup of the primary');
      await rm(home, { recursive: true, force: true });
      await mkdir(home, { recursive: true, mode: 0o755 });
      await mkdir(layout.logsDir, { recursive: true });
      await writeFile(logFile, '', { flag: 'a' });
      await chown(home, ...(await postgresIds()));
      await chown(logFile, ...(await postgresIds()));
      const backup = await postgresRun(join(bin, 'pg_basebackup'), [
        '-p',
        String(postgres.port),
        '-D',
        dataDir,
        '--wal-method=stream',
        '--checkpoint=fast',
        '--write-recovery-conf',
        '--no-sync',
      ]);
      if (backup.code !== 0) {
        throw new ImgpipeError('STACK_SERVICE_FAILED', `pg-replica: pg_basebackup failed:\n${backup.output.trim()}`);
      }
      // Debian keeps the primary's configuration outside its data folder, so the copy has none: write the standby's.
      const conf = [
        '# written by imgpipe stack up (packages/local-stack/src/services/pg-replica.ts)',
        `listen_addresses = '${replica.host}'`,
        `port = ${replica.port}`,
        `unix_socket_directories = '/var/run/postgresql'`,
        `hba_file = '${join(dataDir, 'pg_hba.conf')}'`,
        `ident_file = '${join(dataDir, 'pg_ident.conf')}'`,
        'hot_standby = on',
        // Long searches are not cancelled by replayed vacuum cleanups; the primary keeps those rows a little longer.
        'hot_standby_feedback = on',
        "cluster_name = 'imgpipe-replica'",
        'shared_buffers = 32MB',
        ...[...settings].map(([name, value]) => `${name} = ${value}`),
        '',
      ].join('\n');
      const hba = [
        'local all all peer',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
        '',
      ].join('\n');
      for (const [file, text] of [
        ['postgresql.conf', conf],
        ['pg_hba.conf', hba],
        ['pg_ident.conf', ''],
      ] as const) {
        const written = await postgresRun('tee', [join(dataDir, file)], text);
        if (written.code !== 0) throw new ImgpipeError('STACK_SERVICE_FAILED', `pg-replica: writing ${file} failed`);
      }
      const started = await postgresRun(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
      if (started.code !== 0) {
        throw new ImgpipeError('STACK_SERVICE_FAILED', `pg-replica: pg_ctl start failed:\n${started.output.trim()}`);
      }
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const [stop, stopArgs] = asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, 'stop', '-m', 'fast']);
      const record: PidRecord = {
        pid,
        marker: 'pg-replica/data',
        startedAt: new Date().toISOString(),
        stopCommand: [stop, ...stopArgs],
        logFile,
      };
      return record;
    },
  };
};

async function postgresIds(): Promise<[number, number]> {
  const result = await runCommand('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(result.output)?.[1];
  const gid = /gid=(\d+)/.exec(result.output)?.[1];
  if (uid === undefined || gid === undefined) {
    throw new ImgpipeError(
      'STACK_SERVICE_FAILED',
      'pg-replica: there is no postgres user (apt-get install postgresql)',
    );
  }
  return [Number(uid), Number(gid)];
}
