import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

/**
 * CPUs this process may really use: the smaller of the scheduler's view (affinity) and the container's CFS quota,
 * which Kubernetes sets from `resources.limits.cpu` and which os.availableParallelism() does not see.
 */
export function availableCpus(): number {
  const quota = cgroupCpuLimit();
  const parallelism = availableParallelism();
  return Math.max(1, quota === undefined ? parallelism : Math.min(parallelism, Math.ceil(quota)));
}

/** The CFS quota in CPUs (cgroup v2 cpu.max, else v1 cfs_quota/cfs_period), or undefined when unlimited. */
export function cgroupCpuLimit(): number | undefined {
  const v2 = readText('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    return quotaToCpus(quota, period);
  }
  return quotaToCpus(readText('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), readText('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
}

function quotaToCpus(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined) return undefined;
  const q = Number(quota.trim());
  const p = Number(period.trim());
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
