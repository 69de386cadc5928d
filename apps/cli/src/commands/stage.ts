import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { consumerGroupFor, RESULTS_INPUTS, STAGE_INPUTS, WORKER_STAGES } from '@imgpipe/contracts';
import {
  createKafka,
  ensureControlTopic,
  measureGroupProgress,
  publishControl,
  readControlState,
} from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { actionOf, textTable, UsageError } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const PAUSABLE = [...WORKER_STAGES, 'results'] as const;

const HELP = `Usage: imgpipe stage <pause|resume|status> [name] [--json]

  pause <name>    every consumer of the stage, in every replica, stops fetching (work in hand finishes and is
                  committed); messages wait in Kafka and lag grows; nothing is lost. Workers started meanwhile start
                  paused. The state lives on the compacted control topic, so it survives restarts.
  resume <name>   the stage's consumers fetch again from where they stopped
  status          each stage: paused or running, consumer lag, and the model its workers announced

Stages: ${PAUSABLE.join(', ')}.`;

function inputsOf(stage: (typeof PAUSABLE)[number]): readonly string[] {
  return stage === 'results' ? RESULTS_INPUTS : STAGE_INPUTS[stage];
}

export const command: Command = {
  summary: "Pause or resume a stage in every replica, or show each stage's state, lag and model",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const [action, name, ...extra] = positionals;
    actionOf('stage', action === undefined ? [] : [action], ['pause', 'resume', 'status']);
    if (action !== 'status' && (name === undefined || extra.length > 0)) {
      throw new UsageError(`stage ${action}: name one stage (${PAUSABLE.join(', ')})`);
    }
    if (action === 'status' && name !== undefined) throw new UsageError('stage status takes no stage name');
    if (name !== undefined && !(PAUSABLE as readonly string[]).includes(name)) {
      throw new UsageError(`unknown stage '${name}' (expected ${PAUSABLE.join(', ')})`);
    }
    const config = loadCliConfig(['kafka']);
    const kafka = createKafka({
      connection: config.kafka,
      clientId: 'imgpipe-stage',
      logger: createLogger('imgpipe-stage', 'error'),
    });

    if (action === 'pause' || action === 'resume') {
      const paused = action === 'pause';
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const at = Date.now();
        const by = `cli:${userInfo().username}@${hostname()}`;
        // The control topic is compacted: created with those settings if this is the first control record.
        const admin = kafka.admin();
        await admin.connect();
        await ensureControlTopic(admin).finally(() => admin.disconnect());
        await publishControl(producer, [{ kind: 'pause', stage: name!, paused, at, by }]);
        if (values.json) console.log(JSON.stringify({ stage: name, paused, at: new Date(at).toISOString(), by }));
        else
          console.log(
            paused
              ? `${name} paused: its consumers stop fetching; messages wait in Kafka (resume with 'imgpipe stage resume ${name}')`
              : `${name} resumed`,
          );
      } finally {
        await producer.disconnect();
      }
      return EXIT.ok;
    }

    const state = await readControlState(kafka, 'cli');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const rows = [];
      for (const stage of PAUSABLE) {
        const pause = state.pauses.get(stage);
        const model = state.models.get(stage);
        const progress = await measureGroupProgress(admin, consumerGroupFor(stage), inputsOf(stage));
        rows.push({
          stage,
          paused: pause?.paused ?? false,
          ...(pause ? { changedAt: new Date(pause.at).toISOString(), changedBy: pause.by ?? null } : {}),
          lag: progress.lag,
          model: model?.model ?? null,
        });
      }
      if (values.json) {
        for (const row of rows) console.log(JSON.stringify(row));
      } else {
        console.log(
          textTable([
            ['STAGE', 'STATE', 'LAG', 'MODEL'],
            ...rows.map((row) => [
              row.stage,
              row.paused ? 'paused' : 'running',
              String(row.lag),
              row.model ? `${row.model.name} ${row.model.version}` : '-',
            ]),
          ]),
        );
      }
    } finally {
      await admin.disconnect();
    }
    return EXIT.ok;
  },
};
