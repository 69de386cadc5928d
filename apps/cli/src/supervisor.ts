import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { NODE_RUNTIME_FLAGS } from './node-runtime-flags.ts';

const IMGPIPE_BIN = fileURLToPath(new URL('../bin/imgpipe.js', import.meta.url));

export interface ServiceSpec {
  /** Shown in front of every log line. */
  name: string;
  /** Arguments after `imgpipe`, e.g. ['run', 'worker', '--stage', 'detect']. */
  args: string[];
  env?: Record<string, string>;
  /** node command-line flags before the imgpipe script; NODE_RUNTIME_FLAGS unless given ([] runs node's defaults). */
  nodeFlags?: readonly string[];
  /** Another program and its arguments instead of `imgpipe ...args` (tests start tiny scripts this way). */
  command?: readonly [string, ...string[]];
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningService {
  readonly spec: ServiceSpec;
  readonly child: ChildProcess;
  readonly exited: Promise<ServiceExit>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<ServiceExit>;
  kill(): Promise<void>;
}

/** The program and arguments a service runs as: `node <runtime flags> imgpipe.js ...args`, or its own command. */
export function serviceCommand(spec: ServiceSpec): readonly [string, ...string[]] {
  return spec.command ?? [process.execPath, ...(spec.nodeFlags ?? NODE_RUNTIME_FLAGS), IMGPIPE_BIN, ...spec.args];
}

/**
 * Starts `imgpipe` subcommands as child processes and hands each output line to `onLine`: `imgpipe dev` prints
 * them readably; scenario tests run the real services the same way and watch their logs.
 */
export function startService(spec: ServiceSpec, onLine: (service: string, line: string) => void): RunningService {
  const [program, ...args] = serviceCommand(spec);
  const child = spawn(program, args, {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => onLine(spec.name, line));
  }
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A program that could not be started at all emits 'error' and never 'exit'.
    child.once('error', (error) => {
      if (child.pid === undefined) {
        onLine(spec.name, `could not start ${program}: ${error.message}`);
        resolve({ code: null, signal: null });
      }
    });
  });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    spec,
    child,
    exited,
    async stop(graceMs = 30_000) {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RestartPolicy {
  /** Delay before the first restart of a crash loop; it doubles with each further restart... */
  initialDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** A process that ran at least this long before exiting was healthy: its next restart waits initialDelayMs. */
  healthyAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  healthyAfterMs: 60_000,
};

/** Exit code of a process that refused its configuration (sysexits EX_CONFIG): restarting cannot help. */
const EXIT_CONFIG = 78;

/** The delay before a restart that follows `previous` restarts in a row: exponential, capped. */
export function restartDelay(previous: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** previous);
}

export type SupervisorEvent =
  /** A process exited by itself; restart number `restart` follows in `delayMs`. */
  | { type: 'exited'; service: string; exit: ServiceExit; uptimeMs: number; restart: number; delayMs: number }
  | { type: 'restarted'; service: string; restart: number; pid: number | undefined }
  /** A process refused its configuration: it stays down. */
  | { type: 'gave-up'; service: string; exit: ServiceExit; uptimeMs: number };

export interface SupervisorOptions {
  onLine: (service: string, line: string) => void;
  onEvent?: (event: SupervisorEvent) => void;
  policy?: Partial<RestartPolicy>;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 30 s. */
  stopGraceMs?: number;
  /** Milliseconds, for uptimes; defaults to performance.now(). */
  now?: () => number;
}

export interface Supervisor {
  /** Restarts so far, per service name. */
  restarts(service: string): number;
  /** The process running now for a service (undefined while it waits for a restart or after it gave up). */
  current(service: string): RunningService | undefined;
  /** Restarts scheduled and not yet done. */
  pendingRestarts(): number;
  /** Settles when every service has given up (nothing left to supervise). */
  readonly exhausted: Promise<void>;
  /**
   * Stops supervising: cancels pending restarts, sends SIGTERM to every process and SIGKILL to those still there
   * after `graceMs`, and resolves with each one's exit. Calling it again (a second Ctrl-C) shortens the grace.
   */
  stop(graceMs?: number): Promise<Map<string, ServiceExit>>;
}

interface Supervised {
  spec: ServiceSpec;
  current: RunningService | undefined;
  startedAt: number;
  restarts: number;
  /** Restarts since the process last ran healthily. */
  inARow: number;
  timer: NodeJS.Timeout | undefined;
  gaveUp: boolean;
}

/**
 * Runs each service as a child process and keeps it running, as a process manager would: a process that exits
 * unexpectedly is restarted after an exponential backoff (reset once it ran healthily for a while), except one that
 * refused its configuration (exit 78). Only stop() ends them.
 */
export function supervise(specs: readonly ServiceSpec[], options: SupervisorOptions): Supervisor {
  const policy = { ...DEFAULT_RESTART_POLICY, ...options.policy };
  const now = options.now ?? (() => performance.now());
  const emit = (event: SupervisorEvent) => options.onEvent?.(event);
  let stopping = false;
  let markExhausted: () => void = () => {};
  const exhausted = new Promise<void>((resolve) => {
    markExhausted = resolve;
  });
  const services = new Map<string, Supervised>();

  const launch = (entry: Supervised) => {
    const running = startService(entry.spec, options.onLine);
    entry.current = running;
    entry.startedAt = now();
    void running.exited.then((exit) => {
      if (stopping || entry.current !== running) return;
      entry.current = undefined;
      const uptimeMs = now() - entry.startedAt;
      if (exit.code === EXIT_CONFIG) {
        entry.gaveUp = true;
        emit({ type: 'gave-up', service: entry.spec.name, exit, uptimeMs });
        if ([...services.values()].every((service) => service.gaveUp)) markExhausted();
        return;
      }
      if (uptimeMs >= policy.healthyAfterMs) entry.inARow = 0;
      const delayMs = restartDelay(entry.inARow, policy);
      entry.inARow += 1;
      emit({ type: 'exited', service: entry.spec.name, exit, uptimeMs, restart: entry.restarts + 1, delayMs });
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (stopping) return;
        entry.restarts += 1;
        launch(entry);
        emit({ type: 'restarted', service: entry.spec.name, restart: entry.restarts, pid: entry.current?.child.pid });
      }, delayMs);
    });
  };

  for (const spec of specs) {
    if (services.has(spec.name)) throw new Error(`two services named ${spec.name}`);
    const entry: Supervised = {
      spec,
      current: undefined,
      startedAt: 0,
      restarts: 0,
      inARow: 0,
      timer: undefined,
      gaveUp: false,
    };
    services.set(spec.name, entry);
    launch(entry);
  }

  return {
    restarts: (service) => services.get(service)?.restarts ?? 0,
    current: (service) => services.get(service)?.current,
    pendingRestarts: () => [...services.values()].filter((entry) => entry.timer !== undefined).length,
    exhausted,
    async stop(graceMs = options.stopGraceMs ?? 30_000) {
      stopping = true;
      const stopped = [...services.values()].map(async (entry) => {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = undefined;
        const exit = entry.current ? await entry.current.stop(graceMs) : undefined;
        return [entry.spec.name, exit] as const;
      });
      const exits = new Map<string, ServiceExit>();
      for (const [name, exit] of await Promise.all(stopped)) if (exit) exits.set(name, exit);
      return exits;
    },
  };
}

/** A supervisor event as `imgpipe dev` logs it. */
export function describeSupervisorEvent(event: SupervisorEvent): string {
  switch (event.type) {
    case 'exited':
      return `exited (${describeExit(event.exit)}) after ${seconds(event.uptimeMs)}; restart #${event.restart} in ${seconds(event.delayMs)}`;
    case 'restarted':
      return `restarted (restart #${event.restart}${event.pid === undefined ? '' : `, pid ${event.pid}`})`;
    case 'gave-up':
      return `exited (${describeExit(event.exit)}: bad configuration) after ${seconds(event.uptimeMs)}; not restarting it (fix the configuration, then run imgpipe dev again)`;
  }
}

function describeExit(exit: ServiceExit): string {
  return exit.signal ? `signal ${exit.signal}` : exit.code === null ? 'could not start' : `code ${exit.code}`;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
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
