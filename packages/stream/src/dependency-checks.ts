/** Probes one dependency: resolves when it answers, throws (or never settles in time) when it does not. */
export type DependencyCheck = () => Promise<unknown>;

export interface DependencyCheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/**
 * Runs every check at once, each bounded by `timeoutMs` (a frozen dependency answers nothing: that is down too).
 * Readiness reports the result; liveness never depends on it, so an outage does not get processes restarted.
 */
export async function runDependencyChecks(
  checks: Readonly<Record<string, DependencyCheck>>,
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<{ ok: boolean; checks: Record<string, DependencyCheckResult> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyCheckResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([Promise.resolve().then(check), timeout]);
        return [name, { ok: true, ms: Math.round(performance.now() - started) }];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [name, { ok: false, ms: Math.round(performance.now() - started), error: message }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok: entries.every(([, result]) => result.ok), checks: Object.fromEntries(entries) };
}

/** The schema registry answers (any status below 500: reachable, whatever it thinks of the request). */
export function schemaRegistryCheck(registryUrl: string, timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): DependencyCheck {
  return async () => {
    const response = await fetch(`${registryUrl.replace(/\/+$/, '')}/subjects`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
  };
}
