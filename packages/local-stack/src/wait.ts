import { setTimeout as delay } from 'node:timers/promises';

export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/**
 * Polls `condition` until it returns true or the deadline passes. A condition that throws counts as "not yet";
 * the last error is kept for the deadline message. `abort` ends the wait early (a process that died).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what?: string; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    const aborted = options.abort?.();
    if (aborted !== undefined) throw new DeadlineError(aborted);
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new DeadlineError(`${options.what ?? 'condition'} not met within ${options.timeoutMs / 1000} s${reason}`);
    }
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}
