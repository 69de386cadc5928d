import { type ConfigOf, int } from '@imgpipe/core';

/** Sessions of users who sign in with a password (POST /v1/auth/login), and how failed sign-ins are slowed down. */
export const accountSettings = {
  accessTtlSeconds: int('IMGPIPE_AUTH_ACCESS_TTL_SECONDS', {
    default: 15 * 60,
    min: 60,
    max: 3600,
    description: 'lifetime of the access JWT a sign-in or refresh returns',
  }),
  refreshTtlSeconds: int('IMGPIPE_AUTH_REFRESH_TTL_SECONDS', {
    default: 7 * 24 * 3600,
    min: 60,
    description: 'a refresh token not used within this time expires (each refresh issues a new one)',
  }),
  sessionTtlSeconds: int('IMGPIPE_AUTH_SESSION_TTL_SECONDS', {
    default: 30 * 24 * 3600,
    min: 60,
    description: 'absolute lifetime of a sign-in session: no refresh extends it past this',
  }),
  loginFreeFailures: int('IMGPIPE_AUTH_LOGIN_FREE_FAILURES', {
    default: 5,
    min: 1,
    description: 'failed sign-ins of one username before each further failure imposes a growing delay',
  }),
  loginIpFreeFailures: int('IMGPIPE_AUTH_LOGIN_IP_FREE_FAILURES', {
    default: 20,
    min: 1,
    description: 'failed sign-ins from one client IP before each further failure imposes a growing delay',
  }),
  loginDelayMs: int('IMGPIPE_AUTH_LOGIN_DELAY_MS', {
    default: 1000,
    min: 1,
    description: 'first delay after the free failures; it doubles with each further failure',
  }),
  loginMaxDelayMs: int('IMGPIPE_AUTH_LOGIN_MAX_DELAY_MS', {
    default: 15 * 60_000,
    min: 1,
    description: 'longest delay between sign-in attempts',
  }),
  loginFailureWindowSeconds: int('IMGPIPE_AUTH_LOGIN_FAILURE_WINDOW_SECONDS', {
    default: 3600,
    min: 1,
    description: "failed sign-ins are forgotten this long after the last one (a success forgets the username's)",
  }),
};

export type AccountConfig = ConfigOf<typeof accountSettings>;
