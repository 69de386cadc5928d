/**
 * kafkajs 2.2.4 polls each broker connection's request queue once a millisecond, forever, from the first time a
 * request had to wait in it (tulios/kafkajs#1556 and #1704; the fix proposed in #1667 is not merged):
 * `checkPendingRequests` always ends by calling `scheduleCheckPendingRequests`, which arms a timer for
 * `throttledUntil - Date.now()`. With no throttle `throttledUntil` is -1, the delay is negative, Node runs it after
 * 1 ms (from Node 24 with a TimeoutNegativeWarning), and the timer re-arms itself. An idle imgpipe process spent about
 * 5 % of a core in that loop (1,660 event-loop wake-ups a second, strace), eight of them 40 % of a two-core machine.
 *
 * The queue needs a timer only while requests wait in it: until the broker's throttle ends, or kafkajs's own 10 ms
 * when the wait is for a free in-flight slot (a fulfilled request checks the queue too). A request pushed later arms
 * it again. So: the same method, without the timer when nothing waits.
 */
import { createRequire } from 'node:module';

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
export const PENDING_CHECK_INTERVAL_MS = 10;

/** The replacement for RequestQueue.prototype.scheduleCheckPendingRequests (exported for its test). */
export function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : PENDING_CHECK_INTERVAL_MS,
  );
}

let mended = false;

/** Installs the replacement in the kafkajs every package here loads (one copy, hoisted); idempotent. */
export function mendKafkajsRequestQueue(): void {
  if (mended) return;
  mended = true;
  const load = createRequire(import.meta.url);
  const queue = load('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue };
  queue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
