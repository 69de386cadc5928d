import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { EventCodec, INLINE_IMAGE_MAX_BYTES, OCR_LANGUAGES, UPLOAD_ANALYSES } from '@imgpipe/contracts';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor } from '@imgpipe/storage';
import { createKafka } from '@imgpipe/stream/kafka';
import { createLogger, startTracing, tracingSettings } from '@imgpipe/telemetry';
import { parseAnalyses, parseOcrLanguages, parseOcrModel } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { claimedContentType, listImageFiles } from '../image-files.ts';

const HELP = `Usage: imgpipe produce <files or folders...> [options]

Acts as another system's producer: stores each image in S3 (or inlines a small one in the event) and produces an
ImageUploaded event to images.uploaded, keyed by a new image id, in the schema registry's wire format.
Prints one image id per file (with --json, one JSON object per line).

Options:
  --tenant <id>          tenant the images belong to (default: default)
  --analyses <list>      comma-separated subset of ${UPLOAD_ANALYSES.join(',')} (default: detect,faces,ocr)
  --renditions <list>    comma-separated rendition presets for the transform stage (IMGPIPE_RENDITION_PRESETS
                         names, e.g. thumb,web; default none; a name the stage does not know fails its transform)
  --ocr-model <set>      OCR model set the images are read with (ImageUploaded.ocrModel): ppocr-v4 or ppocr-v5
                         (default: none named, the OCR stage's IMGPIPE_OCR_MODEL_SET decides)
  --ocr-languages <l>    comma-separated languages to restrict OCR to (ImageUploaded.ocrLanguages):
                         ${OCR_LANGUAGES.join(',')} (default none)
  --inline               put the bytes in the event (files up to ${INLINE_IMAGE_MAX_BYTES} bytes) instead of S3
  --json                 machine-readable output
  -h, --help             this help`;

export const command: Command = {
  summary: "Upload images and produce ImageUploaded events, as another system's producer would",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string', default: 'default' },
        analyses: { type: 'string' },
        renditions: { type: 'string' },
        'ocr-model': { type: 'string' },
        'ocr-languages': { type: 'string' },
        inline: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length === 0) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const analyses = parseAnalyses(values.analyses);
    const ocrModel = parseOcrModel(values['ocr-model']);
    const ocrLanguages = parseOcrLanguages(values['ocr-languages']);
    const renditions = [
      ...new Set(
        (values.renditions ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      ),
    ];
    const files = await listImageFiles(positionals);
    const config = loadCliConfig(['kafka', 'schemaRegistryUrl', 'storage'], { tracing: tracingSettings });
    const tracing = await startTracing({ serviceName: 'imgpipe-produce', config: config.tracing });
    const logger = createLogger('imgpipe-produce', 'warn');
    const producer = createKafka({ connection: config.kafka, clientId: 'imgpipe-produce', logger }).producer({
      idempotent: true,
      allowAutoTopicCreation: false,
    });
    const blobs = blobStoreFor(config.storage);
    await producer.connect();
    const publisher = new ImagePublisher({
      producer,
      codec: new EventCodec({ registryUrl: config.schemaRegistryUrl }),
      blobs,
    });
    let failures = 0;
    try {
      for (const file of files) {
        try {
          const event = await publisher.publish({
            bytes: await readFile(file),
            tenantId: values.tenant,
            sourceName: basename(file),
            contentType: claimedContentType(file),
            analyses,
            renditions,
            ...(ocrModel ? { ocrModel } : {}),
            ...(ocrLanguages.length > 0 ? { ocrLanguages } : {}),
            inline: values.inline,
          });
          if (values.json) {
            console.log(
              JSON.stringify({
                file,
                imageId: event.imageId,
                tenantId: event.tenantId,
                sha256: event.sha256,
                size: event.size,
              }),
            );
          } else {
            console.log(`${event.imageId}  ${file}`);
          }
        } catch (error) {
          failures += 1;
          const code = (error as { code?: string }).code ?? 'STAGE_INTERNAL';
          if (values.json) console.log(JSON.stringify({ file, error: { code, message: (error as Error).message } }));
          else console.error(`imgpipe produce: ${file}: ${code}: ${(error as Error).message}`);
        }
      }
    } finally {
      await producer.disconnect();
      blobs.close();
      await tracing.shutdown();
    }
    return failures > 0 ? EXIT.failure : EXIT.ok;
  },
};
