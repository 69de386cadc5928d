import { parseArgs } from 'node:util';
import { ImgpipeError } from '@imgpipe/core';
import { transformLimitSettings } from '@imgpipe/imaging/recipe';
import {
  apiSettings,
  MAX_SIGNED_TTL_SECONDS,
  parseDuration,
  RenditionSigner,
  readRenditionRecipe,
  signRendition,
} from '@imgpipe/http-api';
import { isImageId } from '@imgpipe/results';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe sign-url <image-id> <recipe> --tenant <id> [--expires 1h] [--base-url URL] [--json]

Prints a signed, expiring rendition URL (GET /v1/renditions/{tenant}/{id}/{recipe}?expires=&signature=) that a
browser or CDN can fetch without a token, signed with IMGPIPE_RENDITION_SIGNING_KEY exactly as the API's
POST /v1/images/{id}/rendition-urls signs it (the recipe in its canonical form). Nothing is looked up: the URL
answers 404 if the tenant has no such image.

Arguments:
  <image-id>         the image's id (UUID)
  <recipe>           the recipe, string form: 'resize:800x600:cover/format:webp:80'

Options:
  --tenant <id>      the tenant that owns the image (required)
  --expires <dur>    lifetime: 90s, 15m, 2h, 7d (default 1h, at most 7d)
  --base-url <url>   the API's address (default http://localhost:IMGPIPE_API_PORT)
  --json             print {"url", "expiresAt", "recipe"}

Exit codes: 0 printed, 2 a usage mistake or a malformed recipe (its RECIPE_* code on stderr), 78 no signing key.`;

export const command: Command = {
  summary: 'Print a signed, expiring rendition URL for an image and a recipe (no token needed to fetch it)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        expires: { type: 'string', default: '1h' },
        'base-url': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const [imageId, recipeText, ...extra] = positionals;
    if (!imageId || recipeText === undefined || extra.length > 0) {
      console.error(`imgpipe sign-url: give an image id and a recipe\n\n${HELP}`);
      return EXIT.usage;
    }
    if (!values.tenant) {
      console.error(`imgpipe sign-url: --tenant is required\n\n${HELP}`);
      return EXIT.usage;
    }
    if (!isImageId(imageId)) {
      console.error(`imgpipe sign-url: "${imageId}" is not an image id (a UUID)`);
      return EXIT.usage;
    }
    const ttlSeconds = parseDuration(values.expires);
    if (!ttlSeconds || ttlSeconds > MAX_SIGNED_TTL_SECONDS) {
      console.error(
        `imgpipe sign-url: --expires must look like 90s, 15m, 2h or 7d, at most 7d (got "${values.expires}")`,
      );
      return EXIT.usage;
    }
    // The API's own settings: its signing key, port and recipe limits, so the URL is one the API serves.
    const config = loadCliConfig([], {
      key: apiSettings.renditionSigningKey,
      port: apiSettings.port,
      limits: transformLimitSettings,
    });
    if (config.key === undefined) {
      console.error(
        'imgpipe sign-url: IMGPIPE_RENDITION_SIGNING_KEY is not set; the API signs with it (32+ characters)',
      );
      return EXIT.config;
    }
    let signed: ReturnType<typeof signRendition>;
    try {
      const recipe = readRenditionRecipe(recipeText, config.limits);
      signed = signRendition(
        new RenditionSigner(config.key),
        { tenantId: values.tenant, imageId: imageId.toLowerCase(), recipe },
        ttlSeconds,
      );
    } catch (error) {
      if (!(error instanceof ImgpipeError) || !error.code.startsWith('RECIPE_')) throw error;
      console.error(`imgpipe sign-url: ${error.code}: ${error.message}`);
      return EXIT.usage;
    }
    const base = (values['base-url'] ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
    const url = `${base}${signed.url}`;
    if (values.json) {
      console.log(JSON.stringify({ url, expiresAt: signed.expiresAt.toISOString(), recipe: signed.recipe }));
    } else {
      console.log(url);
    }
    return EXIT.ok;
  },
};
