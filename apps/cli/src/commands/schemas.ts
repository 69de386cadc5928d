import { parseArgs } from 'node:util';
import { ImgpipeError } from '@imgpipe/core';
import {
  type CompatibilityResult,
  checkEventSchemas,
  DEFAULT_SCHEMAS_DIR,
  EventCodec,
  loadEventSchemas,
} from '@imgpipe/contracts';
import { actionOf, textTable } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe schemas <register|check> [--schemas-dir DIR] [--json]

The Avro schemas of every event (schemas/*.avsc) in the schema registry (IMGPIPE_SCHEMA_REGISTRY_URL, Confluent
API). Subjects are <topic>-value: one per pipeline topic, and the DeadLetter schema under every dead-letter topic.

  register  register every schema under its subjects (idempotent: an unchanged schema keeps its version);
            prints subject, version and schema id
  check     ask the registry whether each local schema is BACKWARD compatible with the latest registered
            version (nothing is registered); a subject with no versions yet counts as new. Exits ${EXIT.failure} with
            SCHEMA_INCOMPATIBLE when any schema is incompatible

Options:
  --schemas-dir DIR  read the .avsc files from DIR (default: ${DEFAULT_SCHEMAS_DIR})
  --json             machine-readable output
  -h, --help`;

async function register(registryUrl: string, schemasDir: string, json: boolean): Promise<number> {
  const codec = new EventCodec({ registryUrl, schemas: loadEventSchemas(schemasDir) });
  const registered = await codec.register();
  if (json) {
    console.log(JSON.stringify({ registry: registryUrl, subjects: registered }, null, 2));
    return EXIT.ok;
  }
  const rows = registered.map((r) => [r.subject, String(r.version), String(r.id), r.eventType]);
  console.log(textTable([['subject', 'version', 'id', 'schema'], ...rows]));
  console.log(`\n${registered.length} subjects registered at ${registryUrl}`);
  return EXIT.ok;
}

async function check(registryUrl: string, schemasDir: string, json: boolean): Promise<number> {
  const results = await checkEventSchemas(registryUrl, loadEventSchemas(schemasDir));
  const incompatible = results.filter((result) => result.status === 'incompatible');
  if (json) {
    console.log(
      JSON.stringify(
        {
          registry: registryUrl,
          ok: incompatible.length === 0,
          ...(incompatible.length > 0 ? { code: 'SCHEMA_INCOMPATIBLE' } : {}),
          results,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(textTable([['subject', 'result', 'schema'], ...results.map(row)]));
    for (const result of incompatible) {
      console.error(`\n${result.subject}:`);
      for (const message of result.messages) console.error(`  ${message}`);
    }
  }
  if (incompatible.length === 0) return EXIT.ok;
  const subjects = incompatible.map((result) => result.subject).join(', ');
  console.error(
    `\nimgpipe: SCHEMA_INCOMPATIBLE: ${incompatible.length} schema change(s) would break consumers: ${subjects}. ` +
      'Add new fields as optional (["null", ...] with "default": null) or with a default; never rename or retype.',
  );
  return EXIT.failure;
}

function row(result: CompatibilityResult): string[] {
  const text = { compatible: 'compatible', incompatible: 'INCOMPATIBLE', new: 'new subject' }[result.status];
  return [result.subject, text, result.eventType ?? ''];
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'schemas-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export const command: Command = {
  summary: 'Register the event schemas, or check local changes for compatibility',
  async run(argv) {
    const { values, positionals } = parseOptions(argv);
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const action = actionOf('schemas', positionals, ['register', 'check']);
    const { schemaRegistryUrl } = loadCliConfig(['schemaRegistryUrl']);
    const schemasDir = values['schemas-dir'] ?? DEFAULT_SCHEMAS_DIR;
    try {
      return action === 'register'
        ? await register(schemaRegistryUrl, schemasDir, values.json)
        : await check(schemaRegistryUrl, schemasDir, values.json);
    } catch (error) {
      if (values.json && error instanceof ImgpipeError) {
        console.log(JSON.stringify({ registry: schemaRegistryUrl, ok: false, error: error.toJSON() }, null, 2));
      }
      throw error;
    }
  },
};
