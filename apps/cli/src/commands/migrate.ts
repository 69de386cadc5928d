import { parseArgs } from 'node:util';
import { createDatabase, migrate, migrationStatus, migrationUrl } from '@imgpipe/results';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe migrate [--status] [--json]

Brings the results database (IMGPIPE_DATABASE_URL) to the latest schema. Safe to run again and from several
processes at once. --status lists the migrations and when each ran, changing nothing.
Exit code 69 when PostgreSQL cannot be reached.`;

export const command: Command = {
  summary: 'Bring the results database to the latest schema',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        status: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    // The primary itself, not PgBouncer: the migration lock is a session-level advisory lock.
    const config = loadCliConfig(['databaseUrl', 'databaseDirectUrl']);
    const db = createDatabase({ url: migrationUrl(config), poolSize: 1, applicationName: 'imgpipe-migrate' });
    try {
      if (values.status) {
        const migrations = await migrationStatus(db);
        if (values.json) console.log(JSON.stringify({ migrations }));
        else {
          for (const { name, executedAt } of migrations) {
            console.log(`${name.padEnd(24)} ${executedAt ? `applied ${executedAt.toISOString()}` : 'pending'}`);
          }
        }
        return EXIT.ok;
      }
      const outcome = await migrate(db);
      if (values.json) console.log(JSON.stringify(outcome));
      else if (outcome.applied.length === 0) {
        const count = outcome.known.length;
        console.log(`Database is up to date (${count} migration${count === 1 ? '' : 's'}).`);
      } else {
        for (const name of outcome.applied) console.log(`Applied ${name}`);
      }
      return EXIT.ok;
    } finally {
      await db.destroy();
    }
  },
};
