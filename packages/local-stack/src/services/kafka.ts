import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import { ensureKafkaLibs } from '../artifacts.ts';
import { spawnDaemon } from '../processes.ts';
import { kafkaMetadata, tcpOpen } from '../probes.ts';
import { runCommand } from '../run-command.ts';
import type { ServiceFactory } from '../service.ts';
import type { StackLayout } from '../settings.ts';
import { assertPortFree } from './port-guard.ts';

const JVM_OPTIONS = ['-Xms256m', '-Xmx512m', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

/** A single-node KRaft cluster: one process is both broker and controller, every replication factor is 1. */
export function serverProperties(layout: StackLayout, dataDir: string): string {
  const { host, port, controllerPort } = layout.kafka;
  const partitions = layout.config.topicPartitions;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    // Topics are created explicitly (`imgpipe topics create`): the partition count caps parallelism and KEDA.
    'auto.create.topics.enable': false,
    'num.partitions': partitions,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // The defaults of 3 leave the group and transaction coordinators unavailable on one node.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    // Tests join groups often: no 3 s wait for more members on a first join.
    'group.initial.rebalance.delay.ms': 0,
    'log.retention.hours': 168,
    'num.recovery.threads.per.data.dir': 2,
  };
  if (!layout.kafka.version.startsWith('3.')) {
    settings['share.coordinator.state.topic.replication.factor'] = 1;
    settings['share.coordinator.state.topic.min.isr'] = 1;
  }
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  return `# Written by \`imgpipe stack up\`; rewritten on every start.\n${lines.join('\n')}\n`;
}

const LOG4J2 = `# Kafka 4.x logging (log4j2): everything to stdout, which \`imgpipe stack up\` sends to the log file.
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
`;

const LOG4J1 = `# Kafka 3.x logging (reload4j): everything to stdout.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`;

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const kafkaService: ServiceFactory = (layout) => {
  const home = join(layout.stackDir, `kafka-${layout.kafka.version}`);
  const dataDir = join(home, 'data');
  const propertiesFile = join(home, 'server.properties');
  const logFile = join(layout.logsDir, 'kafka.log');
  const isKafka3 = layout.kafka.version.startsWith('3.');
  const endpoint = `${layout.kafka.host}:${layout.kafka.port}`;
  let libs: string | undefined;

  return {
    name: 'kafka',
    endpoint,
    port: layout.kafka.port,
    logFile,
    // Generous: after a kill -9 the broker recovers its logs before it opens the port.
    startTimeoutMs: 180_000,
    async ready() {
      // KRaft opens the client port last; the metadata request proves the controller is elected.
      if (!(await tcpOpen(layout.kafka))) throw new Error(`nothing listens on ${endpoint}`);
      return kafkaMetadata(endpoint);
    },
    async prepare(report) {
      libs = await ensureKafkaLibs(layout.cacheDir, layout.kafka.version, report);
    },
    async start(report) {
      await assertPortFree('kafka', layout.kafka, 'IMGPIPE_KAFKA_BROKERS');
      await assertPortFree(
        'kafka controller',
        { host: layout.kafka.host, port: layout.kafka.controllerPort },
        'IMGPIPE_KAFKA_CONTROLLER_PORT',
      );
      libs ??= await ensureKafkaLibs(layout.cacheDir, layout.kafka.version, report);
      const classpath = join(libs, '*');
      await mkdir(dataDir, { recursive: true });
      await writeFile(propertiesFile, serverProperties(layout, dataDir));
      const loggingFile = join(home, isKafka3 ? 'log4j.properties' : 'log4j2.properties');
      await writeFile(loggingFile, isKafka3 ? LOG4J1 : LOG4J2);
      const logging = isKafka3
        ? `-Dlog4j.configuration=file:${loggingFile}`
        : `-Dlog4j2.configurationFile=${loggingFile}`;
      const jvm = [...JVM_OPTIONS, logging, `-Dkafka.logs.dir=${join(home, 'logs')}`, '-cp', classpath];

      // Format once: an existing meta.properties means the data (topics, offsets) must be kept as it is.
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        report(`kafka: formatting ${dataDir}`);
        const formatted = await runCommand('java', [
          ...jvm,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          newClusterId(),
          '-c',
          propertiesFile,
        ]);
        if (formatted.code !== 0) {
          throw new ImgpipeError('STACK_SERVICE_FAILED', `kafka: formatting the storage failed:\n${formatted.output}`);
        }
      }
      const pid = await spawnDaemon({ command: 'java', args: [...jvm, 'kafka.Kafka', propertiesFile], logFile });
      return { pid, marker: propertiesFile, startedAt: new Date().toISOString(), logFile };
    },
  };
};
