import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import type { ProgressReporter } from './artifacts.ts';
import { isPidAlive } from './processes.ts';
import type { StackLayout } from './settings.ts';
import { waitFor } from './wait.ts';

function tryAcquire(file: string): boolean {
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let holder: number;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  if (Number.isInteger(holder) && holder > 0 && isPidAlive(holder)) return false;
  // Left behind by a run that died: take it over.
  rmSync(file, { force: true });
  return false;
}

/** One `stack up` at a time per stack folder: a second one waits, then finds the services running. */
export async function withStackLock<T>(
  layout: StackLayout,
  report: ProgressReporter,
  work: () => Promise<T>,
): Promise<T> {
  mkdirSync(layout.runDir, { recursive: true });
  const file = join(layout.runDir, 'up.lock');
  if (!tryAcquire(file)) {
    report(`another 'imgpipe stack up' is running (${file}); waiting for it`);
    await waitFor(() => tryAcquire(file), { timeoutMs: 15 * 60_000, intervalMs: 500, what: 'the stack lock' }).catch(
      (error: unknown) => {
        throw new ImgpipeError('STACK_SERVICE_FAILED', (error as Error).message);
      },
    );
  }
  try {
    return await work();
  } finally {
    rmSync(file, { force: true });
  }
}
