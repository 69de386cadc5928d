import { parseArgs } from 'node:util';
import { createDatabase, MAX_SIMILAR_DISTANCE, tenantHashes } from '@imgpipe/results';
import { nearDuplicateGroups } from '@imgpipe/vision/features';
import { wholeNumber } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe duplicates [--tenant T] [--max-distance D] [--json]

Groups a tenant's images into near-duplicate clusters, as photo libraries group re-saves, resized copies and
bursts: images whose perceptual hashes (the preprocess stage's 64-bit difference hash) are within D bits of each
other, chained (single linkage: A~B and B~C put A, B and C in one group). Reads the hashes from PostgreSQL
(IMGPIPE_DATABASE_URL); images not preprocessed yet have none and are left out. GET /v1/images/{id}/similar answers
the same question for one image (docs/features.md).

Options:
  --tenant <id>         the tenant (default "default")
  --max-distance <D>    largest Hamming distance within a group, 0-${MAX_SIMILAR_DISTANCE} (default 7)
  --json                one JSON object: tenant, maxDistance, images (hashed images read), groups (largest first,
                        each a list of { imageId, perceptualHash, sourceName })
  -h, --help            this help`;

export const command: Command = {
  summary: "Group a tenant's images into near-duplicate clusters (perceptual hash)",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string', default: 'default' },
        'max-distance': { type: 'string', default: '7' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length > 0) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const maxDistance = wholeNumber('--max-distance', values['max-distance'], 0);
    if (maxDistance > MAX_SIMILAR_DISTANCE) {
      console.error(`imgpipe duplicates: --max-distance is at most ${MAX_SIMILAR_DISTANCE}`);
      return EXIT.usage;
    }
    const config = loadCliConfig(['databaseUrl']);
    const db = createDatabase({ url: config.databaseUrl, poolSize: 1 });
    let images: Awaited<ReturnType<typeof tenantHashes>>;
    try {
      images = await tenantHashes(db, values.tenant);
    } finally {
      await db.destroy();
    }
    const byId = new Map(images.map((image) => [image.imageId, image]));
    const groups = nearDuplicateGroups(
      images.map((image) => ({ id: image.imageId, hash: image.perceptualHash })),
      maxDistance,
    ).map((ids) => ids.map((id) => byId.get(id)!));
    if (values.json) {
      console.log(JSON.stringify({ tenant: values.tenant, maxDistance, images: images.length, groups }));
      return EXIT.ok;
    }
    const grouped = groups.reduce((n, group) => n + group.length, 0);
    console.log(
      `${values.tenant}: ${images.length} hashed images, ${groups.length} near-duplicate groups (${grouped} images) within ${maxDistance} bits`,
    );
    groups.forEach((group, index) => {
      console.log(`group ${index + 1} (${group.length})`);
      for (const image of group) {
        console.log(`  ${image.imageId}  ${image.perceptualHash}${image.sourceName ? `  ${image.sourceName}` : ''}`);
      }
    });
    return EXIT.ok;
  },
};
