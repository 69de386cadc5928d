import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@imgpipe/telemetry';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Notices kafkajs prints that say nothing about this deployment: the v2 partitioner change (every producer here
 * uses the Java-compatible default partitioner on purpose, so keys land where Java producers put them) and the
 * idempotent producer's note on bounded retries (bounded on purpose: a producer must fail, not hang, when Kafka is down).
 */
const QUIET = [/switched default partitioner/, /Limiting retries for the idempotent producer/];

/**
 * kafkajs 2.2.4 computes a negative delay in its request queue on current Node versions, which Node reports as a
 * TimeoutNegativeWarning (and clamps to 1 ms, the intended behaviour). Nothing to act on, so it is dropped here,
 * where kafkajs comes in.
 */
function dropKafkajsTimerWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name !== 'TimeoutNegativeWarning') emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
dropKafkajsTimerWarning();

/** A kafkajs client whose logs go through the process's JSON logger. */
export function createKafka(options: { brokers: string; clientId: string; logger: Logger }): Kafka {
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
  const kafkaLogger = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        const quiet = QUIET.some((pattern) => pattern.test(message));
        kafkaLogger[quiet ? 'debug' : (LEVELS[level] ?? 'info')](extra, message);
      },
  });
}
