/** Stage handlers used only by the pool's tests. */
import { ImgpipeError } from '@imgpipe/core';
import { threadId } from 'node:worker_threads';

export async function sum(values: number[]): Promise<{ total: number; threadId: number }> {
  return { total: values.reduce((a, b) => a + b, 0), threadId };
}

export async function reverseBytes(bytes: Uint8Array): Promise<Uint8Array> {
  return Uint8Array.from(bytes).reverse();
}

export async function failWith(code: 'IMAGE_CORRUPT' | 'STAGE_TRANSIENT', message: string): Promise<never> {
  throw new ImgpipeError(code, message, { details: { reason: 'test' } });
}

export async function throwPlain(message: string): Promise<never> {
  throw new TypeError(message);
}

/** Ends the thread it runs on, as a native crash would. */
export async function exitThread(): Promise<never> {
  process.exit(3);
}

export async function spin(iterations: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x + i * 31) % 1000003;
  return x;
}
