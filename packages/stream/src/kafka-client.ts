import { readFileSync } from 'node:fs';
import { ImgpipeError, type KafkaConnection } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';
import {
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
} from 'kafkajs';
import { mendKafkajsRequestQueue } from './kafkajs-request-queue.ts';

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

/** The kafkajs connection options for brokers, TLS and SASL; a SASL mechanism without credentials is a config error. */
export function kafkaConnectionConfig(connection: KafkaConnection): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  const brokers = connection.kafkaBrokers
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const ssl = connection.kafkaCaFile ? { ca: [readFileSync(connection.kafkaCaFile, 'utf8')] } : connection.kafkaSsl;
  if (connection.kafkaSaslMechanism === 'none') return { brokers, ssl };
  const { kafkaSaslUsername: username, kafkaSaslPassword: password } = connection;
  if (!username || !password) {
    throw new ImgpipeError(
      'CONFIG_INVALID',
      `IMGPIPE_KAFKA_SASL_MECHANISM=${connection.kafkaSaslMechanism} needs IMGPIPE_KAFKA_SASL_USERNAME and IMGPIPE_KAFKA_SASL_PASSWORD`,
    );
  }
  const sasl = { mechanism: connection.kafkaSaslMechanism, username, password } as SASLOptions;
  return { brokers, ssl, sasl };
}

/**
 * Every producer names its partitioner: the Java-compatible default (kafkajs 2's own default), so keys land where
 * Java producers put them, and kafkajs has no reason to warn about its v2 partitioner change.
 */
class ImgpipeKafka extends Kafka {
  override producer(config: ProducerConfig = {}): Producer {
    return super.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  }
}

/** A kafkajs client for the configured cluster whose logs go through the process's JSON logger. */
export function createKafka(options: {
  connection: KafkaConnection;
  clientId: string;
  logger: Logger;
  /** Timeouts and retries for tools that must answer fast (probes, admin commands). */
  tuning?: Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'>;
}): Kafka {
  mendKafkajsRequestQueue();
  const kafkaLogger = options.logger.child({ component: 'kafkajs' });
  return new ImgpipeKafka({
    clientId: options.clientId,
    ...kafkaConnectionConfig(options.connection),
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    ...options.tuning,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        const quiet = QUIET.some((pattern) => pattern.test(message));
        kafkaLogger[quiet ? 'debug' : (LEVELS[level] ?? 'info')](extra, message);
      },
  });
}
