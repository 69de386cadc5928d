import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const IMGPIPE_BIN = fileURLToPath(new URL('../bin/imgpipe.js', import.meta.url));

export interface ServiceSpec {
  /** Shown in front of every log line. */
  name: string;
  /** Arguments after `imgpipe`, e.g. ['run', 'worker', '--stage', 'detect']. */
  args: string[];
  env?: Record<string, string>;
}

export interface RunningService {
  readonly spec: ServiceSpec;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

/**
 * Starts `imgpipe` subcommands as child processes and hands each output line to `onLine`: `imgpipe dev` prints
 * them readably; scenario tests run the real services the same way and watch their logs.
 */
export function startService(spec: ServiceSpec, onLine: (service: string, line: string) => void): RunningService {
  const child = spawn(process.execPath, [IMGPIPE_BIN, ...spec.args], {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => onLine(spec.name, line));
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    spec,
    child,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const LEVEL_COLOURS: Record<string, string> = { error: '31', fatal: '31', warn: '33', info: '32', debug: '90' };

/** A JSON log line as a person reads it: time, level, message and the ids that matter; other lines unchanged. */
export function readableLogLine(line: string, colour: boolean): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const {
      time,
      level,
      msg,
      service: _service,
      trace_id: traceId,
      span_id: _spanId,
      pid: _pid,
      hostname: _host,
      ...rest
    } = entry;
    const levelText = String(level ?? 'info');
    const paint = (text: string) => (colour ? `\x1b[${LEVEL_COLOURS[levelText] ?? '0'}m${text}\x1b[0m` : text);
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    const extras = Object.entries(rest)
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
      .join(' ');
    return `${clock} ${paint(levelText.padEnd(5))} ${String(msg ?? '')}${extras ? `  ${extras}` : ''}${traceId ? `  trace=${String(traceId).slice(0, 8)}` : ''}`;
  } catch {
    return line;
  }
}
