import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './seeded-random.ts';

test('the same seed gives the same sequence, another seed another, every value in [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    first,
    Array.from({ length: 1000 }, () => b()),
  );
  assert.notDeepEqual(
    first.slice(0, 10),
    Array.from({ length: 10 }, () => c()),
  );
  assert.ok(first.every((value) => value >= 0 && value < 1));
  // Spread over the interval: each tenth holds about a tenth of 1,000 draws.
  const tenths = Array.from({ length: 10 }, (_, i) => first.filter((v) => v >= i / 10 && v < (i + 1) / 10).length);
  assert.ok(
    tenths.every((count) => count > 60 && count < 140),
    String(tenths),
  );
});

test('mulberry32 as published: the first values for seed 1', () => {
  // Reference: the published mulberry32 (Tommy Ettinger's constants) computed by hand-checked BigInt arithmetic
  // below, independent of the implementation's Math.imul.
  const reference = (seed: number, n: number) => {
    let state = BigInt(seed >>> 0);
    const mask = 0xffffffffn;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5n) & mask;
      let t = state;
      t = ((t ^ (t >> 15n)) * (t | 1n)) & mask;
      t = (t ^ ((t + (((t ^ (t >> 7n)) * (t | 61n)) & mask)) & mask)) & mask;
      out.push(Number((t ^ (t >> 14n)) & mask) / 4294967296);
    }
    return out;
  };
  const ours = seededRandom(1);
  assert.deepEqual(
    Array.from({ length: 5 }, () => ours()),
    reference(1, 5),
  );
});
