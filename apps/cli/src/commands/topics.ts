import { parseArgs } from 'node:util';
import { ALL_TOPICS } from '@imgpipe/contracts';
import { ensureTopics, topicSpecs } from '@imgpipe/local-stack';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe topics create [--partitions N] [--json]

Creates every pipeline and dead-letter topic that is missing on IMGPIPE_KAFKA_BROKERS; existing topics are left
as they are (reported with their partition count). Retention: 7 days for pipeline topics, 30 days for .dlq topics.

Options:
  --partitions N  partitions per new topic (default IMGPIPE_TOPIC_PARTITIONS, 6); every pipeline topic gets the
                  same count so one image's events stay on one partition number
  --json          machine-readable output
  -h, --help`;

export const command: Command = {
  summary: 'Create the pipeline and dead-letter topics',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        partitions: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length !== 1 || positionals[0] !== 'create') {
      console.error(HELP);
      return EXIT.usage;
    }
    const config = loadCliConfig(['kafka', 'topicPartitions']);
    let partitions = config.topicPartitions;
    if (values.partitions !== undefined) {
      partitions = Number(values.partitions);
      if (!/^\d+$/.test(values.partitions) || partitions < 1 || partitions > 1000) {
        console.error(
          `imgpipe topics: --partitions must be a whole number from 1 to 1000 (got "${values.partitions}")`,
        );
        return EXIT.usage;
      }
    }
    const outcomes = await ensureTopics(config.kafka, topicSpecs(ALL_TOPICS, partitions));
    if (values.json) {
      console.log(JSON.stringify({ brokers: config.kafka.kafkaBrokers, topics: outcomes }, null, 2));
      return EXIT.ok;
    }
    const width = Math.max(...outcomes.map((outcome) => outcome.name.length));
    for (const outcome of outcomes) {
      const days = outcome.retentionMs / 86_400_000;
      const detail =
        outcome.state === 'created'
          ? `created, ${outcome.actualPartitions} partitions, retention ${days} days`
          : `exists, ${outcome.actualPartitions} partitions` +
            (outcome.actualPartitions === partitions ? '' : ` (asked for ${partitions}; left as it is)`);
      console.log(`${outcome.name.padEnd(width)}  ${detail}`);
    }
    const created = outcomes.filter((outcome) => outcome.state === 'created').length;
    console.log(`\n${created} created, ${outcomes.length - created} already existed (${config.kafka.kafkaBrokers})`);
    return EXIT.ok;
  },
};
