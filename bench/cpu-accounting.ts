/**
 * Where a benchmark's CPU time went, from /proc: the whole machine's busy time, one process's, and every other
 * process's by what it is (the stack's services, the benchmark itself). Benchmarks take a snapshot before and after
 * a run and divide the difference by the work done; CPU time, unlike wall time, is not inflated by waiting for a core.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** User and system CPU time of a process (all its threads) so far. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU time every core spent busy so far (not idle or waiting for I/O), from /proc/stat. */
export function machineCpuMs(): number {
  const [, ...jiffies] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = jiffies.map(Number);
  return ((user! + nice! + system! + irq! + softirq!) * 1000) / CLOCK_TICKS;
}

/** CPU time so far of every process on the machine but `except`, by what it is (this benchmark, Kafka, ...). */
export function processesCpuMs(except: readonly number[] = []): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || except.includes(pid)) continue;
    try {
      const name = pid === process.pid ? 'this benchmark' : kindOf(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      totals.set(name, (totals.get(name) ?? 0) + processCpuMs(pid));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return totals;
}

/** after - before per kind, divided by `per` (images, uploads), largest first. */
export function perUnit(before: Map<string, number>, after: Map<string, number>, per: number): [string, number][] {
  return [...after]
    .map(([name, ms]): [string, number] => [name, (ms - (before.get(name) ?? 0)) / per])
    .sort((a, b) => b[1] - a[1]);
}

function kindOf(commandLine: string): string {
  const kinds: [RegExp, string][] = [
    [/kafka\.Kafka|kafka-server/, 'Kafka'],
    [/s3proxy/, 'S3Proxy'],
    [/quarkus|apicurio|schema-registry/i, 'schema registry'],
    [/pgbouncer/, 'PgBouncer'],
    [/postgres/, 'PostgreSQL'],
    [/redis-server/, 'Redis'],
  ];
  return kinds.find(([pattern]) => pattern.test(commandLine))?.[1] ?? 'other';
}
