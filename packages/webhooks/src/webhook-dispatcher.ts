import type { ImageStatus, ImageUploaded } from '@imgpipe/contracts';
import { CircuitBreakerGroup, ImgpipeError } from '@imgpipe/core';
import { type Database, getImage } from '@imgpipe/results';
import { guardedFetch, type SsrfGuard } from '@imgpipe/egress';
import type { Kysely } from 'kysely';
import { webhookHeaders } from './signature.ts';
import { withWebhookTables } from './tables.ts';
import { WebhookStore } from './webhook-store.ts';

export interface WebhookDispatcherOptions {
  db: Kysely<Database>;
  guard: SsrfGuard;
  /** How often the queue is polled for due deliveries (a new enqueue also wakes it). Default 1 s. */
  pollIntervalMs?: number;
  /** Delay before the second attempt; doubles each attempt up to maxDelayMs. Default 5 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts before a delivery is given up (status failed). Default 8. */
  maxAttempts?: number;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Deliveries sent at once. Default 8. */
  batchSize?: number;
  /**
   * Circuit breaker per receiver (host:port): after this many failed attempts in a row (no connection, no answer in
   * time, a 5xx) its deliveries fail at once, without a request, until a probe is let through. Default 5.
   */
  breakerFailures?: number;
  /** How long a receiver's open circuit refuses deliveries before one probe goes through. Default 30 s. */
  breakerOpenMs?: number;
  onError?: (error: unknown) => void;
  onDelivery?: (outcome: { id: string; imageId: string; ok: boolean; attempt: number; statusCode?: number }) => void;
}

const TERMINAL: ReadonlySet<ImageStatus> = new Set(['completed', 'partial', 'failed']);

/** The body every receiver gets: the event type, when, and the image's result as GET /v1/images/:id returns it. */
export interface WebhookPayload {
  type: `image.${'completed' | 'partial' | 'failed'}`;
  timestamp: string;
  data: Awaited<ReturnType<typeof getImage>> & object;
}

interface StageLike {
  handle(message: { eventType: string; value: unknown }, ...rest: never[]): Promise<unknown>;
  handleBatch?(
    items: readonly { message: { eventType: string; value: unknown } }[],
    ...rest: never[]
  ): Promise<{ rejected?: readonly { item: number }[] }>;
}

/**
 * Webhooks on completion. The results service calls `onChange` after each materialised change; when an image reaches
 * a terminal status, a delivery is queued in PostgreSQL (once per image and event) and sent in the background,
 * signed, through the SSRF guard, retried with exponential backoff. Several replicas share the queue safely.
 * A receiver that keeps failing has its circuit opened: its deliveries then fail at once (an attempt that waits at
 * least until the circuit's next probe) instead of each holding a connection open until its time limit.
 */
export class WebhookDispatcher {
  readonly store: WebhookStore;
  readonly #db: Kysely<Database>;
  readonly #guard: SsrfGuard;
  readonly #options: Required<
    Omit<WebhookDispatcherOptions, 'db' | 'guard' | 'onError' | 'onDelivery' | 'breakerFailures' | 'breakerOpenMs'>
  >;
  /** One circuit per receiver host; `breakers.counts()` and `breakers.unhealthy()` for metrics and readiness. */
  readonly breakers: CircuitBreakerGroup;
  readonly #onError: (error: unknown) => void;
  readonly #onDelivery: WebhookDispatcherOptions['onDelivery'];
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(options: WebhookDispatcherOptions) {
    this.#db = options.db;
    this.store = new WebhookStore(withWebhookTables(options.db));
    this.#guard = options.guard;
    this.#options = {
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      initialDelayMs: options.initialDelayMs ?? 5_000,
      maxDelayMs: options.maxDelayMs ?? 60 * 60_000,
      maxAttempts: options.maxAttempts ?? 8,
      timeoutMs: options.timeoutMs ?? 10_000,
      batchSize: options.batchSize ?? 8,
    };
    this.breakers = new CircuitBreakerGroup('webhooks', {
      failureThreshold: options.breakerFailures ?? 5,
      openMs: options.breakerOpenMs ?? 30_000,
      maxKeys: 1000,
      openError: (breaker) =>
        new ImgpipeError(
          'WEBHOOK_DELIVERY_FAILED',
          `the receiver failed ${breaker.consecutiveFailures} times in a row; its circuit is open for ${Math.ceil(breaker.retryAfterMs() / 1000)} s more`,
          { details: { circuit: 'open', retryAfterMs: breaker.retryAfterMs() } },
        ),
    });
    this.#onError = options.onError ?? ((error) => process.emitWarning(`webhooks: ${(error as Error).message}`));
    this.#onDelivery = options.onDelivery;
  }

  /** After a results write: queue the completion webhook when the image has just reached a terminal status. */
  async onChange(change: { tenantId: string; imageId: string; status: ImageStatus }): Promise<void> {
    if (!TERMINAL.has(change.status)) return;
    await this.enqueueCompletion(change.tenantId, change.imageId);
  }

  /** Remembers an upload's callback URL; if the image already finished (events can overtake), queues it now. */
  async onUpload(event: Pick<ImageUploaded, 'tenantId' | 'imageId' | 'callbackUrl'>): Promise<void> {
    if (!event.callbackUrl) return;
    await this.store.recordImageCallback(event.tenantId, event.imageId, event.callbackUrl);
    await this.enqueueCompletion(event.tenantId, event.imageId);
  }

  /** Wraps the results stage so every ImageUploaded it materialises (one by one or in batches) also records its callback URL. */
  observe<S extends StageLike>(stage: S): S {
    const handle = stage.handle.bind(stage);
    const observed = async (message: { eventType: string; value: unknown }, ...rest: never[]) => {
      const outputs = await handle(message, ...rest);
      if (message.eventType === 'ImageUploaded') await this.onUpload(message.value as ImageUploaded);
      return outputs;
    };
    const handleBatch = stage.handleBatch?.bind(stage);
    if (!handleBatch) return { ...stage, handle: observed };
    const observedBatch = async (items: Parameters<typeof handleBatch>[0], ...rest: never[]) => {
      const result = await handleBatch(items, ...rest);
      const refused = new Set((result.rejected ?? []).map((entry) => entry.item));
      for (const [index, { message }] of items.entries()) {
        if (!refused.has(index) && message.eventType === 'ImageUploaded')
          await this.onUpload(message.value as ImageUploaded);
      }
      return result;
    };
    return { ...stage, handle: observed, handleBatch: observedBatch };
  }

  async enqueueCompletion(tenantId: string, imageId: string): Promise<boolean> {
    // Most images have no callback: one indexed lookup before reading the whole image.
    const url = await this.store.callbackUrlFor(tenantId, imageId);
    if (!url) return false;
    const view = await getImage(this.#db, tenantId, imageId);
    if (!view || !TERMINAL.has(view.status)) return false;
    const type = `image.${view.status as 'completed' | 'partial' | 'failed'}` as const;
    const payload: WebhookPayload = { type, timestamp: new Date().toISOString(), data: view };
    const queued = await this.store.enqueue({ tenantId, imageId, eventType: type, url, body: JSON.stringify(payload) });
    if (queued) this.wake();
    return queued;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#draining;
  }

  /** Sends whatever is due now (and again if more came due meanwhile). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.drainOnce()
      .then(() => undefined, this.#onError)
      .finally(() => {
        this.#draining = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** One pass over the due deliveries; returns how many were attempted. */
  async drainOnce(): Promise<number> {
    let attempted = 0;
    for (;;) {
      const due = await this.store.claimDue(this.#options.batchSize, this.#options.timeoutMs * 3);
      if (due.length === 0) return attempted;
      attempted += due.length;
      await Promise.all(due.map((delivery) => this.#attempt(delivery)));
    }
  }

  async #attempt(delivery: Awaited<ReturnType<WebhookStore['claimDue']>>[number]): Promise<void> {
    let statusCode: number | undefined;
    let error: string;
    /** While the receiver's circuit is open: when its next probe may go (a refused attempt waits at least that). */
    let circuitRetryMs = 0;
    try {
      const response = await guardedFetch(this.#guard, delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'imgpipe-webhooks',
          ...webhookHeaders({ id: delivery.id, body: delivery.body, secret: delivery.secret }),
        },
        body: delivery.body,
        maxRedirects: 0,
        maxBytes: 64 * 1024,
        timeoutMs: this.#options.timeoutMs,
        breakers: this.breakers,
      });
      statusCode = response.status;
      if (statusCode >= 200 && statusCode < 300) {
        await this.store.markDelivered(delivery.id, statusCode);
        this.#onDelivery?.({
          id: delivery.id,
          imageId: delivery.imageId,
          ok: true,
          attempt: delivery.attempts,
          statusCode,
        });
        return;
      }
      error = `the receiver answered ${statusCode}`;
    } catch (caught) {
      error = caught instanceof ImgpipeError ? `${caught.code}: ${caught.message}` : String(caught);
      const retryAfterMs = caught instanceof ImgpipeError ? caught.details?.['retryAfterMs'] : undefined;
      if (typeof retryAfterMs === 'number') circuitRetryMs = retryAfterMs;
    }
    // A URL the guard refuses will be refused on every attempt: give up at once.
    const permanent = error.startsWith('URL_FORBIDDEN');
    const retryAt =
      permanent || delivery.attempts >= this.#options.maxAttempts
        ? undefined
        : new Date(Date.now() + Math.max(this.backoffMs(delivery.attempts), circuitRetryMs));
    await this.store.markAttemptFailed(delivery.id, {
      ...(statusCode ? { statusCode } : {}),
      error,
      ...(retryAt ? { retryAt } : {}),
    });
    this.#onDelivery?.({
      id: delivery.id,
      imageId: delivery.imageId,
      ok: false,
      attempt: delivery.attempts,
      ...(statusCode ? { statusCode } : {}),
    });
  }

  /** Exponential backoff with jitter: about initialDelay * 2^(attempt-1), never above maxDelay. */
  backoffMs(attempt: number): number {
    const base = Math.min(this.#options.maxDelayMs, this.#options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
