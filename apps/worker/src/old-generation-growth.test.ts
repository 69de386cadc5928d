import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { VISION_STAGE_HEAP_GROWING_PERCENT } from './old-generation-growth.ts';

// The same allocation in a process started as every imgpipe process is (30 % growth), once as it starts and once
// after giveVisionStageHeapRoom(): a heap that keeps 300,000 small objects while 6 million more pass through a
// window long enough for them to be promoted, so the old generation fills with garbage. Full collections counted
// from the process's own 'gc' performance entries.
const SCRIPT = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { giveVisionStageHeapRoom } from ${JSON.stringify(new URL('./old-generation-growth.ts', import.meta.url).href)};
if (process.argv[1] === 'room') giveVisionStageHeapRoom();
let full = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full += 1;
}).observe({ entryTypes: ['gc'] });
const kept = Array.from({ length: 300_000 }, (_, i) => ({ i, name: 'object ' + i }));
const window = new Array(50_000);
for (let n = 0; n < 6_000_000; n += 1) window[n % window.length] = { n, values: [n, n + 1, n + 2] };
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(JSON.stringify({ full, kept: kept.length }));
`;

function fullCollections(mode: 'as-started' | 'room'): number {
  const run = spawnSync(
    process.execPath,
    [
      '--max-semi-space-size=8',
      '--no-memory-reducer',
      '--heap-growing-percent=30',
      '--input-type=module',
      '-e',
      SCRIPT,
      mode,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  return (JSON.parse(run.stdout) as { full: number }).full;
}

describe('a vision stage gives its old generation more room', () => {
  test('the growth it sets at run time takes effect: fewer full collections for the same garbage', () => {
    assert.ok(VISION_STAGE_HEAP_GROWING_PERCENT > 30);
    const asStarted = fullCollections('as-started');
    const withRoom = fullCollections('room');
    assert.ok(asStarted >= 2, `the allocation should force full collections at 30 % (${asStarted})`);
    assert.ok(withRoom * 1.5 <= asStarted, `full collections: ${withRoom} with room against ${asStarted} as started`);
  });
});
