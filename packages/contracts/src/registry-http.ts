/**
 * The few Confluent schema-registry endpoints the codec library does not expose with usable errors: look a schema
 * up under a subject, test compatibility, read the latest version, delete a subject. Errors use imgpipe's codes:
 * an unreachable or failing registry is CODEC_REGISTRY_UNAVAILABLE (retriable).
 */
import { ImgpipeError } from '@imgpipe/core';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** How long any request to the registry may wait for its answer, by default. */
export const REGISTRY_REQUEST_TIMEOUT_MS = 15_000;
/**
 * How many times in all a registry request that timed out is made. A stalled connection (seen with the local
 * registry: a request answered, then nothing more on that connection) recovers on a fresh one, which the timeout's
 * abort forces. Every request imgpipe makes to the registry is safe to repeat: reads, lookups and idempotent writes.
 */
export const REGISTRY_ATTEMPTS = 3;

/** Runs `call` again while it fails with a timeout (`timedOut`), REGISTRY_ATTEMPTS times in all. */
export async function againAfterTimeouts<T>(call: () => Promise<T>, timedOut: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!timedOut(error) || attempt >= REGISTRY_ATTEMPTS) throw error;
    }
  }
}

export interface SubjectVersion {
  subject: string;
  id: number;
  version: number;
  schema: string;
}

export interface CompatibilityAnswer {
  /** undefined when the subject has no version yet. */
  compatible: boolean | undefined;
  messages: string[];
  /** The version it was checked against. */
  latest?: SubjectVersion;
}

interface RegistryReply {
  status: number;
  body: Record<string, unknown>;
}

export class RegistryHttp {
  readonly baseUrl: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, timeoutMs = REGISTRY_REQUEST_TIMEOUT_MS) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }

  /** The registered version of exactly this schema under the subject, or undefined when it is not registered. */
  async lookup(subject: string, schema: string): Promise<SubjectVersion | undefined> {
    const reply = await this.#send('POST', `/subjects/${encodeURIComponent(subject)}`, { schema });
    if (reply.status === 404) return undefined;
    this.#expectOk(reply, `look up a schema under ${subject}`);
    return asSubjectVersion(reply.body, subject);
  }

  async latest(subject: string): Promise<SubjectVersion | undefined> {
    const reply = await this.#send('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (reply.status === 404) return undefined;
    this.#expectOk(reply, `read the latest version of ${subject}`);
    return asSubjectVersion(reply.body, subject);
  }

  /**
   * Is the schema compatible with the subject's latest version, under the subject's compatibility level? A subject
   * without versions answers `compatible: undefined` (Apicurio says true there, Confluent 404: both mean "new").
   */
  async compatibility(subject: string, schema: string): Promise<CompatibilityAnswer> {
    const latest = await this.latest(subject);
    if (!latest) return { compatible: undefined, messages: [] };
    const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
    const reply = await this.#send('POST', path, { schema });
    if (reply.status === 404) return { compatible: undefined, messages: [] };
    if (reply.status === 422) {
      throw new ImgpipeError('SCHEMA_INVALID', `the registry rejected the schema for ${subject}: ${errorText(reply)}`);
    }
    this.#expectOk(reply, `check compatibility of ${subject}`);
    const messages = Array.isArray(reply.body['messages']) ? reply.body['messages'].map(String) : [];
    return { compatible: reply.body['is_compatible'] === true, messages, latest };
  }

  /** The compatibility level that applies to the subject (its own, else the global one). */
  async compatibilityLevel(subject: string): Promise<string> {
    const own = await this.#send('GET', `/config/${encodeURIComponent(subject)}`);
    const reply = own.status === 404 ? await this.#send('GET', '/config') : own;
    this.#expectOk(reply, `read the compatibility level of ${subject}`);
    return String(reply.body['compatibilityLevel'] ?? reply.body['compatibility'] ?? 'unknown');
  }

  /** Deletes a subject for good (soft delete first, as the Confluent API requires). */
  async deleteSubject(subject: string): Promise<void> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    const soft = await this.#send('DELETE', path);
    if (soft.status !== 404) this.#expectOk(soft, `delete ${subject}`);
    const hard = await this.#send('DELETE', `${path}?permanent=true`);
    if (hard.status !== 404) this.#expectOk(hard, `permanently delete ${subject}`);
  }

  async #send(method: string, path: string, body?: unknown): Promise<RegistryReply> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    let text: string;
    try {
      [response, text] = await againAfterTimeouts(async () => {
        const signal = AbortSignal.timeout(this.#timeoutMs);
        const answer = await fetch(url, {
          method,
          headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
          body: body === undefined ? null : JSON.stringify(body),
          signal,
        });
        return [answer, await answer.text()] as const;
      }, isTimeout);
    } catch (error) {
      const tries = isTimeout(error) ? `, ${REGISTRY_ATTEMPTS} times` : '';
      throw new ImgpipeError(
        'CODEC_REGISTRY_UNAVAILABLE',
        `the schema registry at ${this.baseUrl} did not answer ${method} ${path}: ${networkReason(error, this.#timeoutMs)}${tries} (is it running? 'imgpipe stack up' starts the local one)`,
        { cause: error },
      );
    }
    let parsed: unknown = {};
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    const reply = { status: response.status, body: isObject(parsed) ? parsed : { value: parsed } };
    if (reply.status >= 500 || reply.status === 408 || reply.status === 429) {
      throw new ImgpipeError(
        'CODEC_REGISTRY_UNAVAILABLE',
        `the schema registry answered ${method} ${path} with HTTP ${reply.status}: ${errorText(reply)}`,
      );
    }
    return reply;
  }

  #expectOk(reply: RegistryReply, action: string): void {
    if (reply.status >= 200 && reply.status < 300) return;
    if (reply.status === 409) {
      throw new ImgpipeError('SCHEMA_INCOMPATIBLE', `cannot ${action}: ${errorText(reply)}`);
    }
    if (reply.status === 422) throw new ImgpipeError('SCHEMA_INVALID', `cannot ${action}: ${errorText(reply)}`);
    throw new ImgpipeError(
      'CODEC_REGISTRY_UNAVAILABLE',
      `cannot ${action}: the registry answered HTTP ${reply.status}: ${errorText(reply)}`,
    );
  }
}

export function networkReason(error: unknown, timeoutMs = REGISTRY_REQUEST_TIMEOUT_MS): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'TimeoutError';
}

function asSubjectVersion(body: Record<string, unknown>, subject: string): SubjectVersion {
  return {
    subject: typeof body['subject'] === 'string' ? body['subject'] : subject,
    id: Number(body['id']),
    version: Number(body['version']),
    schema: typeof body['schema'] === 'string' ? body['schema'] : '',
  };
}

function errorText(reply: RegistryReply): string {
  const message = reply.body['message'];
  const code = reply.body['error_code'];
  return `${typeof message === 'string' ? message : JSON.stringify(reply.body)}${code === undefined ? '' : ` (${code})`}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
