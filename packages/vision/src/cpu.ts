import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { type ConfigEnv, ImgpipeError, loadConfig, optionalStr } from '@imgpipe/core';

/**
 * The CPUs this process may use, possibly fractional: IMGPIPE_CPUS when set (for processes that share a host with
 * no cgroup limit of their own, e.g. six stage processes on one machine: give each its part), else the smaller of
 * the scheduler's view (affinity) and the container's CFS quota, which Kubernetes sets from
 * `resources.limits.cpu` and which os.availableParallelism() does not see.
 */
export function cpuShare(env?: ConfigEnv): number {
  const parallelism = availableParallelism();
  const given = loadConfig({ cpus: optionalStr('IMGPIPE_CPUS') }, env).cpus;
  if (given !== undefined && given.trim() !== '') {
    const cpus = Number(given);
    if (!Number.isFinite(cpus) || cpus <= 0) {
      throw new ImgpipeError('CONFIG_INVALID', `IMGPIPE_CPUS must be a positive number of CPUs, not "${given}"`);
    }
    return Math.min(parallelism, cpus);
  }
  const quota = cgroupCpuLimit();
  return quota === undefined ? parallelism : Math.min(parallelism, quota);
}

/** Whole CPUs this process may use (at least 1): the default number of vision worker threads. */
export function availableCpus(env?: ConfigEnv): number {
  return Math.max(1, Math.ceil(cpuShare(env) - 1e-9));
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
