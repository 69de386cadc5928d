/**
 * Starts the HTTP API process N times and reports how long it takes to answer /healthz, its RSS once ready, and
 * whether onnxruntime-node or the stage runtime were loaded (from the process's own module list).
 *
 *   node scripts/measure-api-startup.ts [runs=5]
 *
 * Needs the local stack (`./imgpipe stack up`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const cli = fileURLToPath(new URL('../apps/cli/bin/imgpipe.js', import.meta.url));
const port = 18_480;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function loadedLibraries(pid: number): string[] {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return [
    ...new Set(
      maps
        .split('\n')
        .filter((l) => l.includes('.so') || l.includes('.node'))
        .map((l) => l.split(/\s+/).pop() ?? ''),
    ),
  ];
}

const figures: { ms: number; rss: number; onnx: boolean; sharp: boolean }[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'run', 'ingest-api'], {
    env: { ...process.env, IMGPIPE_API_PORT: String(port), IMGPIPE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let ms = Number.NaN;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) {
        ms = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await delay(20);
  }
  if (Number.isNaN(ms)) throw new Error('the API did not answer /healthz within 60 s');
  await delay(500);
  const libs = loadedLibraries(child.pid as number);
  figures.push({
    ms,
    rss: rssMiB(child.pid as number),
    onnx: libs.some((l) => l.includes('onnxruntime')),
    sharp: libs.some((l) => l.includes('sharp') || l.includes('vips')),
  });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(
  `API start-up to /healthz: median ${median(figures.map((f) => f.ms)).toFixed(0)} ms over ${runs} runs; ` +
    `RSS when ready: median ${median(figures.map((f) => f.rss)).toFixed(1)} MiB; ` +
    `onnxruntime loaded: ${figures.some((f) => f.onnx)}; sharp/libvips loaded: ${figures.some((f) => f.sharp)}`,
);
