import { type AccountConfig, AccountService, accountSettings } from '@imgpipe/accounts';
import { loadConfig } from '@imgpipe/core';
import type { Database } from '@imgpipe/results';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { JwtOptions } from './auth/authenticator.ts';
import { LoginThrottle } from './auth/login-throttle.ts';
import { SessionTokens } from './auth/session-tokens.ts';
import type { DependencyBreakers } from './dependency-breakers.ts';

/** The account settings' defaults (IMGPIPE_AUTH_*), for an API built without them. */
export const DEFAULT_ACCOUNT_CONFIG: AccountConfig = loadConfig(accountSettings, {});

/**
 * What the sign-in and user routes need: the accounts (PostgreSQL, through its circuit breaker), the signer of
 * access tokens (only with an HS256 secret: a JWKS-only API cannot mint tokens, and sign-in answers 501), and the
 * sign-in throttle (Redis).
 */
export function accountSessions(input: {
  db: Kysely<Database>;
  redis: Redis;
  breakers: DependencyBreakers;
  jwt: JwtOptions;
  config?: AccountConfig;
}): { accounts: AccountService; tokens?: SessionTokens; throttle: LoginThrottle } {
  const config = input.config ?? DEFAULT_ACCOUNT_CONFIG;
  const { hsSecret, issuer, audience } = input.jwt;
  return {
    accounts: new AccountService(input.db, {
      refreshTtlSeconds: config.refreshTtlSeconds,
      sessionTtlSeconds: config.sessionTtlSeconds,
      run: (work) => input.breakers.database(work),
    }),
    ...(hsSecret
      ? {
          tokens: new SessionTokens(hsSecret, {
            accessTtlSeconds: config.accessTtlSeconds,
            ...(issuer ? { issuer } : {}),
            ...(audience ? { audience } : {}),
          }),
        }
      : {}),
    throttle: new LoginThrottle(input.redis, {
      userFreeFailures: config.loginFreeFailures,
      ipFreeFailures: config.loginIpFreeFailures,
      delayMs: config.loginDelayMs,
      maxDelayMs: config.loginMaxDelayMs,
      windowMs: config.loginFailureWindowSeconds * 1000,
    }),
  };
}
