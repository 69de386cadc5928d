import type { RequestLimits } from './plugins/limits.ts';
import type { Principal, Role } from './roles.ts';

/**
 * What imgpipe's plugins add to fastify's types: the route options a route group may declare (read by the
 * cross-cutting plugins in src/plugins/), and the decorations those plugins make.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role the route needs (plugins/auth.ts); absent for public and operations routes. */
    auth?: Role;
    /** Public routes are rate-limited per client IP (plugins/limits.ts); operations routes are not limited. */
    ipRateLimited?: boolean;
    /** The body is an image: a body over the limit is IMAGE_TOO_LARGE rather than REQUEST_TOO_LARGE. */
    imageBody?: boolean;
    /** The request body as the OpenAPI document shows it, when it differs from the validated (JSON) schema. */
    openapiBody?: unknown;
    /** Responses as the OpenAPI document shows them, replacing those of the route schema (an event stream's events). */
    openapiResponses?: Record<number, unknown>;
  }
  interface FastifyInstance {
    /** Every route registered, in order (method, URL, hidden from the OpenAPI document); plugins/openapi.ts. */
    registeredRoutes: readonly { method: string; url: string; hidden: boolean }[];
    /** The per-tenant and per-IP request limits (plugins/limits.ts). */
    limits: RequestLimits;
  }
  interface FastifyRequest {
    /** The caller of a route that declares `config.auth` (plugins/auth.ts). */
    principal?: Principal;
  }
}

/** The authenticated caller of a route that declares `config.auth`. */
export function principalOf(request: { principal?: Principal }): Principal {
  if (!request.principal) throw new Error('route without config.auth asked for the principal');
  return request.principal;
}
