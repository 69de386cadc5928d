import { createHmac, timingSafeEqual } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import type { Role } from '../roles.ts';

/** Names of the console's cookies. */
export const REFRESH_COOKIE = 'imgpipe_refresh';
export const CSRF_COOKIE = 'imgpipe_csrf';
/** The refresh cookie goes only to the sign-in routes. */
export const REFRESH_COOKIE_PATH = '/v1/auth';
export const CSRF_HEADER = 'x-csrf-token';

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export interface AccessClaims {
  userId: string;
  username: string;
  tenantId: string;
  role: Role;
  /** The session (refresh-token family). */
  sessionId: string;
}

/**
 * Signs the access JWTs of signed-in users and derives their CSRF tokens, with the API's HS256 secret. The access
 * token carries the claims every other token carries (sub, tenant, roles, iat, exp, and iss/aud when configured), so
 * the routes verify it like any other; `sid` names the session and `preferred_username` the user.
 */
export class SessionTokens {
  readonly #secret: string;
  readonly #csrfKey: Buffer;
  readonly #options: { accessTtlSeconds: number; issuer?: string; audience?: string };

  constructor(secret: string, options: { accessTtlSeconds: number; issuer?: string; audience?: string }) {
    this.#secret = secret;
    this.#csrfKey = createHmac('sha256', secret).update('imgpipe csrf key').digest();
    this.#options = options;
  }

  get accessTtlSeconds(): number {
    return this.#options.accessTtlSeconds;
  }

  accessToken(claims: AccessClaims, now = new Date()): { token: string; expiresAt: Date } {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.#options.accessTtlSeconds;
    const payload = {
      sub: `user:${claims.userId}`,
      tenant: claims.tenantId,
      roles: [claims.role],
      sid: claims.sessionId,
      preferred_username: claims.username,
      iat,
      exp,
      ...(this.#options.issuer ? { iss: this.#options.issuer } : {}),
      ...(this.#options.audience ? { aud: this.#options.audience } : {}),
    };
    const input = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
    const signature = createHmac('sha256', this.#secret).update(input).digest('base64url');
    return { token: `${input}.${signature}`, expiresAt: new Date(exp * 1000) };
  }

  /**
   * The session's CSRF token: an HMAC of its id (the signed double-submit pattern), so it needs no storage, stays the
   * same across refreshes of the session, and is worthless for any other session.
   */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.#csrfKey).update(sessionId).digest('base64url');
  }

  /** AUTH_CSRF_INVALID unless `given` is the session's CSRF token. */
  checkCsrf(sessionId: string, given: string | undefined): void {
    if (given === undefined || given === '') {
      throw new ImgpipeError(
        'AUTH_CSRF_INVALID',
        `send the session's CSRF token (the ${CSRF_COOKIE} cookie, or csrfToken from sign-in) in X-CSRF-Token`,
      );
    }
    const expected = Buffer.from(this.csrfToken(sessionId));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new ImgpipeError('AUTH_CSRF_INVALID', 'the X-CSRF-Token header does not match the session');
    }
  }
}

/** The value of one cookie of a Cookie header (names and values here are base64url: no quoting or escaping). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  httpOnly: boolean;
  secure: boolean;
}

/** A Set-Cookie value; SameSite=Strict always. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    ...(options.httpOnly ? ['HttpOnly'] : []),
    ...(options.secure ? ['Secure'] : []),
    'SameSite=Strict',
  ].join('; ');
}

/** Cookies are Secure except for a client on a loopback host name (a developer's http://localhost). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
