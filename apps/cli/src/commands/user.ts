import { parseArgs } from 'node:util';
import { type AccountRole, type AccountUser, AccountService, accountSettings } from '@imgpipe/accounts';
import { createDatabase, migrateDirect } from '@imgpipe/results';
import { isRole, ROLES } from '@imgpipe/http-api';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe user <create|list|disable|enable|set-role|reset-password> [options]

Users who sign in to the HTTP API and the console with a password (POST /v1/auth/login), straight in PostgreSQL:
an operator's tool, and how the first admin of a tenant is made (there is no default password). Tenant admins can
also manage users over /v1/users.

  create         --tenant <id> --username <name> --role <${ROLES.join('|')}>
  list           --tenant <id>
  disable        <username> --tenant <id>     (their sessions end at the next refresh)
  enable         <username> --tenant <id>
  set-role       <username> --tenant <id> --role <${ROLES.join('|')}>   (applies from the next refresh)
  reset-password <username> --tenant <id>     (ends every session of the user)

Passwords are never taken from the command line: create and reset-password prompt for one (twice, not echoed) on a
terminal, or read the first line of standard input otherwise (printf '%s\\n' "$PASSWORD" | imgpipe user create ...).
Policy: at least 12 characters, not the username, not a common password.

Options: --json for machine output.`;

/** The first line of standard input, or a prompt (no echo, asked twice) on a terminal. */
async function readPassword(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    return line === '' ? undefined : line;
  }
  const first = await promptHidden(`${prompt}: `);
  const second = await promptHidden(`${prompt} (again): `);
  if (first !== second) {
    console.error('imgpipe user: the passwords differ');
    return undefined;
  }
  return first === '' ? undefined : first;
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          reject(new Error('interrupted'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

function line(user: AccountUser): string {
  const state = user.disabled ? 'disabled' : 'enabled';
  return `${user.username.padEnd(24)}  ${user.role.padEnd(8)}  ${state.padEnd(8)}  ${user.lastSignInAt ?? 'never signed in'}  ${user.id}`;
}

export const command: Command = {
  summary: 'Create, list, disable, enable users, set their role or reset their password',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        username: { type: 'string' },
        role: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [action, named] = positionals;
    if (values.help || !action) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const usage = (message: string) => {
      console.error(`imgpipe user ${action}: ${message}\n\n${HELP}`);
      return EXIT.usage;
    };
    const actions = ['create', 'list', 'disable', 'enable', 'set-role', 'reset-password'];
    if (!actions.includes(action)) return usage('unknown action');
    if (!values.tenant) return usage('--tenant is required');
    const username = action === 'create' ? values.username : named;
    if (action !== 'list' && !username) {
      return usage(action === 'create' ? '--username is required' : 'give the username');
    }
    if ((action === 'create' || action === 'set-role') && !isRole(values.role)) {
      return usage(`--role must be one of ${ROLES.join(', ')}`);
    }
    let password: string | undefined;
    if (action === 'create' || action === 'reset-password') {
      password = await readPassword(`password for ${username}`);
      if (password === undefined) return usage('no password: type it at the prompt or give it on standard input');
    }

    const config = loadCliConfig(['databaseUrl', 'databaseDirectUrl'], { accounts: accountSettings });
    await migrateDirect(config, 'imgpipe-user-migrate');
    const db = createDatabase({ url: config.databaseUrl, poolSize: 1, applicationName: 'imgpipe-user' });
    const by = { actor: 'cli' };
    const tenantId = values.tenant;
    try {
      const accounts = new AccountService(db, {
        refreshTtlSeconds: config.accounts.refreshTtlSeconds,
        sessionTtlSeconds: config.accounts.sessionTtlSeconds,
      });
      if (action === 'list') {
        const users = await accounts.listUsers(tenantId);
        if (values.json) console.log(JSON.stringify(users));
        else if (users.length === 0) console.log(`tenant ${tenantId} has no users`);
        else for (const user of users) console.log(line(user));
        return EXIT.ok;
      }
      const ref = { username: username! };
      const role = values.role as AccountRole;
      const user =
        action === 'create'
          ? await accounts.createUser({ tenantId, username: username!, role, password: password! }, by)
          : action === 'set-role'
            ? await accounts.setRole(tenantId, ref, role, by)
            : action === 'reset-password'
              ? await accounts.resetPassword(tenantId, ref, password!, by)
              : await accounts.setDisabled(tenantId, ref, action === 'disable', by);
      if (values.json) console.log(JSON.stringify(user));
      else {
        const done = {
          create: `created ${user.username} (${user.role}) in tenant ${tenantId}`,
          'set-role': `${user.username} is now ${user.role}; it applies from their next refresh`,
          'reset-password': `set a new password for ${user.username}; their sessions end at the next refresh`,
          disable: `disabled ${user.username}; their sessions end at the next refresh`,
          enable: `enabled ${user.username}`,
        }[action as 'create'];
        console.log(done);
      }
      return EXIT.ok;
    } finally {
      await db.destroy();
    }
  },
};
