import { parseArgs } from 'node:util';
import { type DeadLetter, deadLetterTopicFor, EventCodec, STAGES, type StageName } from '@imgpipe/contracts';
import { createKafka, originalRecord, readTopicToEnd } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { actionOf } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe dlq <list|redrive> [options]

  list [--stage <name>] [--json]   every dead letter now in the stage's (or every stage's) dead-letter topic
  redrive --stage <name> [--json]  re-produce each dead letter's original message to its source topic, unchanged
                                   (same key, value and headers); each letter is redriven once: progress is kept
                                   by the consumer group imgpipe.<stage>.dlq-redrive

Stages: ${STAGES.join(', ')}, results. A deterministic failure dead-letters again when redriven.`;

function describe(letter: DeadLetter): Record<string, unknown> {
  return {
    imageId: letter.imageId ?? null,
    tenantId: letter.tenantId ?? null,
    stage: letter.stage,
    errorCode: letter.errorCode,
    errorMessage: letter.errorMessage,
    attempt: letter.attempt,
    failedAt: new Date(letter.failedAt).toISOString(),
    source: `${letter.sourceTopic}/${letter.partition}@${letter.offset}`,
    traceId: letter.traceId ?? null,
  };
}

export const command: Command = {
  summary: 'List or re-drive dead-lettered messages',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stage: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const action = actionOf('dlq', positionals, ['list', 'redrive']);
    const services = [...STAGES, 'results'] as const;
    if (values.stage !== undefined && !(services as readonly string[]).includes(values.stage)) {
      console.error(`imgpipe dlq: unknown stage '${values.stage}' (expected ${services.join(', ')})`);
      return EXIT.usage;
    }
    if (action === 'redrive' && !values.stage) {
      console.error('imgpipe dlq redrive: --stage is required');
      return EXIT.usage;
    }
    const stages = (values.stage ? [values.stage] : services) as (StageName | 'results')[];
    const config = loadCliConfig(['kafka', 'schemaRegistryUrl']);
    const kafka = createKafka({
      connection: config.kafka,
      clientId: 'imgpipe-dlq',
      logger: createLogger('imgpipe-dlq', 'error'),
    });
    const codec = new EventCodec({ registryUrl: config.schemaRegistryUrl });
    const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    if (action === 'redrive') await producer.connect();
    let total = 0;
    try {
      for (const stage of stages) {
        const topic = deadLetterTopicFor(stage);
        const { read } = await readTopicToEnd({
          kafka,
          topic,
          groupId: action === 'redrive' ? `${topic}-redrive` : `imgpipe.dlq-list.${process.pid}.${Date.now()}`,
          commit: action === 'redrive',
          onMessage: async (message) => {
            const decoded = await codec.decode(message.value ?? Buffer.alloc(0));
            const letter = decoded.value as DeadLetter;
            if (action === 'redrive') {
              const record = originalRecord(letter);
              await producer.send({
                topic: record.topic,
                acks: -1,
                messages: [{ key: record.key ?? null, value: record.value ?? null, headers: record.headers }],
              });
            }
            if (values.json) {
              console.log(JSON.stringify({ ...(action === 'redrive' ? { redriven: true } : {}), ...describe(letter) }));
            } else {
              const source = `${letter.sourceTopic}/${letter.partition}@${letter.offset}`;
              console.log(
                `${source}  ${letter.stage}  ${letter.errorCode}  ${letter.imageId ?? '-'}  ${letter.errorMessage}`,
              );
            }
          },
        });
        total += read;
      }
    } finally {
      await producer.disconnect();
    }
    if (!values.json) console.error(`${total} dead letter(s) ${action === 'redrive' ? 'redriven' : 'listed'}`);
    return EXIT.ok;
  },
};
