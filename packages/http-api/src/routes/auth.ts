import { type AccountService, type IssuedSession, REFRESH_TOKEN_PATTERN } from '@imgpipe/accounts';
import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.ts';
import {
  CSRF_COOKIE,
  CSRF_HEADER,
  isLoopbackHost,
  REFRESH_COOKIE,
  REFRESH_COOKIE_PATH,
  readCookie,
  type SessionTokens,
  setCookie,
} from '../auth/session-tokens.ts';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { principalOf } from '../fastify-types.ts';
import { ROLES, TENANT_PATTERN } from '../roles.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { nameSchema } from '../text-rules.ts';
import { userRoutes } from './users.ts';

export interface AuthRoutesOptions {
  accounts: AccountService;
  /** Signs access tokens; absent when the API has no HS256 secret (sign-in then answers 501). */
  tokens?: SessionTokens;
  throttle: LoginThrottle;
  breakers: DependencyBreakers;
  /** With Redis unreachable: sign in without the throttle (open) or refuse (closed, 503), as the rate limits do. */
  onRedisDown: 'open' | 'closed';
}

export const userSchema = {
  $id: 'User',
  type: 'object',
  required: ['id', 'tenantId', 'username', 'role', 'disabled', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    tenantId: { type: 'string' },
    username: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    disabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    lastSignInAt: { type: 'string', format: 'date-time' },
  },
} as const;

const sessionSchema = {
  description:
    'a session: the access token (send as Authorization: Bearer) and, in body mode, the refresh token; in cookie ' +
    'mode the refresh token is in the HttpOnly imgpipe_refresh cookie and csrfToken is returned instead',
  type: 'object',
  required: ['tokenType', 'accessToken', 'expiresIn', 'expiresAt', 'refreshExpiresAt', 'user'],
  properties: {
    tokenType: { type: 'string', enum: ['Bearer'] },
    accessToken: { type: 'string', description: 'a JWT with the claims sub, tenant, roles, sid, iat, exp' },
    expiresIn: { type: 'integer', description: 'seconds the access token lives' },
    expiresAt: { type: 'string', format: 'date-time' },
    refreshToken: { type: 'string', description: 'body mode only: single use, rotated by every refresh' },
    refreshExpiresAt: { type: 'string', format: 'date-time' },
    csrfToken: { type: 'string', description: 'cookie mode only: send as X-CSRF-Token to refresh and logout' },
    user: { $ref: 'User#' },
  },
} as const;

const refreshBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    refreshToken: {
      type: 'string',
      pattern: REFRESH_TOKEN_PATTERN.source,
      description: 'body mode; leave out to use the imgpipe_refresh cookie (then X-CSRF-Token is required)',
    },
  },
} as const;

const csrfHeader = {
  type: 'object',
  properties: {
    [CSRF_HEADER]: { type: 'string', description: "cookie mode: the session's CSRF token" },
  },
} as const;

type Mode = 'body' | 'cookie';

/**
 * Sign-in with a username and password (users of packages/accounts): POST /v1/auth/login opens a session and
 * returns a 15-minute access JWT and a single-use refresh token; POST /v1/auth/refresh rotates the refresh token
 * (reusing an old one revokes the session); POST /v1/auth/logout revokes it. Bearer clients send and receive the
 * refresh token in JSON; the web console asks for cookie mode, in which the refresh token lives in an HttpOnly,
 * SameSite=Strict cookie scoped to /v1/auth and refresh and logout need the session's CSRF token in X-CSRF-Token.
 */
export async function authRoutes(app: FastifyInstance, deps: AuthRoutesOptions): Promise<void> {
  app.addSchema(userSchema);
  // The users' routes share the User schema: registered inside this group.
  await app.register(userRoutes, { accounts: deps.accounts });

  const tokensOrThrow = (): SessionTokens => {
    if (!deps.tokens) {
      throw new ImgpipeError('AUTH_SESSIONS_UNCONFIGURED', 'the API has no HS256 secret to sign access tokens with');
    }
    return deps.tokens;
  };

  /** A throttle call, degraded per the Redis-down policy: skipped when open, 503 when closed. */
  const throttled = async <T>(request: FastifyRequest, work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await deps.breakers.cache(work);
    } catch (error) {
      if (deps.onRedisDown === 'closed' || !(error instanceof ImgpipeError)) throw error;
      request.log.warn({ code: error.code, detail: error.message }, 'sign-in throttle not applied: Redis unavailable');
      return fallback;
    }
  };

  const cookieOptions = (request: FastifyRequest) => ({ secure: !isLoopbackHost(request.hostname) });

  const sendSession = (request: FastifyRequest, reply: FastifyReply, session: IssuedSession, mode: Mode) => {
    const tokens = tokensOrThrow();
    const access = tokens.accessToken({
      userId: session.user.id,
      username: session.user.username,
      tenantId: session.user.tenantId,
      role: session.user.role,
      sessionId: session.familyId,
    });
    reply.header('cache-control', 'no-store');
    const body: Record<string, unknown> = {
      tokenType: 'Bearer',
      accessToken: access.token,
      expiresIn: tokens.accessTtlSeconds,
      expiresAt: access.expiresAt.toISOString(),
      refreshExpiresAt: session.refreshExpiresAt.toISOString(),
      user: session.user,
    };
    if (mode === 'body') return { ...body, refreshToken: session.refreshToken };
    const csrfToken = tokens.csrfToken(session.familyId);
    const maxAgeSeconds = (session.refreshExpiresAt.getTime() - Date.now()) / 1000;
    const { secure } = cookieOptions(request);
    reply.header('set-cookie', [
      setCookie(REFRESH_COOKIE, session.refreshToken, {
        path: REFRESH_COOKIE_PATH,
        maxAgeSeconds,
        httpOnly: true,
        secure,
      }),
      setCookie(CSRF_COOKIE, csrfToken, { path: '/', maxAgeSeconds, httpOnly: false, secure }),
    ]);
    return { ...body, csrfToken };
  };

  const clearCookies = (request: FastifyRequest, reply: FastifyReply) => {
    const { secure } = cookieOptions(request);
    reply.header('set-cookie', [
      setCookie(REFRESH_COOKIE, '', { path: REFRESH_COOKIE_PATH, maxAgeSeconds: 0, httpOnly: true, secure }),
      setCookie(CSRF_COOKIE, '', { path: '/', maxAgeSeconds: 0, httpOnly: false, secure }),
    ]);
  };

  /** The refresh token and where it came from: the JSON body wins; else the cookie, which needs the CSRF header. */
  const presented = (request: FastifyRequest): { token: string; mode: Mode } => {
    const body = request.body as { refreshToken?: string } | undefined;
    if (body?.refreshToken) return { token: body.refreshToken, mode: 'body' };
    const cookie = readCookie(request.headers.cookie, REFRESH_COOKIE);
    if (cookie) return { token: cookie, mode: 'cookie' };
    throw new ImgpipeError('AUTH_MISSING', 'send refreshToken in the JSON body, or the imgpipe_refresh cookie');
  };
  const csrfCheck = (request: FastifyRequest, mode: Mode) => {
    if (mode === 'body') return undefined;
    const header = request.headers[CSRF_HEADER];
    const given = typeof header === 'string' ? header : undefined;
    return (familyId: string) => tokensOrThrow().checkCsrf(familyId, given);
  };

  app.post(
    '/v1/auth/login',
    {
      config: { ipRateLimited: true },
      schema: {
        operationId: 'login',
        tags: ['auth'],
        summary: 'Sign in with a username and password: an access token and a refresh token',
        description:
          'Unknown users, wrong passwords and disabled users get the same 401 AUTH_LOGIN_FAILED. After repeated ' +
          'failures for a username or from a client IP, further attempts must wait (429 AUTH_LOGIN_THROTTLED with ' +
          'Retry-After), and the wait doubles with each further failure.',
        body: {
          type: 'object',
          required: ['tenant', 'username', 'password'],
          additionalProperties: false,
          properties: {
            tenant: { type: 'string', pattern: TENANT_PATTERN.source },
            username: nameSchema(254, { minLength: 1 }),
            password: { type: 'string', minLength: 1, maxLength: 1024 },
            refreshTokenIn: {
              type: 'string',
              enum: ['body', 'cookie'],
              default: 'body',
              description: 'cookie: the web console (HttpOnly refresh cookie plus a CSRF token)',
            },
          },
        },
        response: {
          200: sessionSchema,
          ...problemResponses(400, 401, 415, 429, 501, 503),
        },
      },
    },
    async (request, reply) => {
      tokensOrThrow();
      const body = request.body as { tenant: string; username: string; password: string; refreshTokenIn?: Mode };
      const { ip } = request;
      const wait = await throttled(request, () => deps.throttle.wait(body.tenant, body.username, ip), 0);
      if (wait > 0) {
        await deps.accounts.recordThrottled({ tenantId: body.tenant, username: body.username, ip, retryAfterMs: wait });
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new ImgpipeError('AUTH_LOGIN_THROTTLED', 'too many failed sign-ins; try again after Retry-After', {
          details: { retryAfterMs: wait },
        });
      }
      let session: IssuedSession;
      try {
        session = await deps.accounts.login({
          tenantId: body.tenant,
          username: body.username,
          password: body.password,
          ip,
        });
      } catch (error) {
        if (error instanceof ImgpipeError && error.code === 'AUTH_LOGIN_FAILED') {
          await throttled(request, () => deps.throttle.fail(body.tenant, body.username, ip), undefined);
        }
        throw error;
      }
      await throttled(request, () => deps.throttle.succeed(body.tenant, body.username), undefined);
      return sendSession(request, reply, session, body.refreshTokenIn ?? 'body');
    },
  );

  app.post(
    '/v1/auth/refresh',
    {
      config: { ipRateLimited: true },
      schema: {
        operationId: 'refreshSession',
        tags: ['auth'],
        summary: 'Exchange the refresh token for a new access token and a new refresh token',
        description:
          'Every refresh token works once. Presenting one that was already exchanged revokes the whole session ' +
          '(the newest token too). The user is read afresh: a new role applies, a disabled user is refused.',
        headers: csrfHeader,
        body: refreshBody,
        response: {
          200: sessionSchema,
          ...problemResponses(400, 401, 403, 415, 429, 501, 503),
        },
      },
    },
    async (request, reply) => {
      tokensOrThrow();
      const { token, mode } = presented(request);
      try {
        const check = csrfCheck(request, mode);
        const session = await deps.accounts.refresh(token, { ip: request.ip, ...(check ? { check } : {}) });
        return sendSession(request, reply, session, mode);
      } catch (error) {
        if (mode === 'cookie' && error instanceof ImgpipeError && error.code === 'AUTH_REFRESH_INVALID') {
          clearCookies(request, reply);
        }
        throw error;
      }
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { ipRateLimited: true },
      schema: {
        operationId: 'logout',
        tags: ['auth'],
        summary: 'Sign out: revoke the session the refresh token belongs to',
        description: 'Answers 204 for an unknown or already revoked token too. Access tokens live on until exp.',
        headers: csrfHeader,
        body: refreshBody,
        response: {
          204: { description: 'signed out (cookie mode: the cookies are cleared)', type: 'null' },
          ...problemResponses(400, 401, 403, 415, 429, 501, 503),
        },
      },
    },
    async (request, reply) => {
      tokensOrThrow();
      const { token, mode } = presented(request);
      const check = csrfCheck(request, mode);
      await deps.accounts.logout(token, { ip: request.ip, ...(check ? { check } : {}) });
      if (mode === 'cookie') clearCookies(request, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/auth/me',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'whoAmI',
        tags: ['auth'],
        summary: 'The caller as the API sees it: tenant, role, subject and how it authenticated',
        response: {
          200: {
            description: 'the caller',
            type: 'object',
            required: ['tenantId', 'role', 'subject', 'via'],
            properties: {
              tenantId: { type: 'string' },
              role: { type: 'string', enum: [...ROLES] },
              subject: { type: 'string', description: 'user:<id> for signed-in users, apikey:<id>, or a token sub' },
              via: { type: 'string', enum: ['jwt', 'api-key'] },
            },
          },
          ...problemResponses(...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => principalOf(request),
  );
}
