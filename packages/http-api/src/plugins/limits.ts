import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { type BucketPolicy, type RateDecision, RateLimiter, rateLimitHeaders } from '../rate-limiter.ts';

export interface LimitsOptions {
  /** Where the token buckets live, shared by every API replica. */
  redis: Redis;
  /** Per tenant, for authenticated routes. */
  tenant: BucketPolicy;
  /** Per client IP, for public routes (`config.ipRateLimited`) and failed authentication. */
  ip: BucketPolicy;
  /** Redis calls go through `breakers.redis`. */
  breakers: DependencyBreakers;
  /** With Redis unreachable: let requests through unlimited (open) or refuse them with 503 (closed). */
  onRedisDown: 'open' | 'closed';
}

/** The request limits, as `app.limits` for the plugins that spend them (auth, the OpenAPI UI). */
export interface RequestLimits {
  /** Spends a token of the client IP, with RateLimit headers; 429 when none is left. */
  byIp(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Spends a token of the client IP after a failed authentication; 429 (with headers) only when none is left. */
  afterFailedAuth(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Spends a token of the tenant, with RateLimit headers; 429 when none is left. */
  byTenant(tenantId: string, reply: FastifyReply): Promise<void>;
}

/**
 * Per-tenant and per-IP token buckets (packages/http-api/src/rate-limiter.ts) with the IETF RateLimit headers.
 * Public routes that declare `config.ipRateLimited` are limited here; authenticated routes by the auth plugin, which
 * spends `app.limits`. The buckets live in Redis behind its circuit breaker: when Redis cannot be reached, requests
 * go through unlimited (`onRedisDown: 'open'`, without RateLimit headers) or are refused with 503 CACHE_UNAVAILABLE
 * and Retry-After (`'closed'`). Not encapsulated: the hook and the decorator serve every route group after it.
 */
async function limits(app: FastifyInstance, options: LimitsOptions): Promise<void> {
  const limiter = new RateLimiter(options.redis);
  /** The bucket's decision, or undefined when Redis is down and the policy lets the request through. */
  const take = async (
    key: string,
    policy: BucketPolicy,
    request: FastifyRequest,
  ): Promise<RateDecision | undefined> => {
    try {
      return await options.breakers.cache(() => limiter.take(key, policy));
    } catch (error) {
      if (options.onRedisDown === 'closed' || !(error instanceof ImgpipeError)) throw error;
      request.log.warn({ code: error.code, detail: error.message }, 'rate limit not applied: Redis unavailable');
      return undefined;
    }
  };
  const requestLimits: RequestLimits = {
    async byIp(request, reply) {
      const decision = await take(`ip:${request.ip}`, options.ip, request);
      if (!decision) return;
      reply.headers(rateLimitHeaders(decision));
      if (!decision.allowed) throw new ImgpipeError('REQUEST_RATE_LIMITED', `too many requests from ${request.ip}`);
    },
    async afterFailedAuth(request, reply) {
      // Failed authentication spends the client IP's allowance, which throttles key and token guessing.
      const decision = await take(`ip:${request.ip}`, options.ip, request);
      if (decision && !decision.allowed) {
        reply.headers(rateLimitHeaders(decision));
        throw new ImgpipeError('REQUEST_RATE_LIMITED', `too many failed requests from ${request.ip}`);
      }
    },
    async byTenant(tenantId, reply) {
      const decision = await take(`tenant:${tenantId}`, options.tenant, reply.request);
      if (!decision) return;
      reply.headers(rateLimitHeaders(decision));
      if (!decision.allowed) {
        throw new ImgpipeError('REQUEST_RATE_LIMITED', `tenant ${tenantId} is over its request rate`);
      }
    },
  };
  app.decorate('limits', requestLimits);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.ipRateLimited && !config.auth) await requestLimits.byIp(request, reply);
  });
}

export const limitsPlugin = fp(limits, { name: 'imgpipe-limits', fastify: '5.x' });
