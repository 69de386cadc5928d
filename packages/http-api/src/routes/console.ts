import helmet from '@fastify/helmet';
import { buildConsole, type ConsoleAsset, type ConsoleBundle } from '@imgpipe/console';
import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsoleRoutesOptions {
  /** Builds the bundle (default: @imgpipe/console's esbuild build, once, on the first request). */
  load?: () => Promise<ConsoleBundle>;
}

/**
 * The Content-Security-Policy of the console's pages: scripts and styles from this origin only (no inline script,
 * no inline style, no eval), images from this origin or blob: URLs (pictures fetched with the bearer token), calls
 * to this origin only, no plugins, no framing, no <base>, forms only to this origin.
 */
export const CONSOLE_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'blob:', 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
} as const;

/**
 * The web console (packages/console) under /console: index.html for /console/ and every path below it that is not an
 * asset (the single-page app routes itself), its script and stylesheet under /console/assets/. Encapsulated, so the
 * security headers of @fastify/helmet (the CSP above, nosniff, frame denial, no referrer, cross-origin isolation of
 * resources) apply to these routes only and the JSON API and the Swagger UI keep theirs. Public (the page signs in
 * with /v1/auth), limited per client IP, left out of the OpenAPI document.
 */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): Promise<void> {
  const load = options.load ?? buildConsole;
  let bundle: Promise<ConsoleBundle> | undefined;
  const current = () => {
    bundle ??= load().catch((error: unknown) => {
      bundle = undefined;
      throw error;
    });
    return bundle;
  };
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HTTP Strict Transport Security belongs to the TLS terminator in front of the API, not to a loopback dev server.
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  });

  const send = (request: FastifyRequest, reply: FastifyReply, file: ConsoleAsset) => {
    reply.header('etag', file.etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.contentType).send(file.body);
  };
  const page = async (request: FastifyRequest, reply: FastifyReply) => send(request, reply, (await current()).index);
  const routeOptions = { config: { ipRateLimited: true }, schema: { hide: true } } as const;

  app.get('/console', routeOptions, async (_request, reply) => reply.redirect('/console/', 308));
  app.get('/console/', routeOptions, page);
  app.get('/console/*', routeOptions, page);
  app.get('/console/assets/:file', routeOptions, async (request, reply) => {
    const { file } = request.params as { file: string };
    const found = (await current()).assets.get(file);
    if (!found) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no console asset ${file}`);
    return send(request, reply, found);
  });
}
