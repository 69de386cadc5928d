import { ImgpipeError } from '@imgpipe/core';
import { highestRole, isRole, type Principal, TENANT_PATTERN } from '../roles.ts';

/** How long tokens may live and how far clocks may disagree, in seconds. */
export interface TokenTimePolicy {
  /** Longest accepted lifetime: exp - iat, or exp - now for a token without iat. */
  maxLifetimeSeconds: number;
  /** Allowed difference between the issuer's clock and ours, for exp, nbf and iat. */
  clockSkewSeconds: number;
}

export const DEFAULT_TOKEN_TIME_POLICY: TokenTimePolicy = { maxLifetimeSeconds: 24 * 3600, clockSkewSeconds: 30 };

/**
 * The time rules the JWT library does not apply: a token must not claim to be issued in the future (iat beyond the
 * clock skew), and must not live longer than the maximum lifetime. The library has already checked the signature,
 * that `exp` is present and not past, and `nbf`, each with the same skew. `now` is in seconds.
 */
export function checkTokenTimes(claims: Record<string, unknown>, now: number, policy: TokenTimePolicy): void {
  const { exp, iat } = claims;
  if (typeof exp !== 'number')
    throw new ImgpipeError('AUTH_INVALID', 'the token has no `exp` claim: tokens must expire');
  if (iat !== undefined && typeof iat !== 'number') {
    throw new ImgpipeError('AUTH_INVALID', "the token's `iat` claim is not a number");
  }
  if (iat !== undefined && iat > now + policy.clockSkewSeconds) {
    throw new ImgpipeError('AUTH_INVALID', `the token was issued in the future (iat ${iat - now} s from now)`);
  }
  const lifetime = exp - (iat ?? now);
  const allowed = policy.maxLifetimeSeconds + (iat === undefined ? policy.clockSkewSeconds : 0);
  if (lifetime > allowed) {
    throw new ImgpipeError(
      'AUTH_INVALID',
      `the token lives ${lifetime} s (exp - ${iat === undefined ? 'now' : 'iat'}), longer than the ${policy.maxLifetimeSeconds} s allowed`,
    );
  }
}

/** The caller named by a verified token's claims: `tenant`, and the highest known role in `roles` (or `role`). */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const tenant = claims['tenant'];
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
    throw new ImgpipeError('AUTH_INVALID', 'the token has no valid `tenant` claim');
  }
  const rolesClaim = claims['roles'];
  const roles = Array.isArray(rolesClaim) ? rolesClaim : isRole(claims['role']) ? [claims['role']] : [];
  const role = highestRole(roles);
  if (!role) throw new ImgpipeError('AUTH_FORBIDDEN', 'the token carries none of the roles viewer, uploader, admin');
  return {
    tenantId: tenant,
    role,
    subject: typeof claims['sub'] === 'string' ? claims['sub'] : 'unknown',
    via: 'jwt',
  };
}
