import { createHmac } from 'node:crypto';
import type { Role } from '../roles.ts';

export interface DevTokenRequest {
  tenant: string;
  roles: Role[];
  secret: string;
  /** Seconds; default one hour. */
  ttlSeconds?: number;
  subject?: string;
  issuer?: string;
  audience?: string;
  now?: Date;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** An HS256 JWT with imgpipe's claims (`tenant`, `roles`): for local development and tests (`imgpipe token`). */
export function mintDevToken(request: DevTokenRequest): string {
  const issuedAt = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const payload = {
    sub: request.subject ?? `dev:${request.tenant}`,
    tenant: request.tenant,
    roles: request.roles,
    iat: issuedAt,
    exp: issuedAt + (request.ttlSeconds ?? 3600),
    ...(request.issuer ? { iss: request.issuer } : {}),
    ...(request.audience ? { aud: request.audience } : {}),
  };
  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', request.secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** "90s", "15m", "2h", "7d" or plain seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
