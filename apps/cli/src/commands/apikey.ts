import { parseArgs } from 'node:util';
import { createDatabase, migrateDirect } from '@imgpipe/results';
import { ApiKeyStore, isRole, ROLES } from '@imgpipe/http-api';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe apikey <create|list|revoke> [options]

API keys for machine clients of the HTTP API, straight in PostgreSQL (an operator's tool; tenant admins can also
use POST/GET/DELETE /v1/api-keys). Keys are stored hashed: the key is printed once, at creation.

  create --tenant <id> --role <${ROLES.join('|')}> [--name <text>]
  list   --tenant <id>
  revoke <key id> [--tenant <id>]

Options: --json for machine output.`;

export const command: Command = {
  summary: 'Create, list or revoke API keys for the HTTP API',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        role: { type: 'string' },
        name: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [action, id] = positionals;
    if (values.help || !action) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const usage = (message: string) => {
      console.error(`imgpipe apikey ${action}: ${message}\n\n${HELP}`);
      return EXIT.usage;
    };
    if (action !== 'create' && action !== 'list' && action !== 'revoke') return usage('unknown action');
    if ((action === 'create' || action === 'list') && !values.tenant) return usage('--tenant is required');
    if (action === 'create' && !isRole(values.role)) return usage(`--role must be one of ${ROLES.join(', ')}`);
    if (action === 'revoke' && !id) return usage('give the key id to revoke');

    const urls = loadCliConfig(['databaseUrl', 'databaseDirectUrl']);
    await migrateDirect(urls, 'imgpipe-apikey-migrate');
    const db = createDatabase({ url: urls.databaseUrl, poolSize: 1, applicationName: 'imgpipe-apikey' });
    try {
      const keys = new ApiKeyStore(db);
      if (action === 'create') {
        const created = await keys.create({
          tenantId: values.tenant!,
          role: values.role as (typeof ROLES)[number],
          ...(values.name ? { name: values.name } : {}),
        });
        if (values.json) console.log(JSON.stringify(created));
        else {
          console.log(created.key);
          console.error(
            `created key ${created.id} (${created.role}) for tenant ${created.tenantId}; it is not shown again`,
          );
        }
        return EXIT.ok;
      }
      if (action === 'list') {
        const items = await keys.list(values.tenant!);
        if (values.json) console.log(JSON.stringify(items));
        else if (items.length === 0) console.log(`tenant ${values.tenant} has no API keys`);
        else {
          for (const key of items) {
            const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
            console.log(`${key.id}  ${key.role.padEnd(8)}  ${state.padEnd(32)}  ${key.name}`);
          }
        }
        return EXIT.ok;
      }
      const revoked = await keys.revoke(id!, values.tenant);
      if (!revoked) {
        console.error(`imgpipe apikey revoke: no key ${id}${values.tenant ? ` for tenant ${values.tenant}` : ''}`);
        return EXIT.failure;
      }
      if (values.json) console.log(JSON.stringify(revoked));
      else console.log(`revoked ${revoked.id} (tenant ${revoked.tenantId})`);
      return EXIT.ok;
    } finally {
      await db.destroy();
    }
  },
};
