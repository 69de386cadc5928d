/**
 * V8 flags every imgpipe process runs with: every process startService starts (imgpipe dev, the scenario tests,
 * the benchmarks and the soak) and the container image (the Dockerfile's ENTRYPOINT; a test keeps
 * the two equal). They are node command-line flags, not NODE_OPTIONS, because Node refuses `--no-memory-reducer` there.
 * - A capped young generation: by default V8 grows it to 64 MiB under a burst of allocation (a fault's backlog
 *   arriving as large batches) and gives the memory back only much later, so RSS swings by about 50 MiB with no change
 *   in what the process holds.
 * - No memory reducer: after a quiet spell (every stage waits while a dependency is down) V8 runs extra full
 *   collections that shrink the committed heap, which then grows back over minutes of work. A server with a fixed
 *   memory limit gains nothing from giving pages back briefly; without the reducer the heap changes only under
 *   allocation.
 * - The old generation grows by 30 % of what survives a full collection before the next one (V8 otherwise lets it
 *   grow by up to 4x): without the reducer's extra collections a process would otherwise fill its heap with garbage
 *   for many minutes before its first full collection, and keep that high-water mark as RSS. Full collections come
 *   more often; each takes milliseconds on heaps of this size (docs/deploy.md gives the figures). The vision stages
 *   raise it to 100 % when they start (apps/worker/src/old-generation-growth.ts): at 30 % they were marking nearly
 *   all the time.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--no-memory-reducer',
  '--heap-growing-percent=30',
];
