import { setFlagsFromString } from 'node:v8';

/**
 * How far a vision stage's old generation may grow between full collections, in percent of what the last one kept.
 *
 * Every imgpipe process starts with `--heap-growing-percent=30` (NODE_RUNTIME_FLAGS in
 * apps/cli/src/node-runtime-flags.ts), which keeps a light process's heap near what it holds. The stages that run the
 * vision engine (preprocess, detect, faces, OCR) promote a few MiB per image, and V8 starts incremental marking as
 * soon as the room left under the limit is smaller than the young generation (8 MiB): 30 % of their 30-MiB heaps left
 * barely more than that, so they were marking nearly all the time (detect: a full collection every second image,
 * 12 ms of main-thread collection per image against 3 at 100 %; docs/scaling.md). V8 reads the flag whenever it
 * sets the next limit, so setting it at start-up takes effect from the next full collection.
 */
export const VISION_STAGE_HEAP_GROWING_PERCENT = 100;

/** Gives this process's old generation the vision stages' room (before the engine loads its models). */
export function giveVisionStageHeapRoom(): void {
  setFlagsFromString(`--heap-growing-percent=${VISION_STAGE_HEAP_GROWING_PERCENT}`);
}
