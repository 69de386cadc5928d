import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { waitFor } from './wait.ts';

/**
 * What `stack up` remembers about a process it started: enough for `down` to stop exactly that process and for
 * `status` to tell it from an unrelated process that happens to reuse the pid.
 */
export interface PidRecord {
  readonly pid: number;
  /** A string the process's command line contains; a pid whose command line lacks it is not ours any more. */
  readonly marker: string;
  readonly startedAt: string;
  /** Seconds from spawn to the service answering, filled in once it does. */
  readonly startupSeconds?: number;
  /** How to stop it when SIGTERM is not the right way (PostgreSQL clusters). */
  readonly stopCommand?: readonly string[];
  readonly logFile: string;
}

export async function readPidRecord(file: string): Promise<PidRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as PidRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn or foreign file: treat as absent, `up` rewrites it.
    return undefined;
  }
}

export async function writePidRecord(file: string, record: PidRecord): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temporary, file);
}

export async function removePidRecord(file: string): Promise<void> {
  await rm(file, { force: true });
}

export function commandLine(pid: number): string | undefined {
  try {
    return readFileSyncSafe(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** /proc entries are tiny and virtual: reading them synchronously is simplest. */
function readFileSyncSafe(path: string): string {
  return readFileSync(path, 'utf8');
}

function isZombie(pid: number): boolean {
  try {
    const status = readFileSyncSafe(`/proc/${pid}/status`);
    return /^State:\s+Z/m.test(status);
  } catch {
    return true;
  }
}

/** Alive and still the process the record describes. */
export function isRecordAlive(record: PidRecord): boolean {
  const line = commandLine(record.pid);
  return (line?.includes(record.marker) ?? false) && !isZombie(record.pid);
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

/** Resident memory in KiB from /proc/<pid>/status (VmRSS), or undefined when the process is gone. */
export function residentKib(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSyncSafe(`/proc/${pid}/status`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid of the process listening on a local TCP port: the socket's inode from /proc/net/tcp{,6}, then the
 * process holding that inode. Works for processes we did not start when we may read their /proc/<pid>/fd.
 */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSyncSafe(table);
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== '0A') continue; // 0A = LISTEN
      const portHex = local.split(':').at(-1);
      if (portHex !== undefined && Number.parseInt(portHex, 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return undefined;
}

export interface DaemonSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

/** Starts a process in its own session, detached from ours, with stdout and stderr appended to its log file. */
export async function spawnDaemon(spec: DaemonSpec): Promise<number> {
  await mkdir(dirname(spec.logFile), { recursive: true });
  try {
    if (statSync(spec.logFile).size > LOG_ROTATE_BYTES) renameSync(spec.logFile, `${spec.logFile}.old`);
  } catch {
    // no log yet
  }
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env, // undefined: the child inherits this process's environment
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolvePid(child.pid!));
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, wait up to graceMs for the process to go, then SIGKILL. Resolves once it is gone. */
export async function stopPid(pid: number, graceMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isPidAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const gone = await waitFor(() => !isPidAlive(pid), { timeoutMs: graceMs, intervalMs: 100 }).then(
    () => true,
    () => false,
  );
  if (gone) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  await waitFor(() => !isPidAlive(pid), { timeoutMs: 10_000, intervalMs: 100 });
  return 'killed';
}

/** The last lines of a log file, for error messages. */
export async function tailLines(file: string, count: number): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    return lines.slice(-count).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
