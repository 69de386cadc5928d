export type Check = () => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  error?: string;
  ms: number;
}

export interface ReadinessReport {
  /** Every required dependency answers. */
  ready: boolean;
  /** Ready, but an optional dependency does not answer: the API serves with less (no cache, rate limits by policy). */
  degraded: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Runs every dependency check at once, each with a time limit. Ready when every check not named in `optional`
 * passes; a failing optional one (Redis: reads fall back to PostgreSQL) only makes the report degraded.
 */
export async function checkReadiness(
  checks: Record<string, Check>,
  options: { timeoutMs?: number; optional?: readonly string[] } = {},
): Promise<ReadinessReport> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const optional = new Set(options.optional ?? []);
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { ok: true, ms: Math.round(performance.now() - started) }];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [name, { ok: false, error: message, ms: Math.round(performance.now() - started) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = entries.filter(([, result]) => !result.ok).map(([name]) => name);
  const ready = failed.every((name) => optional.has(name));
  return { ready, degraded: ready && failed.length > 0, checks: Object.fromEntries(entries) };
}
