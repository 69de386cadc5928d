import fastifyJwt from '@fastify/jwt';
import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import buildGetJwks from 'get-jwks';
import type { Principal } from '../roles.ts';
import { type ApiKeyStore, looksLikeApiKey } from './api-keys.ts';
import { checkTokenTimes, DEFAULT_TOKEN_TIME_POLICY, principalFromClaims } from './token-claims.ts';

export interface JwtOptions {
  /** HS256 shared secret; HS256 tokens are refused without it. */
  hsSecret?: string;
  /** JWKS URL of an identity provider; RS256 tokens are refused without it. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Longest accepted token lifetime (exp - iat, or exp - now without iat). Default 24 h. */
  maxLifetimeSeconds?: number;
  /** Clock difference tolerated for exp, nbf and iat. Default 30 s. */
  clockSkewSeconds?: number;
}

interface TokenHeader {
  alg?: string;
  kid?: string;
}

/**
 * Who is calling: a JWT (HS256 with the configured secret, or RS256 with a key from the JWKS) carrying `tenant` and
 * `roles`, or an API key (`X-API-Key: ipk_...` or `Authorization: Bearer ipk_...`). Every refusal is AUTH_MISSING or
 * AUTH_INVALID with the reason; the algorithm list is pinned, so `alg: none` and algorithm confusion are refused.
 * Tokens must carry `exp`, live at most the maximum lifetime, and `nbf`, `exp` and `iat` are checked with a small
 * clock skew.
 */
export async function registerAuthenticator(
  app: FastifyInstance,
  options: { jwt: JwtOptions; keys: ApiKeyStore },
): Promise<(request: FastifyRequest) => Promise<Principal>> {
  const { hsSecret, jwksUrl } = options.jwt;
  const algorithms = [...(hsSecret ? ['HS256' as const] : []), ...(jwksUrl ? ['RS256' as const] : [])];
  if (algorithms.length === 0) {
    throw new ImgpipeError('CONFIG_INVALID', 'no way to verify tokens: set IMGPIPE_JWT_SECRET or IMGPIPE_JWKS_URL');
  }
  const times = {
    maxLifetimeSeconds: options.jwt.maxLifetimeSeconds ?? DEFAULT_TOKEN_TIME_POLICY.maxLifetimeSeconds,
    clockSkewSeconds: options.jwt.clockSkewSeconds ?? DEFAULT_TOKEN_TIME_POLICY.clockSkewSeconds,
  };
  const jwks = jwksUrl ? jwksSource(jwksUrl) : undefined;
  await app.register(fastifyJwt, {
    secret: async (_request: FastifyRequest, token: TokenHeader | { header: TokenHeader }) => {
      const header = 'header' in token ? token.header : token;
      if (header.alg === 'HS256' && hsSecret) return hsSecret;
      if (header.alg === 'RS256' && jwks) {
        return jwks.keys.getPublicKey({
          domain: jwks.domain,
          alg: 'RS256',
          ...(header.kid ? { kid: header.kid } : {}),
        });
      }
      throw new ImgpipeError('AUTH_INVALID', `tokens signed with ${header.alg ?? 'no algorithm'} are not accepted`);
    },
    // The key function needs the header (alg, kid), not just the payload.
    decode: { complete: true },
    verify: {
      algorithms,
      // fast-jwt checks that exp is present and not past, and nbf, both with the skew (in milliseconds). Without
      // requiredClaims it would let a token that simply leaves out iss or aud through the allowedIss/allowedAud check.
      requiredClaims: ['exp', ...(options.jwt.issuer ? ['iss'] : []), ...(options.jwt.audience ? ['aud'] : [])],
      clockTolerance: times.clockSkewSeconds * 1000,
      ...(options.jwt.issuer ? { allowedIss: options.jwt.issuer } : {}),
      ...(options.jwt.audience ? { allowedAud: options.jwt.audience } : {}),
    },
  });

  return async (request) => {
    const apiKey = apiKeyOf(request);
    if (apiKey !== undefined) {
      const key = await options.keys.verify(apiKey);
      return { tenantId: key.tenantId, role: key.role, subject: `apikey:${key.id}`, via: 'api-key' };
    }
    if (!request.headers.authorization) {
      throw new ImgpipeError('AUTH_MISSING', 'send a bearer token (Authorization: Bearer <jwt>) or an API key');
    }
    let claims: Record<string, unknown>;
    try {
      claims = await request.jwtVerify<Record<string, unknown>>();
    } catch (error) {
      throw tokenError(error);
    }
    checkTokenTimes(claims, Math.floor(Date.now() / 1000), times);
    return principalFromClaims(claims);
  };
}

function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = request.headers.authorization;
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer !== undefined && looksLikeApiKey(bearer) ? bearer : undefined;
}

function jwksSource(url: string) {
  const parsed = new URL(url);
  return {
    domain: `${parsed.origin}/`,
    keys: buildGetJwks({ jwksPath: `${parsed.pathname.slice(1)}${parsed.search}`, ttl: 10 * 60_000, max: 100 }),
  };
}

/** The JWT library's refusals as AUTH_MISSING / AUTH_INVALID with a reason a client can act on. */
export function tokenError(error: unknown): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const { code, message = 'invalid token' } = error as { code?: string; message?: string };
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') {
    return new ImgpipeError('AUTH_MISSING', 'send a bearer token (Authorization: Bearer <jwt>) or an API key');
  }
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') return new ImgpipeError('AUTH_INVALID', 'the token has expired');
  if (/The exp claim is required/.test(message)) {
    return new ImgpipeError('AUTH_INVALID', 'the token has no `exp` claim: tokens must expire', { cause: error });
  }
  const missing = /The (iss|aud) claim is required/.exec(message)?.[1];
  if (missing) return new ImgpipeError('AUTH_INVALID', `the token has no \`${missing}\` claim`, { cause: error });
  if (code === 'FAST_JWT_INACTIVE') {
    return new ImgpipeError('AUTH_INVALID', `the token is not valid yet (nbf): ${message}`, { cause: error });
  }
  const reason = message.replace(/^Authorization token (is )?/i, '');
  return new ImgpipeError('AUTH_INVALID', `the token was refused: ${reason}`, { cause: error });
}
