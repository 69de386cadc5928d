import { parseArgs } from 'node:util';
import { EventCodec } from '@imgpipe/contracts';
import { requeueUploads } from '@imgpipe/publisher';
import { createDatabase, isReprocessStage, REPROCESSABLE_STAGES, reprocessCandidates } from '@imgpipe/results';
import { createKafka, readControlState } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { UsageError } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe reprocess --stage <name> (--all | --missing) [--tenant T] [--since D] [--json]

Re-queues images so that one stage runs on them again (as photo libraries' "All" and "Missing" jobs do), and prints
how many were queued. An analysis (detect, faces, ocr) or features re-runs alone: the image's upload is produced
again asking for that one only, preprocess prepares it again and the results store replaces that stage's rows
(upserts: no duplicates). features re-runs only on images that asked for features; --missing compares the detector
and options the features workers announced. preprocess re-runs the image's whole pipeline. An image whose upload
named an OCR model set (ocrModel) is read with that set again, and --missing leaves it alone while its ocr result
came from that set.

  --stage <name>  ${REPROCESSABLE_STAGES.join(', ')}
  --all           every image that asked for the stage (and is not still in flight)
  --missing       images whose result for the stage is absent or failed, or came from another model than the one
                  the stage's workers announced when they started ('imgpipe stage status' shows it)
  --tenant T      only this tenant's images
  --since D       only images uploaded at or after D (ISO 8601 date or time)
  --json          one JSON line: {"stage", "mode", "model", "queued"}`;

export const command: Command = {
  summary: 'Re-run a stage on all images, or on those missing its result or analysed by another model version',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        stage: { type: 'string' },
        all: { type: 'boolean', default: false },
        missing: { type: 'boolean', default: false },
        tenant: { type: 'string' },
        since: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    void positionals;
    if (!isReprocessStage(values.stage)) {
      throw new UsageError(`reprocess: --stage must be one of ${REPROCESSABLE_STAGES.join(', ')}`);
    }
    if (values.all === values.missing) throw new UsageError('reprocess: give exactly one of --all and --missing');
    const since = values.since === undefined ? undefined : new Date(values.since);
    if (since && Number.isNaN(since.getTime())) {
      throw new UsageError(`reprocess: --since '${values.since}' is not an ISO 8601 date or time`);
    }
    const stage = values.stage;
    const mode = values.all ? 'all' : 'missing';
    const config = loadCliConfig(['kafka', 'schemaRegistryUrl', 'databaseUrl']);
    const kafka = createKafka({
      connection: config.kafka,
      clientId: 'imgpipe-reprocess',
      logger: createLogger('imgpipe-reprocess', 'error'),
    });
    const model =
      mode === 'missing' && stage !== 'preprocess'
        ? (await readControlState(kafka, 'reprocess')).models.get(stage)?.model
        : undefined;
    if (mode === 'missing' && stage !== 'preprocess' && !model) {
      console.error(
        `imgpipe reprocess: no ${stage} worker has announced its model yet; start one (it announces at start-up) and retry`,
      );
      return EXIT.unavailable;
    }
    const db = createDatabase({ url: config.databaseUrl, poolSize: 1, applicationName: 'imgpipe-reprocess' });
    const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const queued = await requeueUploads({
        producer,
        codec: new EventCodec({ registryUrl: config.schemaRegistryUrl }),
        stage,
        pages: reprocessCandidates(db, {
          stage,
          mode,
          ...(model ? { model } : {}),
          ...(values.tenant !== undefined ? { tenantId: values.tenant } : {}),
          ...(since ? { since } : {}),
        }),
      });
      if (values.json) console.log(JSON.stringify({ stage, mode, model: model ?? null, queued }));
      else
        console.log(
          `queued ${queued} image${queued === 1 ? '' : 's'} to re-run ${stage}` +
            (model ? ` (other than ${model.name} ${model.version})` : ''),
        );
      return EXIT.ok;
    } finally {
      await producer.disconnect();
      await db.destroy();
    }
  },
};
