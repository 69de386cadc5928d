import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type CircuitBreaker, type CircuitBreakerGroup, ImgpipeError } from '@imgpipe/core';
import { hostOf, type SsrfGuard } from './ssrf-guard.ts';

export interface GuardedFetchOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Largest response body accepted; more is IMAGE_TOO_LARGE (the caller may map it). Default 20 MiB. */
  maxBytes?: number;
  /** For the whole exchange, redirects included. Default 10 s. */
  timeoutMs?: number;
  /** Redirects followed, each target checked again. 0 treats a redirect as the answer. Default 3. */
  maxRedirects?: number;
  /**
   * Circuit breakers by host (`host:port`): a host whose requests failed (no connection, no answer in time, a 5xx
   * status) too often in a row is not asked again until its circuit lets a probe through; meanwhile the request
   * fails at once with the group's open error. Refusals by the guard and oversized bodies do not count.
   */
  breakers?: CircuitBreakerGroup;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * An HTTP(S) request on a caller's behalf behind the SSRF guard: every hop's URL is checked before it is requested,
 * the socket's DNS lookup is checked again, and the body and time are capped. Never sends cookies or credentials
 * from one hop to the next.
 */
export async function guardedFetch(
  guard: SsrfGuard,
  rawUrl: string,
  options: GuardedFetchOptions = {},
): Promise<GuardedResponse> {
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 3;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  let url = guard.parse(rawUrl);
  let method = options.method ?? 'GET';
  let body = options.body;
  for (let hop = 0; ; hop++) {
    await guard.check(url);
    const breaker = options.breakers?.for(url.host);
    breaker?.acquire();
    let response: IncomingMessage;
    try {
      response = await send(guard, url, { method, headers: options.headers ?? {}, body, signal });
    } catch (error) {
      settle(breaker, error);
      throw error;
    }
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location !== undefined && maxRedirects > 0) {
      response.resume();
      breaker?.success();
      if (hop >= maxRedirects) {
        throw new ImgpipeError('URL_FETCH_FAILED', `more than ${maxRedirects} redirects`);
      }
      url = guard.parse(new URL(location, url).toString());
      if (response.statusCode === 303 || ((response.statusCode ?? 0) <= 302 && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    let responseBody: Buffer;
    try {
      responseBody = await readCapped(response, maxBytes, signal);
    } catch (error) {
      settle(breaker, error);
      throw error;
    }
    if ((response.statusCode ?? 0) >= 500) breaker?.failure();
    else breaker?.success();
    return { status: response.statusCode ?? 0, headers: response.headers, body: responseBody, url: url.toString() };
  }
}

/** A request that failed: the host's fault (no connection, no answer in time) or not (a refusal, a size cap). */
function settle(breaker: CircuitBreaker | undefined, error: unknown): void {
  if (!breaker) return;
  if (error instanceof ImgpipeError && error.code !== 'URL_FETCH_FAILED') breaker.success();
  else breaker.failure();
}

function send(
  guard: SsrfGuard,
  url: URL,
  init: { method: string; headers: Record<string, string>; body: string | Buffer | undefined; signal: AbortSignal },
): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: init.method,
        headers: {
          'user-agent': 'imgpipe',
          ...init.headers,
          ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }),
        },
        host: hostOf(url),
        lookup: guard.lookupFunction() as never,
        signal: init.signal,
        // One connection per request: a pooled socket would skip the lookup that the guard checks.
        agent: false,
      },
      resolve,
    );
    outgoing.on('error', (error) => reject(fetchError(error, url, init.signal)));
    outgoing.end(init.body);
  });
}

async function readCapped(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new ImgpipeError('IMAGE_TOO_LARGE', `the response declares ${declared} bytes, over the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response) {
      total += (chunk as Buffer).byteLength;
      if (total > maxBytes) {
        response.destroy();
        throw new ImgpipeError('IMAGE_TOO_LARGE', `the response is larger than the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof ImgpipeError) throw error;
    throw fetchError(error, undefined, signal);
  }
  return Buffer.concat(chunks, total);
}

function fetchError(error: unknown, url: URL | undefined, signal: AbortSignal): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof ImgpipeError) return cause;
  if (signal.aborted) return new ImgpipeError('URL_FETCH_FAILED', 'the fetch took longer than its time limit');
  const message = error instanceof Error ? error.message : String(error);
  return new ImgpipeError('URL_FETCH_FAILED', `${url ? `${url.host}: ` : ''}${message}`, { cause: error });
}
