/**
 * Reusable float32 tensor buffers, per thread. A model input of 3x640x448 floats is 3.4 MB: allocating it fresh
 * for every image costs page faults and GC of external memory (measured about 1 ms of CPU per call on the 2-CPU
 * machine, against 0.1 ms to refill a buffer that is already mapped).
 *
 *   const tensor = borrowFloat32(length);   // contents are undefined: the caller writes every element
 *   ...session.run(...)...
 *   returnFloat32(tensor);                  // only once onnxruntime is done with it
 *
 * A buffer not returned is simply garbage-collected. Buffers are kept per length (model inputs come in a few
 * sizes), at most a few of each, so concurrent calls on one thread (workers = 0) each get their own.
 */
const MAX_KEPT_PER_LENGTH = 4;
const free = new Map<number, Float32Array[]>();

export function borrowFloat32(length: number): Float32Array {
  return free.get(length)?.pop() ?? new Float32Array(length);
}

export function returnFloat32(buffer: Float32Array): void {
  if (buffer.byteOffset !== 0 || buffer.byteLength !== buffer.buffer.byteLength) return;
  let kept = free.get(buffer.length);
  if (!kept) {
    kept = [];
    free.set(buffer.length, kept);
  }
  if (kept.length < MAX_KEPT_PER_LENGTH && !kept.includes(buffer)) kept.push(buffer);
}
