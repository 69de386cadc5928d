import { parseArgs } from 'node:util';
import { apiSettings, DEV_JWT_SECRET, isRole, mintDevToken, parseDuration, ROLES } from '@imgpipe/http-api';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe token --tenant <id> [--role viewer|uploader|admin] [--ttl 1h] [--json]

Mints an HS256 development token for the HTTP API, signed with IMGPIPE_JWT_SECRET (or the development secret the
API accepts when neither IMGPIPE_JWT_SECRET nor IMGPIPE_JWKS_URL is set). Production uses an identity provider's
RS256 tokens (IMGPIPE_JWKS_URL) or API keys instead.

Options:
  --tenant <id>      tenant the token acts for (required)
  --role <role>      ${ROLES.join(' < ')} (default uploader)
  --ttl <duration>   lifetime: 90s, 15m, 2h (default 1h; at most IMGPIPE_JWT_MAX_LIFETIME_SECONDS, 24h by default)
  --subject <sub>    the token's sub claim (default dev:<tenant>)
  --json             print {"token", "tenant", "role", "expiresAt"}

Example:
  curl -H "Authorization: Bearer $(imgpipe token --tenant acme)" -F file=@photo.jpg localhost:8080/v1/images`;

export const command: Command = {
  summary: 'Mint a development JWT for the HTTP API (--tenant, --role, --ttl)',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: 'string' },
        role: { type: 'string', default: 'uploader' },
        ttl: { type: 'string', default: '1h' },
        subject: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (!values.tenant) {
      console.error(`imgpipe token: --tenant is required\n\n${HELP}`);
      return EXIT.usage;
    }
    if (!isRole(values.role)) {
      console.error(`imgpipe token: --role must be one of ${ROLES.join(', ')} (got "${values.role}")`);
      return EXIT.usage;
    }
    const ttlSeconds = parseDuration(values.ttl);
    if (!ttlSeconds) {
      console.error(`imgpipe token: --ttl must look like 90s, 15m, 2h or 7d (got "${values.ttl}")`);
      return EXIT.usage;
    }
    // The API's own token settings, so a token minted here is one the API accepts.
    const config = loadCliConfig([], {
      secret: apiSettings.jwtSecret,
      issuer: apiSettings.jwtIssuer,
      audience: apiSettings.jwtAudience,
      maxLifetimeSeconds: apiSettings.jwtMaxLifetimeSeconds,
    });
    if (ttlSeconds > config.maxLifetimeSeconds) {
      console.error(
        `imgpipe token: --ttl ${values.ttl} is longer than the ${config.maxLifetimeSeconds} s the API accepts ` +
          '(IMGPIPE_JWT_MAX_LIFETIME_SECONDS)',
      );
      return EXIT.usage;
    }
    const now = new Date();
    const token = mintDevToken({
      tenant: values.tenant,
      roles: [values.role],
      secret: config.secret ?? DEV_JWT_SECRET,
      ttlSeconds,
      now,
      ...(values.subject ? { subject: values.subject } : {}),
      ...(config.issuer ? { issuer: config.issuer } : {}),
      ...(config.audience ? { audience: config.audience } : {}),
    });
    if (values.json) {
      const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
      console.log(JSON.stringify({ token, tenant: values.tenant, role: values.role, expiresAt }));
    } else {
      console.log(token);
    }
    return EXIT.ok;
  },
};
